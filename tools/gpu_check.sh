#!/usr/bin/env bash
# The CUDA engine's proof on a GPU machine, in one command (issue 23): under 8 minutes on one
# H100/H200. Each part prints one JSON line (also appended to $OUT/results.jsonl) with "part" and
# "ok"; a part that fails prints its line with the error and the script goes on to the next. The
# machine needs the CUDA driver and Python with torch and transformers; everything of tte's comes
# from the bundle (make gpu-bundle, carried there) and this checkout's tools/ and src/lib/.
#
#   bash tools/gpu_check.sh [BUNDLE]     BUNDLE: build/gpu-bundle by default
#     OUT          where the results go (default build/gpu-check-out): results.jsonl, gpu_check.log
#                  (every part's stderr), sweep.jsonl (the budget-forcing records)
#     GPU_CHECK_MODEL  where the random-weight 1.5B model is written (default /tmp/tte-gpu-check/r1)
#     GPU_CHECK_PARTS  the parts to run (default: all, in this order):
#                  setup golden build transformers decode throughput sweep metric
#     GPU_CHECK_DEVICE  cuda (default), or cpu for a dry run of the same script where there is no GPU,
#                  e.g. GPU_CHECK_DEVICE=cpu GPU_CHECK_MODEL=share/models/tte-tiny-arith
#                  GPU_CHECK_PARTS="setup golden decode sweep metric" (tests/cli/gpu-bundle.sh does)
#     GPU_CHECK_BUDGETS, GPU_CHECK_TRACE  the sweep's budgets (7..12) and the metric's trace (2048)
#     GPU_CHECK_DEADLINE  seconds for the whole run (default 540): each part's time limit is cut to
#                  what is left, and a part with under 10 s left is reported as not run
#
# Parts:
#   setup         the plug-in loads (with the bundle's libraries; CUDA's from the system or
#                 PyTorch's wheels), else it is rebuilt here with this machine's nvcc
#   golden        the engine's reference goldens on --device cuda (tests/test_engine, engine_cuda)
#   build         tools/gpu_check.py build: the random-weight DeepSeek-R1-Distill-Qwen-1.5B
#   transformers  tools/gpu_check.py compare: log-probs and 32 greedy tokens against transformers
#   decode        batch-1 decode tokens/s (tools/gpu_check.c) against the HBM bound: bytes of weights
#                 per token over the measured copy bandwidth (read side: half of read + write)
#   throughput    decode at batch 64 and 256: tte against transformers' generate, same model
#   sweep         tte-gen's budget-forcing sweep (budgets 2^7..2^12, 8 samples, one AIME item),
#                 the prefix property checked; then tte-score (grades and the continuous metric) on it
#   metric        the 1000-candidate metric after a 2048-token trace, tree and brute force
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUNDLE=$(cd "${1:-build/gpu-bundle}" 2>/dev/null && pwd) || { echo "gpu_check: no bundle ${1:-build/gpu-bundle} (make gpu-bundle)" >&2; exit 2; }
OUT=${OUT:-$ROOT/build/gpu-check-out}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl LOG=$OUT/gpu_check.log
: >"$RESULTS"
: >"$LOG"
MODEL=${GPU_CHECK_MODEL:-/tmp/tte-gpu-check/r1}
case $MODEL in /*) ;; *) MODEL=$ROOT/$MODEL ;; esac
DEVICE=${GPU_CHECK_DEVICE:-cuda}
BUDGETS=${GPU_CHECK_BUDGETS:-7..12} TRACE=${GPU_CHECK_TRACE:-2048}
PARTS=${GPU_CHECK_PARTS:-setup golden build transformers decode throughput sweep metric}
# shellcheck source=/dev/null
source "$BUNDLE/env.sh"
export PYTHONUNBUFFERED=1 TTE_CACHE=/tmp/tte-gpu-check/cache
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)
DEADLINE=${GPU_CHECK_DEADLINE:-540}

# emit PART RC NANOSECONDS OUT ERR: one JSON line for the part, from the last JSON object its
# command printed to OUT (its fields kept, "ok" false when RC is not 0), with the end of its ERR
# when it failed.
emit() {
    python3 - "$@" <<'EOF' | tee -a "$RESULTS"
import json, sys
part, rc, secs, path, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1e9, sys.argv[4], sys.argv[5]
obj = None
try:
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                pass
except OSError:
    pass
out = {"part": part}
if isinstance(obj, dict):
    out.update({k: v for k, v in obj.items() if k != "part"})
out["ok"] = bool(rc == 0 and out.get("ok", True))
if rc != 0 or not out["ok"]:
    out["rc"] = rc
    if rc in (124, 137):
        out["error"] = "timed out"
    if rc == 125:
        out["error"] = "not run: the deadline had passed"
    try:
        tail = [l.rstrip() for l in open(log, errors="replace")][-6:]
        out.setdefault("stderr_tail", tail)
    except OSError:
        pass
out["seconds"] = round(secs, 1)
print(json.dumps(out))
EOF
}

# part NAME TIMEOUT_S FUNCTION: runs FUNCTION (its stdout: JSON lines; stderr: the log) with a time limit.
part() {
    local name=$1 limit=$2 fn=$3
    case " $PARTS " in *" $name "*) ;; *) return 0 ;; esac
    local t0 rc=0 left=$((DEADLINE - ($(date +%s) - START)))
    [ "$left" -lt "$limit" ] && limit=$left
    echo "== $name ($(($(date +%s) - START)) s in, limit $limit s)" >>"$LOG"
    t0=$(date +%s%N)
    if [ "$limit" -lt 10 ]; then
        rc=125
        : >"$WORK/$name.out"
    else
        timeout --kill-after=10 "$limit" bash -c "$(declare -f "$fn" json); $(declare -p ROOT BUNDLE OUT MODEL WORK DEVICE BUDGETS TRACE); $fn" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    fi
    touch "$WORK/$name.err"
    cat "$WORK/$name.err" >>"$LOG"
    emit "$name" "$rc" "$(($(date +%s%N) - t0))" "$WORK/$name.out" "$WORK/$name.err"
}

# json K=V...: a JSON object of numbers, true/false/null and strings (V as given when it parses as JSON).
json() {
    python3 -c '
import json, sys
o = {}
for kv in sys.argv[1:]:
    k, v = kv.split("=", 1)
    try:
        o[k] = json.loads(v)
    except ValueError:
        o[k] = v
print(json.dumps(o))' "$@"
}

setup() {
    local gpu driver nvcc_v plugin=$BUNDLE/bin/libtte-cuda.so how=bundled missing
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
    driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
    nvcc_v=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' | cut -d' ' -f2)
    missing=$(ldd "$plugin" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
    if [ -n "$missing" ]; then
        # CUDA's libraries from PyTorch's wheels (nvidia/*/lib), when the system has none.
        local extra
        extra=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d + "/*/lib/lib*.so*")})))' 2>/dev/null)
        if [ -n "$extra" ]; then
            echo "export LD_LIBRARY_PATH=\"\$LD_LIBRARY_PATH:$extra\"" >>"$BUNDLE/env.sh"
            export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$extra"
            how="bundled, CUDA libraries from PyTorch's wheels"
        fi
        missing=$(ldd "$plugin" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
    fi
    if [ "$DEVICE" != cuda ]; then
        json gpu="${gpu:-none}" device="$DEVICE" plugin="not used on $DEVICE" missing="$missing"
        return 0
    fi
    probe() {
        echo '{"prompt_ids":[1,2,3]}' | tte-gen --model "$TTE_SHARE/models/tte-tiny-arith" --max-tokens 4 --greedy \
            --device cuda --no-cache >"$WORK/probe.out" 2>"$WORK/probe.err"
    }
    if [ -n "$missing" ] || ! probe; then
        echo "setup: the bundled plug-in does not run here ($missing$(tail -1 "$WORK/probe.err" 2>/dev/null)); rebuilding it with nvcc" >&2
        local cuda_home
        cuda_home=$(dirname "$(dirname "$(command -v nvcc)")")
        nvcc -std=c++17 -O2 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80 \
            --Werror all-warnings -Xcompiler -fPIC,-Wall,-Wextra -shared -I"$ROOT/src/lib" -I"$BUNDLE/include" \
            -o "$plugin" "$ROOT/src/lib/engine/cuda.cu" -L"$cuda_home/lib64" -Xlinker -rpath,"$cuda_home/lib64" \
            -lcublas -lcudart >&2 || { json gpu="$gpu" ok=false error="nvcc failed"; return 1; }
        how="rebuilt here with nvcc $nvcc_v"
        probe || { json gpu="$gpu" how="$how" ok=false error="$(tail -1 "$WORK/probe.err")"; return 1; }
    fi
    json gpu="$gpu" driver="$driver" nvcc="$nvcc_v" plugin="$how" probe_ids="$(python3 -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).readline())["ids"]))' "$WORK/probe.out")"
}

