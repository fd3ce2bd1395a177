#!/usr/bin/env bash
# tte-fetch gpqa FILE: the study's construction of GPQA items from the user's own copy. Checked on
# synthetic GPQA-shaped files (GPQA itself is gated and not shipped): the choice order against
# numpy's RandomState(42).shuffle, the prompt byte for byte, errors, and the whole pipeline on the
# embedded tiny model.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
PY=/usr/bin/python3
"$PY" -c "import numpy" 2>/dev/null || PY=python3

# gpqa_csv OUT N [repeat]: a GPQA-shaped CSV of N rows (the download's columns, pre-revision and
# revised) and, on stdout, the gold letter of each row as the study computes it:
#     rng = np.random.RandomState(42); choices = [correct, inc1, inc2, inc3]; rng.shuffle(choices)
#     letter = "ABCD"[choices.index(correct)]
# With "repeat", some rows repeat an option's text (the study's index() takes the first match).
cat >"$TMP/gen.py" <<'PY'
import csv, sys
import numpy as np
out, n, repeat = sys.argv[1], int(sys.argv[2]), len(sys.argv) > 3
cols = ["Record ID", "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
        "Incorrect Answer 3", "Pre-Revision Question", "Pre-Revision Correct Answer",
        "Pre-Revision Incorrect Answer 1", "Pre-Revision Incorrect Answer 2",
        "Pre-Revision Incorrect Answer 3", "High-level domain", "Subdomain"]
rng, revised_rng = np.random.RandomState(42), np.random.RandomState(7)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for i in range(n):
        pre = [f"right {i}", f"wrong {i} a", f"wrong {i}, b", f"wrong \"{i}\"\nc"]
        if repeat and i % 3 == 0:
            pre[1 + i % 2] = pre[0]          # an incorrect answer with the correct one's text
        if repeat and i % 3 == 1:
            pre[2] = pre[3]                  # two incorrect answers alike
        rev = ["R " + x for x in pre]
        w.writerow([f"rec{i:03d}", f"Revised question {i}?"] + rev +
                   [f"Question {i}: what is x?"] + pre + ["Physics", "Optics"])
        ch = list(pre); rng.shuffle(ch)
        rch = list(rev); revised_rng.shuffle(rch)
        print("ABCD"[ch.index(pre[0])], "ABCD"[rch.index(rev[0])])
PY
"$PY" "$TMP/gen.py" "$TMP/gpqa_diamond.csv" 198 >"$TMP/want"
[ "$(wc -l <"$TMP/want")" = 198 ] || fail "numpy generator"

# The choice order: numpy's legacy shuffle, one generator over the rows in file order.
tte-fetch gpqa "$TMP/gpqa_diamond.csv" >"$TMP/items"
[ "$(wc -l <"$TMP/items")" = 198 ] || fail "198 rows, 198 items"
cmp -s <(cut -d' ' -f1 "$TMP/want") <(jq -r .answer "$TMP/items") || fail "gold letters differ from numpy RandomState(42)"
[ "$(cut -d' ' -f1 "$TMP/want" | sort -u | tr -d '\n')" = ABCD ] || fail "the synthetic file should use every letter"
jq -e -s 'all(.[]; .answer_type == "choice" and (.choices | length) == 4 and
    .choices[.answer | explode[0] - 65] == .meta.answer_text and (.meta.answer_text | startswith("right")) and
    .id == "gpqa/" + (.meta["Record ID"] | ltrimstr("rec") | tonumber | tostring))' "$TMP/items" >/dev/null ||
    fail "items: the gold letter names the correct answer, ids count rows"
# --revised reads the other columns; --shuffle-seed another order.
tte-fetch gpqa "$TMP/gpqa_diamond.csv" --revised --shuffle-seed 7 >"$TMP/revised"
cmp -s <(cut -d' ' -f2 "$TMP/want") <(jq -r .answer "$TMP/revised") || fail "--revised --shuffle-seed 7 differs from numpy"
jq -e -s 'all(.[]; (.problem | startswith("Revised question")) and (.meta.answer_text | startswith("R right")) and
    .meta.columns == "revised" and .meta.shuffle_seed == 7)' "$TMP/revised" >/dev/null || fail "--revised columns"
