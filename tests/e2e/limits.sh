# Input limits (issue 11 item 6): hostile declarative files and extracts are
# refused or bounded with a clear message, in time linear in their size.
# Every command runs under `timeout` so that a regression (the duplicate
# check was quadratic: 132 s for 100 000 keys) fails instead of hanging.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
FIX=$ROOT/tests/fixtures/ingest/20250415

# keys_job N FIRST_LINE INDENT [LAST_LINE]: writes jobs/POP-01.yaml with
# FIRST_LINE, then N lines "INDENTk<i>: 1", then LAST_LINE.
keys_job() {
  mkdir -p "$TMP/jobs"
  python3 - "$TMP/jobs/POP-01.yaml" "$@" <<'PY'
import sys
path, n, first, indent = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
last = sys.argv[5] if len(sys.argv) > 5 else ""
with open(path, "w") as f:
    f.write(first + "\n" + "".join(f"{indent}k{i}: 1\n" for i in range(n)) + (last + "\n" if last else ""))
PY
}

# title_job COUNT: POP-01 with a title_ru of COUNT letters Ж (2 bytes each).
title_job() {
  mkdir -p "$TMP/jobs"
  python3 - "$ROOT/jobs/POP-01.yaml" "$TMP/jobs/POP-01.yaml" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
text = re.sub(r"^title_ru: .*$", 'title_ru: "' + "Ж" * int(sys.argv[3]) + '"', text, flags=re.M)
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
}

# refused_with REGEX: esep run with $TMP/jobs exits 1 naming REGEX.
refused_with() {
  expect_status 1 timeout 60 "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err"
  grep -q "$1" "$TMP/err" || fail "message: $(cat "$TMP/err")"
}

case_job_with_100000_keys() {
  keys_job 100000 "id: POP-01" ""
  refused_with "POP-01.yaml:10000:8: more than 20000 values; a declarative file is smaller"
}

# Under the caps: 9 000 keys, then a duplicate on line 9002, found and named.
# (node 20 001 is the value of line 10 000, column 8, above)
case_duplicate_among_many_keys() {
  keys_job 9000 "x:" "  " "  k17: 2"
  refused_with "POP-01.yaml:9002:3: duplicate key 'k17'"
}

case_huge_title_refused() {
  title_job 5000000
  refused_with "POP-01.yaml: larger than 1048576 bytes"
  title_job 200   # 400 bytes: under the file caps, over the title's
  refused_with "POP-01.yaml:[0-9]*:[0-9]*: title_ru is 400 bytes; at most 255"
}

# 200 000 empty lines in persons: every one rejected and counted, the
# first 10 000 listed, the same file for 1 and 3 ranks, and the summary
# says how many were not listed.
case_reject_volume_capped() {
  cp -r "$FIX" "$TMP/20250415"
  python3 -c 'import sys; sys.stdout.write("\n" * 200000)' >> "$TMP/20250415/persons.csv"
  for n in 1 3; do
    timeout 120 mpirun --oversubscribe -np $n "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/o$n" --json > "$TMP/c$n.json"
  done
  timeout 60 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/t" > "$TMP/table.txt"
  cmp "$TMP/o1/rejects/20250415/persons.csv" "$TMP/o3/rejects/20250415/persons.csv" || fail "differs for 1 and 3 ranks"
  python3 - "$TMP/c1.json" "$TMP/o1/rejects/20250415/persons.csv" <<'PY'
import csv, json, sys
j = json.load(open(sys.argv[1]))["persons"]
assert j["rejected"] == 200007 and j["reasons"]["field_count"] == 200001, j   # 1 + 6 hand-made bad rows
assert j["rejects_not_listed"] == 190007, j
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8", newline="")))
assert len(rows) == 10000, len(rows)
lines = [int(r["line"]) for r in rows]
assert lines == sorted(lines) and lines[-1] < 10020, lines[-3:]
PY
  grep -q 'the rejects file lists the first 10000 rejected rows; 190007 more are counted only' "$TMP/table.txt" \
    || { cat "$TMP/table.txt"; fail "summary"; }
}

case_too_many_columns_named() {
  cp -r "$FIX" "$TMP/20250415"
  python3 - "$TMP/20250415/schools.csv" <<'PY'
import sys
cols = "org_id;kato;design_capacity;built_year;shifts;" + ";".join(f"extra{i}" for i in range(130))
open(sys.argv[1], "w").write(cols + "\n")
PY
  expect_status 1 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/o" --json > "$TMP/got.json"
  grep -q '"schools": {"error": "[^"]*header line has more than 128 columns' "$TMP/got.json" || fail "$(cat "$TMP/got.json")"
}

run_case "limits: a job file with 100 000 keys is refused at once" case_job_with_100000_keys
run_case "limits: a duplicate among 9 000 keys is named at line:column" case_duplicate_among_many_keys
run_case "limits: a 10 MB title and a 400-byte title are refused, not cut" case_huge_title_refused
run_case "limits: rejects listed per extract are capped, all counted, said in the summary" case_reject_volume_capped
run_case "limits: a header of more than 128 columns says so" case_too_many_columns_named
