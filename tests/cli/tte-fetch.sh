# tte-fetch as a user runs it: built-in datasets, user files, selection, bad input.
source "$(dirname "$0")/common.bash"

# Every built-in dataset: its item count, and every record has the item fields.
while read -r name count; do
    got=$(tte-fetch "$name" | jq -c 'select(.id and .dataset and .problem and .answer and .answer_type and .prompt)' | wc -l)
    [ "$got" = "$count" ] || fail "$name: $got complete items, want $count"
done <<'LIST'
aime24 30
aime25 30
aime26 30
amc23 40
math500 500
gsm8k 1319
minerva 272
olympiadbench 675
mmlu-stem 3018
arc-challenge 1172
LIST
[ "$(tte-fetch --list | wc -l)" = 12 ] || fail "--list"

# The synthetic arith set: reproducible per seed, answers and solutions that add up.
[ "$(tte-fetch arith --count 50 | md5sum)" = "$(tte-fetch arith --count 50 | md5sum)" ] || fail "arith not reproducible"
[ "$(tte-fetch arith --count 50 --seed 1 | md5sum)" != "$(tte-fetch arith --count 50 | md5sum)" ] || fail "arith seed ignored"
tte-fetch arith --count 200 --terms 3..5 | jq -e -s 'all(.[];
    (.problem | ltrimstr("What is ") | rtrimstr("?") | split("+") | map(tonumber)) as $n
    | ($n | add | tostring) == .answer
      and ($n | length) == .meta.terms and .meta.terms >= 3 and .meta.terms <= 5
      and (.meta.solution | rtrimstr("\n") | split("\n") | last) == "+\($n[-1])=\(.answer)")' >/dev/null ||
    fail "arith items"
[ "$(tte-fetch arith --count 7 | jq -r .answer_type | sort -u)" = integer ] || fail "arith answer type"
expect_fail 2 "--terms: '0' is not an integer" tte-fetch arith --terms 0..3
# Options of one kind of source are refused by the others, not ignored (issue 21.15: aime24 --count 5
# gave 30 items).
expect_fail 2 "--count is for the arith set \\(the first N items of another: --limit N\\)" tte-fetch aime24 --count 5
expect_fail 2 "--seed is for the arith set" tte-fetch math500 --seed 3
expect_fail 2 "--terms is for the arith set" tte-fetch "$TMP/none.jsonl" --terms 2..3
expect_fail 2 "--problem-field is for user files" tte-fetch aime24 --problem-field q
expect_fail 2 "--choices-field is for user files" tte-fetch arith --choices-field c
expect_fail 2 "--dataset is for user files and gpqa FILE" tte-fetch gsm8k --dataset x
expect_fail 2 "--shuffle-seed is for gpqa FILE" tte-fetch mmlu-stem --shuffle-seed 1

# Spot checks against the source files.
[ "$(tte-fetch aime24 --limit 1 | jq -r '[.id,.answer,.answer_type]|join(" ")')" = "aime24/0 204 integer" ] || fail aime24
[ "$(tte-fetch gsm8k --limit 1 | jq -r .answer)" = 18 ] || fail "gsm8k answer after ####"
[ "$(tte-fetch math500 --limit 1 | jq -r .answer)" = '\left( 3, \frac{\pi}{2} \right)' ] || fail math500
[ "$(tte-fetch amc23 --limit 1 | jq -r .answer)" = 27 ] || fail "amc23: 27.0 is written 27"
[ "$(tte-fetch mmlu-stem --limit 1 | jq -r '.answer + " " + (.choices|length|tostring)')" = "C 4" ] || fail mmlu
[ "$(tte-fetch arc-challenge --limit 1 | jq -r .answer)" = C ] || fail arc
[ "$(tte-fetch minerva --range 1..2 | jq -r .answer)" = '4.5e33' ] || fail "minerva boxed answer"
[ "$(tte-fetch olympiadbench --limit 1 | jq -r .answer)" = 2 ] || fail olympiadbench

# The study's prompts, byte for byte.
want=$'P\n\n\n The answer is an integer between 0 and 999 inclusive. Give all answers as 3 digit numbers. For example, if the answer is 7 your final answer should be 007. If the answer is 45 your final answer should be 045. If the answer is 123 your final answer should be 123.\n\n Please reason step by step, and put your final answer within \\boxed{}\n.'
got=$(tte-fetch aime24 --limit 1 | jq -r '"P" + .prompt[(.problem|length):]')
[ "$got" = "$want" ] || fail "AIME prompt: $got"
tte-fetch arc-challenge --limit 1 | jq -e '.prompt | endswith("Do not submit anything else. \n\nA) Planetary density will decrease.\nB) Planetary years will become longer.\nC) Planetary days will become shorter.\nD) Planetary gravity will become stronger.")' >/dev/null || fail "MCQ prompt"
tte-fetch math500 --limit 1 --prompt-style plain | jq -e '.prompt | endswith("$0 \\le \\theta < 2 \\pi.$\n\nPlease reason step by step, and put your final answer within \\boxed{}.")' >/dev/null || fail "plain prompt"