# The same rows as JSON lines give the same items.
"$PY" -c 'import csv, json, sys
for r in csv.DictReader(open(sys.argv[1], newline="")): print(json.dumps(r))' "$TMP/gpqa_diamond.csv" >"$TMP/gpqa.jsonl"
cmp -s <(jq -c 'del(.id)' "$TMP/items") <(tte-fetch gpqa "$TMP/gpqa.jsonl" | jq -c 'del(.id)') || fail "JSON lines differ from CSV"
# Selection applies after the construction: row 100's order does not depend on --range.
[ "$(tte-fetch gpqa "$TMP/gpqa_diamond.csv" --range 100..101 | jq -c .choices)" = "$(sed -n 101p "$TMP/items" | jq -c .choices)" ] ||
    fail "--range changed a row's choices"

# Options that repeat a text: the gold letter is the first option with the correct answer's text.
"$PY" "$TMP/gen.py" "$TMP/repeat.csv" 30 repeat >"$TMP/want-repeat"
cmp -s <(cut -d' ' -f1 "$TMP/want-repeat") <(tte-fetch gpqa "$TMP/repeat.csv" | jq -r .answer) ||
    fail "repeated options: gold letters differ from the study's choices.index()"
tte-fetch gpqa "$TMP/repeat.csv" | jq -e -s 'map(select([.choices[] | select(startswith("right"))] | length == 2)) |
    length == 10 and all(.[]; .meta.answer_text as $t |
        .answer == ([65 + ([.choices | to_entries[] | select(.value == $t) | .key] | min)] | implode))' \
    >/dev/null || fail "repeated correct text: not the first match"

# The prompt, byte for byte: the study's GPQA text and then the maths instruction its
# prepare_batch_inputs appends to every prompt.
want=$'Question 0: what is x?\n\nChoose from one of the four options below. Give your answer as a single letter: A, B, C, or D. The only answer you can submit is one of A, B, C, or D. Do not submit anything else. \n\n'
want+="$(head -1 "$TMP/items" | jq -r '.choices | to_entries | map("ABCD"[.key:.key+1] + ") " + .value) | join("\n")')"
want+=$'\n\n Please reason step by step, and put your final answer within \\boxed{}\n.'
got=$(head -1 "$TMP/items" | jq -j .prompt; printf x)
[ "${got%x}" = "$want" ] || fail "study prompt: $(head -1 "$TMP/items" | jq .prompt)"
head -1 "$TMP/items" | jq -e '.prompt | contains("D) wrong \"0\"\nc") or contains("C) wrong \"0\"\nc") or
    contains("B) wrong \"0\"\nc") or contains("A) wrong \"0\"\nc")' >/dev/null || fail "a quoted CSV option with a newline"
want=$'Question 0: what is x?\n\n'
want+="$(head -1 "$TMP/items" | jq -r '.choices | to_entries | map("ABCD"[.key:.key+1] + ") " + .value) | join("\n")')"
want+=$'\n\nPlease reason step by step, and put your final answer within \\boxed{}.'
got=$(tte-fetch gpqa "$TMP/gpqa_diamond.csv" --prompt-style plain --limit 1 | jq -j .prompt; printf x)
[ "${got%x}" = "$want" ] || fail "plain prompt"

# Errors: a missing column is named, an empty option is located; usage errors.
"$PY" - "$TMP" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1] + "/gpqa_diamond.csv", newline="")))
h = rows[0]
def write(name, header, body):
    with open(sys.argv[1] + "/" + name, "w", newline="") as f:
        csv.writer(f).writerows([header] + body)