golden() {
    cd "$BUNDLE" || return 1
    local filter='engine_cuda/*'
    [ "$DEVICE" = cuda ] || filter='engine_reference/*'
    tests/test_engine --filter "$filter" --jobs 1 --verbose >"$WORK/golden.txt" 2>&1
    local rc=$?
    cat "$WORK/golden.txt" >&2
    local synth
    synth=$(grep -o 'Tested: [0-9]* | Passing: [0-9]* | Failing: [0-9]* | Crashing: [0-9]*' "$WORK/golden.txt" | tail -1)
    local passing
    passing=$(echo "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    json device="$DEVICE" criterion="$synth" skipped="$(grep -c 'SKIP' "$WORK/golden.txt")" \
        failures="$(grep -E 'max \|logit|greedy token' "$WORK/golden.txt" | head -5 | tr '\n' ';' | cut -c1-800)" \
        ok="$([ $rc = 0 ] && [ "${passing:-0}" -ge 1 ] && echo true || echo false)"
    [ $rc = 0 ] && [ "${passing:-0}" -ge 1 ]
}

build() {
    mkdir -p "$(dirname "$MODEL")"
    local tiny=()
    [ "$DEVICE" = cuda ] || tiny=(--tiny) # a dry run on the CPU: the 2-layer model
    python3 "$ROOT/tools/gpu_check.py" build "$MODEL" --device "$DEVICE" "${tiny[@]}"
}

transformers() {
    local tiny=()
    [ "$DEVICE" = cuda ] || tiny=(--tiny-lengths)
    python3 "$ROOT/tools/gpu_check.py" compare "$MODEL" --device "$DEVICE" "${tiny[@]}"
}

decode() {
    local bw dec
    dec=$("$BUNDLE/tests/gpu_check" decode "$MODEL" "$DEVICE" 1 128 | tail -1)
    [ -n "$dec" ] || return 1
    bw=$(python3 "$ROOT/tools/gpu_check.py" bandwidth --device "$DEVICE" | tail -1)
    echo "$dec" >&2
    echo "${bw:-no bandwidth figure}" >&2
    python3 - "${bw:-"{}"}" "$dec" <<'EOF'
import json, sys
bw, dec = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bytes_tok, rate = dec["weight_bytes_per_token"], dec["batches"]["1"]["tokens_s"]
out = {"device": dec["device"], "weight_bytes_per_token": bytes_tok, "tokens_s": rate,
       "forward_tok_s": dec["batches"]["1"]["forward_tok_s"], "engine_create_s": dec["engine_create_s"],
       "target": "batch-1 decode at least 0.75 of the HBM bound"}
if "read_gb_s" in bw:
    bound = bw["read_gb_s"] * 1e9 / bytes_tok
    out.update(gpu=bw["gpu"], copy_gb_s=bw["copy_gb_s"], read_gb_s=bw["read_gb_s"], bound_tok_s=round(bound, 1),
               fraction_of_bound=round(rate / bound, 3), ok=rate >= 0.75 * bound)
else:
    out.update(ok=False, error="no bandwidth figure (tools/gpu_check.py bandwidth failed)")
print(json.dumps(out))
EOF
}

throughput() {
    local ours theirs
    ours=$("$BUNDLE/tests/gpu_check" decode "$MODEL" "$DEVICE" 64,256 32 | tail -1)
    [ -n "$ours" ] || return 1
    echo "$ours" >&2
    theirs=$(python3 "$ROOT/tools/gpu_check.py" generate "$MODEL" --batches 64,256 --steps 32 --device "$DEVICE" | tail -1)
    echo "${theirs:-no transformers figure}" >&2
    python3 - "$ours" "${theirs:-"{}"}" <<'EOF'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {"device": ours["device"], "transformers": theirs.get("transformers"), "torch": theirs.get("torch"),
       "target": "batch 256 at least 5x transformers' generate"}
for b in ("64", "256"):
    t = ours["batches"][b]["tokens_s"]
    out[b] = {"tte_tokens_s": t, "tte_forward_tok_s": ours["batches"][b]["forward_tok_s"]}
    if "batches" in theirs:
        h = theirs["batches"][b]["tokens_s"]
        out[b].update(transformers_tokens_s=h, ratio=round(t / h, 2))
out["ok"] = out["256"].get("ratio", 0) >= 5
if "batches" not in theirs:
    out["error"] = "no transformers figure (tools/gpu_check.py generate failed)"
print(json.dumps(out))
EOF
}

sweep() {
    tte-fetch aime24 --limit 1 >"$WORK/item.jsonl" || return 1
    local t0 t1 t2
    t0=$(date +%s%N)
    tte-gen --model "$MODEL" --budgets "$BUDGETS" -n 8 --no-cache --device "$DEVICE" "$WORK/item.jsonl" >"$OUT/sweep.jsonl" || return 1
    t1=$(date +%s%N)
    tte-score --model "$MODEL" --device "$DEVICE" --no-cache "$OUT/sweep.jsonl" >"$WORK/scored.jsonl" || return 1
    t2=$(date +%s%N)
    python3 - "$OUT/sweep.jsonl" "$WORK/scored.jsonl" "$((t1 - t0))" "$((t2 - t1))" <<'EOF'
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
scored = [json.loads(l) for l in open(sys.argv[2])]
gen_s, score_s = int(sys.argv[3]) / 1e9, int(sys.argv[4]) / 1e9
by = {}
for r in recs:
    by.setdefault((r["id"], r["sample"]), []).append(r)
prefix = all(g[i]["thinking_ids"][: g[i - 1]["budget"]] == g[i - 1]["thinking_ids"]
             for g in (sorted(v, key=lambda r: r["budget"]) for v in by.values()) for i in range(1, len(g))
             if g[i - 1].get("ended") == "budget")
thinking = sum(max(r["thinking_tokens"] for r in v) for v in by.values())
# The continuous metric of each record: p_gold over its solution set (int:0-999 for AIME: 1000 candidates).
valid = all(0 <= r.get("p_gold", -1) <= 1 and math.isfinite(r.get("logp_gold", float("nan"))) for r in scored)
n = 8 * len({r["budget"] for r in recs})  # one item, 8 samples, every budget
print(json.dumps({"ok": len(recs) == n and len(scored) == n and prefix and valid, "records": len(recs),
                  "budgets": sorted({r["budget"] for r in recs}), "prefix_property": prefix,
                  "thinking_tokens": thinking, "tte_gen_s": round(gen_s, 2),
                  "thinking_tokens_s": round(thinking / gen_s, 1), "tte_score_s": round(score_s, 2),
                  "scored": len(scored), "metric_valid": valid,
                  "solution_sets": sorted({r.get("solution_set", "") for r in scored}),
                  "mean_p_gold": sum(r.get("p_gold", 0) for r in scored) / max(len(scored), 1)}))
EOF
}

metric() {
    "$BUNDLE/tests/gpu_check" metric "$MODEL" "$DEVICE" "$TRACE"
}

part setup 150 setup
# setup may have added PyTorch's CUDA libraries to env.sh.
# shellcheck source=/dev/null
source "$BUNDLE/env.sh"
part golden 90 golden
part build 150 build
part transformers 180 transformers
part decode 90 decode
part throughput 150 throughput
part sweep 150 sweep
part metric 90 metric
python3 - "$RESULTS" "$(($(date +%s) - START))" <<'EOF' | tee -a "$RESULTS"
import json, sys
parts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({"part": "summary", "ok": all(p.get("ok") for p in parts), "seconds": int(sys.argv[2]),
                  "passed": [p["part"] for p in parts if p.get("ok")],
                  "failed": [p["part"] for p in parts if not p.get("ok")]}))
EOF