# Selection: range, shard, limit, shuffle.
[ "$(tte-fetch gsm8k --range 10..13 | jq -r .id | tr '\n' ' ')" = "gsm8k/10 gsm8k/11 gsm8k/12 " ] || fail range
a=$(tte-fetch math500 --shard 0/3 | wc -l); b=$(tte-fetch math500 --shard 1/3 | wc -l); c=$(tte-fetch math500 --shard 2/3 | wc -l)
[ "$((a + b + c))" = 500 ] || fail "shards do not cover the set"
[ "$(cat <(tte-fetch math500 --shard 0/3) <(tte-fetch math500 --shard 1/3) <(tte-fetch math500 --shard 2/3) | jq -r .id | sort -u | wc -l)" = 500 ] || fail "shards overlap"
[ "$(tte-fetch aime24 --shuffle 7 | jq -r .id | md5sum)" = "$(tte-fetch aime24 --shuffle 7 | jq -r .id | md5sum)" ] || fail "shuffle not reproducible"
[ "$(tte-fetch aime24 --shuffle 7 | jq -r .id | md5sum)" != "$(tte-fetch aime24 | jq -r .id | md5sum)" ] || fail "shuffle did nothing"
[ "$(tte-fetch aime24 --shuffle 7 | jq -r .id | sort | md5sum)" = "$(tte-fetch aime24 | jq -r .id | sort | md5sum)" ] || fail "shuffle lost items"
[ "$(tte-fetch aime24 --limit 4 | wc -l)" = 4 ] || fail limit

# User files in the three formats.
printf '{"q":"What is 2+2?","a":4}\n{"q":"Name x.","a":"\\\\frac{1}{2}"}\n' > "$TMP/mine.jsonl"
[ "$(tte-fetch "$TMP/mine.jsonl" --problem-field q --answer-field a | jq -r '[.id,.answer,.answer_type]|join(" ")' | tr '\n' ';')" = 'mine/0 4 integer;mine/1 \frac{1}{2} latex;' ] || fail "user jsonl"
printf '[{"q":"Pick","opts":["x","y","z"],"a":"(B)"}]' > "$TMP/mc.json"
[ "$(tte-fetch "$TMP/mc.json" --problem-field q --answer-field a --choices-field opts | jq -r '.answer+.answer_type')" = Bchoice ] || fail "user json"
printf 'question,answer,id\n"Line one,\nline two",7,first\nSecond,3.5,second\n' > "$TMP/set.csv"
[ "$(tte-fetch "$TMP/set.csv" --problem-field question | jq -r '[.id,.answer,.answer_type]|join(" ")' | tr '\n' ';')" = 'set/0 7 integer;set/1 3.5 number;' ] || fail "user csv"
[ "$(tte-fetch "$TMP/set.csv" --problem-field question --id-field id | jq -r .id | tr '\n' ' ')" = "first second " ] || fail "--id-field"
[ "$(tte-fetch - --problem-field q --answer-field a < "$TMP/mine.jsonl" | wc -l)" = 2 ] || fail "stdin"

