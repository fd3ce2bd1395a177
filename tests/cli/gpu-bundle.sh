#!/usr/bin/env bash
# tools/gpu_bundle.sh (make gpu-bundle, issue 23): the bundle of the tools in $BIN holds every
# shared library they load apart from glibc's, the compiler runtime's and CUDA's, so that with only
# the bundle on the library path `ldd` resolves nothing elsewhere; and the bundled tools run from it
# (tte-fetch, tte-gen on the embedded model on the CPU, tte-score), with the bundle's share/; and
# tools/gpu_check.sh's parts that need no GPU run with it on the CPU.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tests=()
# The engine's test binary beside the tools' build, when it is built (make gpu-bundle builds it).
for t in "$BIN/../tests/test_engine" "$BIN/../build/tests/test_engine"; do
    [ -x "$t" ] && tests+=("$t") && break
done
for t in "$BIN/../gpu_check" "$BIN/../build/gpu_check"; do
    [ -x "$t" ] && tests+=("$t") && break
done
bash "$ROOT/tools/gpu_bundle.sh" "$TMP/bundle" "$BIN" "${tests[@]}" 2>"$TMP/bundle.log" ||
    fail "gpu_bundle.sh: $(cat "$TMP/bundle.log")"
B=$TMP/bundle
for f in env.sh MANIFEST bin/tte-gen bin/tte-score bin/tte-fetch bin/tte-fit bin/tte-plot share/models/tte-tiny-arith/config.json \
    include/jansson.h; do
    [ -e "$B/$f" ] || fail "the bundle lacks $f"
done
[ ! -e "$BIN/libtte-cuda.so" ] || [ -e "$B/bin/libtte-cuda.so" ] || fail "the bundle lacks libtte-cuda.so"
size=$(du -sm "$B" | cut -f1)
# Under the device tool's 64 MiB (the sanitizer build's tools, twice the size, are never carried).
compgen -G "$B/lib/libasan.so*" >/dev/null || [ "$size" -lt 64 ] || fail "the bundle is $size MiB, over 64"

