# A CLI fuzz test: every tool fed mutated records made from the tools' own outputs (bytes flipped,
# deleted or inserted, lines cut short, dropped or repeated, fields given the wrong type, an
# extreme value or invalid UTF-8, fields removed), with a fixed seed. The promise checked on each
# run: exit 0 or 1; on 1, one error line on stderr, "tte-TOOL: ...", and at most one located line
# ("FILE:LINE: ..."); no crash (no signal, no sanitizer report: run it with BIN=build-san/bin too);
# within 60 s; and an output file that -o names, there before the run, is untouched when the run
# fails, with no temporary file left beside it.
#
#   FUZZ_CLI_CASES=N (per tool and options, default 24)  FUZZ_CLI_SEED=S (default 1)
#   FUZZ_CLI_MODEL=0: leave out the runs that load the model (tte-gen, tte-score --model), as
#   `make valgrind-quick` does: the engine is slow under valgrind, and its unit tests cover it there.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
CASES=${FUZZ_CLI_CASES:-24}
SEED=${FUZZ_CLI_SEED:-1}

# The real records: items, generations, scored records, fits; a CSV and a JSON array of the items.
# (Made by the tools themselves, not through TTE_WRAP: these runs are not the test.)
"$BIN/tte-fetch" arith --count 2 --seed 0 >"$TMP/items.jsonl"
"$BIN/tte-gen" --model "$MODEL" --budgets 3..4 -n 2 "$TMP/items.jsonl" >"$TMP/gen.jsonl"
"$BIN/tte-score" --model "$MODEL" "$TMP/gen.jsonl" >"$TMP/scored.jsonl"
"$BIN/tte-fit" "$TMP/scored.jsonl" >"$TMP/fits.jsonl"
/usr/bin/python3 - "$TMP/items.jsonl" "$TMP/items.csv" "$TMP/items.json" <<'PY'
import csv, json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "problem", "answer"])
    for it in items:
        w.writerow([it["id"], it["problem"], it["answer"]])
json.dump([{"id": it["id"], "problem": it["problem"], "answer": it["answer"]} for it in items], open(sys.argv[3], "w"))
PY

# mutate SEED IN OUT: one mutation of IN, chosen and made by SEED; prints what it did.
cat >"$TMP/mutate.py" <<'PY'
import json, random, sys
seed, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(seed)
data = open(src, "rb").read()
BYTES = [b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\n",
         b"\r", b"0", b"9", b"-", b".", b"e", b"a", b" ", b"\\u0000", b"\\ud800", b"%"]
BAD = [None, True, False, "", "x", "\u0000", "\udcff", 0, -1, -0.0, 1.5, 1e308, -1e308, 2**63, -(2**63) - 1,
       10**400, [], {}, [None], ["a", 1], {"a": {}}, "x" * 5000, "1" * 400, "NaN", "1e999", "-",
       "99999999999999999999", "../../etc/passwd"]