# Bad input: one line naming file, line and field; exit 1; nothing written for the bad record.
printf '{"q":"ok","a":1}\n{"q":"no answer"}\n' > "$TMP/bad.jsonl"
expect_fail 1 "bad.jsonl:2: field \"a\": missing" tte-fetch "$TMP/bad.jsonl" --problem-field q --answer-field a
[ ! -s "$TMP/out" ] || fail "output written before a bad record"
[ "$(tte-fetch "$TMP/bad.jsonl" --problem-field q --answer-field a --skip-bad 2>"$TMP/err" | wc -l)" = 1 ] || fail "--skip-bad"
grep -q "skipped 1 bad record" "$TMP/err" || fail "--skip-bad count"
printf '{"q":"ok","a":1}\n{"q":\n' > "$TMP/trunc.jsonl"
expect_fail 1 "trunc.jsonl:2: invalid JSON" tte-fetch "$TMP/trunc.jsonl" --problem-field q --answer-field a
printf 'question,answer\n"unterminated,1\n' > "$TMP/bad.csv"
expect_fail 1 "bad.csv:[0-9]+: CSV" tte-fetch "$TMP/bad.csv" --problem-field question
printf 'question,answer\nA question,\n' > "$TMP/empty.csv"
expect_fail 1 "empty.csv:2: field \"answer\"" tte-fetch "$TMP/empty.csv" --problem-field question
# CSV bytes (issue 21.2): bytes that are not UTF-8 and NUL bytes are located errors, not dropped
# fields or cut ones; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is skipped.
printf 'problem,answer\nfine,1\n"caf\xe9",7\n' > "$TMP/latin1.csv"
expect_fail 1 'latin1.csv:3: CSV: column "problem": byte 0xE9 is not UTF-8' tte-fetch "$TMP/latin1.csv"
printf 'problem,answer\n"two\nlines \xff",7\n' > "$TMP/multiline.csv"
expect_fail 1 'multiline.csv:3: CSV: column "problem": byte 0xFF' tte-fetch "$TMP/multiline.csv"
printf 'problem,answer\nq,\xe97\n' > "$TMP/badanswer.csv"
expect_fail 1 'badanswer.csv:2: CSV: column "answer": byte 0xE9' tte-fetch "$TMP/badanswer.csv"
printf 'prob\xe9lem,answer\nq,7\n' > "$TMP/badheader.csv"
expect_fail 1 'badheader.csv:1: CSV: header, column 1: byte 0xE9' tte-fetch "$TMP/badheader.csv"
printf 'problem,answer\n"a\0b",7\n' > "$TMP/nul.csv"
expect_fail 1 'nul.csv:2: CSV: column "problem": a NUL byte' tte-fetch "$TMP/nul.csv"
printf '\xef\xbb\xbfproblem,answer\nWhat is 1+1?,2\n' > "$TMP/bom.csv"
[ "$(tte-fetch "$TMP/bom.csv" | jq -r '.problem + "=" + .answer')" = "What is 1+1?=2" ] || fail "CSV with a BOM"
printf '\xef\xbb\xbf"problem",answer\nq,2\n' > "$TMP/bomq.csv"
[ "$(tte-fetch "$TMP/bomq.csv" | jq -r .problem)" = q ] || fail "CSV with a BOM and a quoted first column"
printf 'problem,answer\n"caf\xc3\xa9 \xe2\x82\xac",7\n' > "$TMP/utf8.csv"
[ "$(tte-fetch "$TMP/utf8.csv" | jq -r .problem)" = "café €" ] || fail "UTF-8 CSV"
# Ids count every record, also the bad ones --skip-bad skips.
printf '{"q":"a","a":1}\n{"q":\n{"q":"c","a":3}\n' > "$TMP/skip.jsonl"
[ "$(tte-fetch "$TMP/skip.jsonl" --problem-field q --answer-field a --skip-bad 2>/dev/null | jq -r .id | tr '\n' ' ')" = "skip/0 skip/2 " ] || fail "ids after a skipped line"
expect_fail 1 "unknown dataset 'aime99'" tte-fetch aime99
expect_fail 1 "nope.jsonl: No such file" tte-fetch "$TMP/nope.jsonl"
expect_fail 2 "--limit: 'x' is not an integer" tte-fetch aime24 --limit x
expect_fail 2 "--shard: '3' is not an integer in \[0, 2\]" tte-fetch aime24 --shard 3/3
expect_fail 2 "unknown option '--frobnicate'" tte-fetch --frobnicate aime24
expect_fail 2 "option '--limit' needs a value" tte-fetch aime24 --limit
expect_fail 2 "--range: 'x:y' is not a range A..B" tte-fetch aime24 --range x:y
[ "$(tte-fetch gsm8k --range 1316.. | wc -l)" = 3 ] || fail "--range A.. (gsm8k has 1319 items)"
[ "$(tte-fetch gsm8k --range ..2 | jq -r .id | tr '\n' ' ')" = "gsm8k/0 gsm8k/1 " ] || fail "--range ..B"

# -o writes the file only when complete; a failed run leaves the previous one.
tte-fetch aime24 --limit 3 -o "$TMP/three.jsonl"
[ "$(wc -l <"$TMP/three.jsonl")" = 3 ] || fail "-o"
expect_fail 1 "unknown dataset" tte-fetch aime99 -o "$TMP/three.jsonl"
[ "$(wc -l <"$TMP/three.jsonl")" = 3 ] || fail "-o replaced its file after an error"
tte-fetch --help | grep -q "^Usage: tte-fetch" || fail --help
tte-fetch --version | grep -qE "^tte-fetch [0-9]+\.[0-9]+" || fail --version
echo "tte-fetch: ok"