# With only the bundle's lib/ on the library path, every library resolves inside the bundle except
# these (glibc, the compiler runtime, CUDA and the driver, which the GPU machine has).
allowed='^(linux-vdso\.so|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libgcc_s\.so|libstdc\+\+\.so|libcudart\.so|libcublas\.so|libcublasLt\.so|libcuda\.so)'
checked=0
for f in "$B"/bin/* "$B"/tests/* "$B"/lib/*; do
    [ -f "$f" ] && head -c 4 "$f" | grep -q ELF || continue
    LD_LIBRARY_PATH=$B/lib ldd "$f" >"$TMP/ldd" 2>&1 || fail "ldd $f: $(cat "$TMP/ldd")"
    while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        [ "$path" != "not" ] || fail "$f: $name not found with only the bundle on the library path"
        case "$path" in "$B"/lib/*) continue ;; esac
        [[ $name =~ $allowed ]] || fail "$f: $name resolves outside the bundle, to $path"
    done <"$TMP/ldd"
    checked=$((checked + 1))
done
[ "$checked" -ge 5 ] || fail "only $checked ELF files checked"

# The bundled tools run from the bundle (in a clean environment: its env.sh, no repository paths).
run() { env -i HOME="$TMP" PATH=/usr/bin:/bin TTE_CACHE="$TMP/cache" bash -c "source '$B/env.sh' && $1"; }
run 'tte-fetch arith --count 2 --seed 0' >"$TMP/items" || fail "bundled tte-fetch did not run"
[ "$(wc -l <"$TMP/items")" = 2 ] || fail "bundled tte-fetch: $(cat "$TMP/items")"
run "tte-gen --model \"\$TTE_SHARE/models/tte-tiny-arith\" --budgets 3..4 --greedy --no-cache --device cpu <'$TMP/items'" \
    >"$TMP/gen" 2>"$TMP/gen.err" || fail "bundled tte-gen: $(cat "$TMP/gen.err")"
[ "$(wc -l <"$TMP/gen")" = 4 ] || fail "bundled tte-gen: 2 items x 2 budgets, got $(wc -l <"$TMP/gen") records"
# The same records as the tools of $BIN give.
tte-gen --model "$ROOT/share/models/tte-tiny-arith" --budgets 3..4 --greedy --no-cache --device cpu \
    <"$TMP/items" >"$TMP/gen.ref"
cmp -s "$TMP/gen" "$TMP/gen.ref" || fail "the bundled tte-gen wrote other records than $BIN/tte-gen"
run "tte-score --model \"\$TTE_SHARE/models/tte-tiny-arith\" --no-cache <'$TMP/gen'" >"$TMP/score" 2>"$TMP/score.err" ||
    fail "bundled tte-score: $(cat "$TMP/score.err")"
[ "$(wc -l <"$TMP/score")" = 4 ] || fail "bundled tte-score: $(cat "$TMP/score.err")"
# The tools ask for the plug-in only on --device cuda; here (no GPU) it must fail with a message, not crash.
if [ -e "$B/bin/libtte-cuda.so" ] && [ ! -e /dev/nvidiactl ]; then
    status=0
    run "tte-gen --model \"\$TTE_SHARE/models/tte-tiny-arith\" --max-tokens 2 --device cuda <'$TMP/items'" \
        >/dev/null 2>"$TMP/cuda.err" || status=$?
    [ "$status" != 0 ] && [ "$status" -lt 128 ] || fail "tte-gen --device cuda without a GPU: exit $status"
    # This message comes from the plug-in's cuda_create: it was found, loaded (every symbol resolved) and ran.
    grep -q "no CUDA GPU found" "$TMP/cuda.err" || fail "tte-gen --device cuda without a GPU: $(cat "$TMP/cuda.err")"
    if [ -x "$B/tests/gpu_check" ]; then
        run "gpu_check_bin=\$TTE_BUNDLE/tests/gpu_check; \$gpu_check_bin decode \$TTE_SHARE/models/tte-tiny-arith cuda 1 2" \
            >/dev/null 2>"$TMP/cuda.err" || true
        grep -q "no CUDA GPU found" "$TMP/cuda.err" || fail "bundled gpu_check on cuda (TTE_CUDA_LIB): $(cat "$TMP/cuda.err")"
    fi
fi
# The plug-in calls back into libtte (tte_model_config, ...): every program that may load it exports
# all of them (-rdynamic, and the archive members linked in).
if [ -e "$B/bin/libtte-cuda.so" ]; then
    nm -D --undefined-only "$B/bin/libtte-cuda.so" | awk '$2 ~ /^tte_/ {print $2}' | sort -u >"$TMP/needs"
    [ -s "$TMP/needs" ] || fail "the plug-in uses no tte_ symbol?"
    for f in "$B"/bin/tte-gen "$B"/bin/tte-score "$B"/tests/*; do
        [ -f "$f" ] || continue
        nm -D --defined-only "$f" | awk '{print $3}' | sort -u >"$TMP/has"
        missing=$(comm -23 "$TMP/needs" "$TMP/has" | tr '\n' ' ')
        [ -z "$missing" ] || fail "$f does not export what the CUDA plug-in calls: $missing"
    done
fi
# tools/gpu_check.c's decode and metric modes, on the CPU here.
if [ -x "$B/tests/gpu_check" ]; then
    run "gpu_check() { \"\$TTE_BUNDLE/tests/gpu_check\" \"\$@\"; }; m=\$TTE_SHARE/models/tte-tiny-arith;
         gpu_check decode \$m cpu 1,2 4 && gpu_check metric \$m cpu 64" >"$TMP/check" 2>&1 ||
        fail "bundled gpu_check: $(cat "$TMP/check")"
    jq -e -s 'length == 2 and .[0].batches["2"].tokens_s > 0 and .[1].tree_logprobs_valid' "$TMP/check" >/dev/null ||
        fail "bundled gpu_check: $(cat "$TMP/check")"
fi
# The engine's tests run from the bundle's root (tests/fixtures/models by relative path), on the CPU here.
if [ -x "$B/tests/test_engine" ]; then
    run "cd '$B' && tests/test_engine --filter 'engine_reference/qwen2_f32' --jobs 1" >"$TMP/unit" 2>&1 ||
        fail "bundled test_engine: $(tail -5 "$TMP/unit")"
fi
# tools/gpu_check.sh and .py: they parse, and the script's parts that need no GPU and no PyTorch run
# on the CPU with this bundle (a dry run), each with its one JSON line.
bash -n "$ROOT/tools/gpu_check.sh" || fail "tools/gpu_check.sh does not parse"
python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
    "$ROOT/tools/gpu_check.py" "$TMP/gpu_check.pyc" || fail "tools/gpu_check.py does not compile"
if [ -x "$B/tests/gpu_check" ]; then
    parts="setup sweep metric"
    [ -x "$B/tests/test_engine" ] && parts="setup golden sweep metric"
    OUT=$TMP/check-out GPU_CHECK_DEVICE=cpu GPU_CHECK_MODEL=$ROOT/share/models/tte-tiny-arith GPU_CHECK_BUDGETS=3..5 \
        GPU_CHECK_TRACE=256 GPU_CHECK_PARTS="$parts" bash "$ROOT/tools/gpu_check.sh" "$B" >"$TMP/check.out" 2>&1 || true
    jq -e -s --arg parts "$parts summary" 'map(.part) == ($parts | split(" ")) and all(.[]; .ok)' "$TMP/check.out" \
        >/dev/null || fail "tools/gpu_check.sh dry run on the CPU: $(cat "$TMP/check.out")"
    cmp -s "$TMP/check.out" "$TMP/check-out/results.jsonl" || fail "gpu_check.sh: results.jsonl is not what it printed"
fi
echo "gpu-bundle: ok ($size MiB, $checked ELF files checked; $(cd "$B/lib" && echo *))"