k = h.index("Pre-Revision Incorrect Answer 2")
write("nocol.csv", [c for c in h if c != h[k]], [[v for j, v in enumerate(r) if j != k] for r in rows[1:4]])
pre = [c for c in h if not c.startswith("Pre-Revision")]
write("revonly.csv", pre, [[r[h.index(c)] for c in pre] for r in rows[1:4]])
body = [list(r) for r in rows[1:6]]
body[2][k] = ""
write("empty.csv", h, body)
write("header-only.csv", h, [])
PY
expect_fail 1 'nocol.csv:1: no column "Pre-Revision Incorrect Answer 2"' tte-fetch gpqa "$TMP/nocol.csv"
expect_fail 1 'revonly.csv:1: no column "Pre-Revision Question" \(the file has "Question": --revised' tte-fetch gpqa "$TMP/revonly.csv"
[ "$(tte-fetch gpqa "$TMP/revonly.csv" --revised | wc -l)" = 3 ] || fail "--revised on a file of revised columns only"
# Row 3 starts on line 8: rows have two options that span two lines each.
expect_fail 1 'empty.csv:8: column "Pre-Revision Incorrect Answer 2": empty' tte-fetch gpqa "$TMP/empty.csv"
# --skip-bad: the bad row still takes its shuffle, so the rows after it keep their order.
cmp -s <(tte-fetch gpqa "$TMP/empty.csv" --skip-bad 2>/dev/null | jq -c '{id, choices}') \
       <(head -5 "$TMP/items" | sed 3d | jq -c '{id, choices}') || fail "--skip-bad changed the other rows"
expect_fail 1 'header-only.csv: no rows' tte-fetch gpqa "$TMP/header-only.csv"
printf '{"Pre-Revision Question":"q","Pre-Revision Correct Answer":"a","Pre-Revision Incorrect Answer 1":"b","Pre-Revision Incorrect Answer 2":"c"}\n' >"$TMP/short.jsonl"
expect_fail 1 'short.jsonl:1: no column "Pre-Revision Incorrect Answer 3"' tte-fetch gpqa "$TMP/short.jsonl"
printf '{"Pre-Revision Question":"q","Pre-Revision Correct Answer":"a","Pre-Revision Incorrect Answer 1":"b","Pre-Revision Incorrect Answer 2":"c","Pre-Revision Incorrect Answer 3":"  "}\n' >"$TMP/blank.jsonl"
expect_fail 1 'blank.jsonl:1: column "Pre-Revision Incorrect Answer 3": empty' tte-fetch gpqa "$TMP/blank.jsonl"
touch "$TMP/train.parquet"
expect_fail 1 'train.parquet: parquet is not read' tte-fetch gpqa "$TMP/train.parquet"
expect_fail 1 'nope.csv: No such file' tte-fetch gpqa "$TMP/nope.csv"
expect_fail 2 'gpqa needs the FILE you downloaded' tte-fetch gpqa
expect_fail 2 "--shuffle-seed: '-1' is not an integer" tte-fetch gpqa "$TMP/gpqa_diamond.csv" --shuffle-seed -1
expect_fail 2 '--revised is for gpqa FILE' tte-fetch aime24 --revised
tte-fetch --list | grep -q '^gpqa FILE .*Idavidrein/gpqa.*not ship' || fail "--list: where to get GPQA"

# The whole pipeline on the embedded model: letters are graded and the continuous metric is over
# the four letters.
tte-fetch gpqa "$TMP/gpqa_diamond.csv" --limit 3 | tte-gen --model "$MODEL" --budgets 3..4 -n 1 >"$TMP/gen"
tte-score --model "$MODEL" "$TMP/gen" >"$TMP/scored"
[ "$(wc -l <"$TMP/scored")" = 6 ] || fail "3 items at 2 budgets: $(wc -l <"$TMP/scored") records"
jq -e -s 'all(.[]; .solution_set == "choice:A-D" and .set_size == 4 and (.answer | test("^[A-D]$")) and
    .p_gold >= 0 and .p_gold <= .p_gold_norm and .p_gold_norm <= 1 and .gold_rank >= 1 and .gold_rank <= 4 and
    (.correct == 0 or .correct == 1))' "$TMP/scored" >/dev/null || fail "scored GPQA records: $(head -c 600 "$TMP/scored")"
# Grading takes letters: a final answer (after the forced "\boxed{") that is the gold letter is
# correct, another letter is not.
head -1 "$TMP/gen" | jq -c '.final = .answer + "}"' |
    tte-score --grade-only | jq -e '.correct == 1' >/dev/null || fail "the gold letter is not graded correct"
head -1 "$TMP/gen" | jq -c '.final = (if .answer == "A" then "B" else "A" end) + "}"' |
    tte-score --grade-only | jq -e '.correct == 0' >/dev/null || fail "a wrong letter is graded correct"
echo "tte-fetch-gpqa: ok"
