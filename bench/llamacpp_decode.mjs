// Times llama.cpp (through node-llama-cpp's prebuilt CPU libraries) on a GGUF file: prefill of a
// PREFILL-token prompt (default 128) and greedy batch-1 decode, the same workload as
// bench/engine_bench.c.
//   NODE_LLAMA_CPP_DIR=DIR node bench/llamacpp_decode.mjs MODEL.gguf THREADS [PREFILL]
// (DIR: where node-llama-cpp is installed, DIR/node_modules/node-llama-cpp)
// Prints one JSON line.
import {createRequire} from "node:module";
import path from "node:path";

const require = createRequire(path.resolve(process.env.NODE_LLAMA_CPP_DIR ?? ".", "x.js"));
const {getLlama} = await import(require.resolve("node-llama-cpp"));
const [modelPath, threadsArg, prefillArg] = process.argv.slice(2);
const threads = Number(threadsArg ?? 2), prefillTokens = Number(prefillArg ?? 128);
const vocab = 151936;

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
let t0 = performance.now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadS = (performance.now() - t0) / 1000;
const contextSize = Math.max(512, prefillTokens + 32);
const context = await model.createContext({contextSize, batchSize: contextSize, threads, sequences: 1});
const seq = context.getSequence();

// Warm-up (pages the weights in), then the prefill timed on its own.
const prompt = Array.from({length: prefillTokens}, (_, i) => (i * 31) % vocab);
await seq.evaluateWithoutGeneratingNewTokens(prompt.slice(0, 16));
seq.eraseContextTokenRanges([{start: 0, end: seq.nextTokenIndex}]);
t0 = performance.now();
await seq.evaluateWithoutGeneratingNewTokens(prompt);
const prefill = prefillTokens / ((performance.now() - t0) / 1000);
seq.eraseContextTokenRanges([{start: 0, end: seq.nextTokenIndex}]);

// Greedy decode after a 16-token prompt: 17 steps, the first excluded as in engine_bench.
const steps = 16;
let n = 0, start = 0;
for await (const token of seq.evaluate(prompt.slice(0, 16), {temperature: 0})) {
    void token;
    if (n === 0) start = performance.now();
    if (++n > steps) break;
}
const decode = steps / ((performance.now() - start) / 1000);
console.log(JSON.stringify({engine: "llama.cpp via node-llama-cpp", threads, load_s: +loadS.toFixed(3),
    prefill_tokens: prefillTokens, prefill_tok_s: +prefill.toFixed(2), decode_tok_s_batch1: +decode.toFixed(3)}));
await context.dispose();
await model.dispose();
