# Sourced by the demos (tools/demo.sh, tools/demo_search.sh): the tools on PATH, the embedded
# policy, the output folder, and stage.
export PATH="$PWD/bin:$PATH" TTE_SHARE="$PWD/share"
MODEL=share/models/tte-tiny-arith
OUT=demo
mkdir -p "$OUT"

# stage FILE CMD...: run CMD with stdout to FILE, atomically (an interrupted demo leaves no half file).
stage() {
    local file=$1; shift
    "$@" >"$file.tmp"
    mv "$file.tmp" "$file"
}