def mutate():
    global data
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    kind = rng.randrange(11)
    what = "lines %s" % ["", "", "", "cut", "dropped, repeated or moved", "replaced", "unchanged"][min(kind, 6)]
    if kind == 0 and data:  # a byte replaced
        p = rng.randrange(len(data))
        data = data[:p] + rng.choice(BYTES) + data[p + 1:]
        return "byte %d replaced" % p
    if kind == 1 and data:  # bytes deleted
        p = rng.randrange(len(data))
        data = data[:p] + data[p + rng.randint(1, 8):]
        return "bytes at %d deleted" % p
    if kind == 2:  # bytes inserted
        p = rng.randrange(len(data) + 1)
        data = data[:p] + b"".join(rng.choice(BYTES) for _ in range(rng.randint(1, 4))) + data[p:]
        return "bytes inserted at %d" % p
    if kind == 3 and lines:  # a line cut short
        i = rng.randrange(len(lines))
        lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
    elif kind == 4 and lines:  # a line dropped, repeated or moved
        i = rng.randrange(len(lines))
        op = rng.randrange(3)
        if op == 0:
            lines.pop(i)
        elif op == 1:
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
        else:
            lines.insert(rng.randrange(len(lines)), lines.pop(i))
    elif kind == 5:  # not records at all
        lines[:] = [rng.choice([b"", b" ", b"[]", b"1", b"null", b'"x"', b"{}", b"{", b"\xff\xfe", b"\x00"])]
    elif kind >= 6 and lines:  # a field of a record: wrong type, extreme value, removed, renamed
        i = rng.randrange(len(lines))
        try:
            rec = json.loads(lines[i])
        except ValueError:
            return "line %d not JSON" % (i + 1)
        if not isinstance(rec, dict) or not rec:
            return "line %d is not an object" % (i + 1)
        obj = rec
        key = rng.choice(list(obj))
        # one level down now and then: points, fits, meta
        if isinstance(obj[key], dict) and obj[key] and rng.random() < 0.5:
            obj = obj[key]
            key = rng.choice(list(obj))
        elif isinstance(obj[key], list) and obj[key] and rng.random() < 0.5:
            lst = obj[key]
            j = rng.randrange(len(lst))
            if isinstance(lst[j], dict) and lst[j]:
                obj = lst[j]
                key = rng.choice(list(obj))
            else:
                lst[j] = rng.choice(BAD)
                key = None
        if key is not None:
            op = rng.randrange(6)
            if op == 0:
                del obj[key]
            elif op == 1:
                obj[key + "_"] = obj.pop(key)
            else:
                obj[key] = rng.choice(BAD)
        lines[i] = json.dumps(rec, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        what = "line %d field %r" % (i + 1, key)
    data = b"\n".join(lines) + (b"\n" if lines and rng.random() < 0.8 else b"")
    return what

what = [mutate() for _ in range(rng.choice([1, 1, 1, 2, 3]))]
open(dst, "wb").write(data)
print("; ".join(what))
PY

# check NAME CASE WHAT EXPECT_O CMD...: run CMD (stdin from /dev/null) and check the promise.
# EXPECT_O: the -o file the command writes, or "" when it takes none.
check() {
    local name=$1 case=$2 what=$3 out=$4; shift 4
    local status=0
    timeout 60 "$@" >"$TMP/stdout" 2>"$TMP/stderr" </dev/null || status=$?
    local where="$name case $case ($what)"
    if grep -qE 'Sanitizer|runtime error:|Assertion|Segmentation|core dumped|LeakSanitizer' "$TMP/stderr"; then
        fail "$where: $(head -c 600 "$TMP/stderr")"
    fi
    [ "$status" = 0 ] || [ "$status" = 1 ] || fail "$where: exit status $status: $(head -c 600 "$TMP/stderr")"
    if [ "$status" = 1 ]; then
        local errors located
        errors=$(grep -c "^${name}: " "$TMP/stderr" || true)
        located=$(grep -cE "^${name}: .*:[0-9]+: " "$TMP/stderr" || true)
        [ "$errors" -ge 1 ] || fail "$where: exit 1 without a '$name: ' line: $(head -c 600 "$TMP/stderr")"
        [ "$located" -le 1 ] || fail "$where: $located located lines: $(head -c 600 "$TMP/stderr")"
        tail -n 1 "$TMP/stderr" | grep -q "^${name}: " ||
            fail "$where: the last stderr line is not the error: $(tail -c 300 "$TMP/stderr")"
        if [ -n "$out" ]; then
            cmp -s "$out" "$TMP/precious" || fail "$where: failed, and replaced its -o file"
        fi
    fi
    if [ -n "$out" ]; then
        [ "$(find "$(dirname "$out")" -mindepth 1 | wc -l)" = 1 ] ||
            fail "$where: left files beside its -o file: $(ls "$(dirname "$out")")"
    fi
    [ "$status" = 0 ] && runs_ok=$((runs_ok + 1)) || runs_failed=$((runs_failed + 1))
}

printf 'a precious earlier output\n' >"$TMP/precious"
runs_ok=0 runs_failed=0
mkdir -p "$TMP/o"
# tool, input (a real output), what the input is given as, the command's options.
while read -r name input ext options; do
    [ "${FUZZ_CLI_MODEL:-1}" != 0 ] || [[ $options != *MODEL* ]] || continue
    for ((k = 0; k < CASES; k++)); do
        seed=$((SEED * 100003 + k * 7919 + ${#name} * 31 + ${#input}))
        bad=$TMP/bad.$ext
        what=$(/usr/bin/python3 "$TMP/mutate.py" "$seed" "$TMP/$input" "$bad")
        out=
        if ((k % 2)); then # every other run writes with -o over an earlier output
            rm -rf "$TMP/o" && mkdir "$TMP/o" && cp "$TMP/precious" "$TMP/o/out"
            out=$TMP/o/out
        fi
        # shellcheck disable=SC2086 # options holds several words
        check "$name" "$k" "$input: $what" "$out" "$name" ${options//MODEL/$MODEL} ${out:+-o "$out"} "$bad"
    done
done <<'LIST'
tte-fetch items.jsonl jsonl
tte-fetch items.csv csv
tte-fetch items.json json
tte-gen items.jsonl jsonl --model MODEL --budgets 3..4 -n 1
tte-score gen.jsonl jsonl --model MODEL
tte-score gen.jsonl jsonl --grade-only
tte-score scored.jsonl jsonl --grade-only --grader qwen
tte-fit scored.jsonl jsonl
tte-fit scored.jsonl jsonl --bootstrap 20
tte-plot fits.jsonl jsonl
tte-plot fits.jsonl jsonl --figure items
tte-plot fits.jsonl jsonl --figure passk
LIST
echo "fuzz-cli: ok ($runs_ok runs exited 0, $runs_failed exited 1 as promised)"
