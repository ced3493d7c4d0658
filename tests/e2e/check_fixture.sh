# `esep check` on a hand-built snapshot (tests/fixtures/ingest) with one bad
# row per reject reason: the JSON summary and every rejects file must match
# what was worked out by hand (expected_check.json, expected_rejects.txt).
source "$(dirname "$0")/../lib.sh"
FIX=$ROOT/tests/fixtures/ingest

case_json_summary() {
  "$ESEP" check --snapshot "$FIX/20250415" --out "$TMP/out" --json > "$TMP/got.json"
  python3 - "$TMP/got.json" "$FIX/expected_check.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
if got != want:
    print("got ", json.dumps(got, sort_keys=True)); print("want", json.dumps(want, sort_keys=True)); sys.exit(1)
for name, s in got.items():
    assert s["read"] == s["accepted"] + s["rejected"], name
    assert sum(s["reasons"].values()) == s["rejected"], name
PY
}

case_rejects_exact() {
  expect_status 0 "$ESEP" check --snapshot "$FIX/20250415" --out "$TMP/out" > /dev/null 2>&1
  rejects_summary "$TMP/out/rejects/20250415" > "$TMP/got.txt"
  diff "$TMP/got.txt" "$FIX/expected_rejects.txt"
}

case_rejects_keep_raw_line() {
  "$ESEP" check --snapshot "$FIX/20250415" --out "$TMP/out" > /dev/null 2>&1
  local f=$TMP/out/rejects/20250415
  grep -q '^6,iin,duplicate_key,"iin already on line 2","800101300016;M;1980-01-01;751110000;9;;;KAZ;dup"$' "$f/persons.csv" || fail "persons line 6"
  grep -q '^4,,invalid_utf8,.*"3;2025-03-01;2025-03-02;0;PORTAL;ro\\xFFads;751110000;EXPLAINED"$' "$f/appeals.csv" || fail "appeals line 4"
  head -1 "$f/kato.csv" | has_line -x 'line,column,reason,detail,raw'
}

case_exit_status_zero_with_rejects() {
  expect_status 0 "$ESEP" check --snapshot "$FIX/20250415" --out "$TMP/out" > "$TMP/table.txt" 2>&1
  grep -q 'duplicate_key' "$TMP/table.txt" || fail "no rejected rows listed"
  [ -s "$TMP/out/rejects/20250415/persons.csv" ] || fail "no rejects written"
}

# Whole-file failures: one clear message, the extract fails, others are read.
case_missing_file_and_column() {
  cp -r "$FIX/20250415" "$TMP/20250415"
  rm "$TMP/20250415/appeals.csv"
  sed -i '1s/;shifts$/;shift/' "$TMP/20250415/schools.csv"
  expect_status 1 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/out" --json > "$TMP/got.json"
  python3 - "$TMP/got.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["appeals"] == {"error": "missing file appeals.csv.zst (or appeals.csv)"}, j["appeals"]
assert "missing required column 'shifts'" in j["schools"]["error"], j["schools"]
assert j["persons"]["accepted"] == 4
PY
}

case_failed_dependency() {
  cp -r "$FIX/20250415" "$TMP/20250415"
  printf 'iin;sex\n' > "$TMP/20250415/persons.csv"
  expect_status 1 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/out" --json > "$TMP/got.json"
  python3 - "$TMP/got.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "missing required column 'birth_date'" in j["persons"]["error"]
assert j["job_seekers"]["error"] == "not checked: it needs extract 'persons', which failed"
assert j["schools"]["read"] == 5
PY
}

case_invalid_utf8_header() {
  cp -r "$FIX/20250415" "$TMP/20250415"
  printf 'org_id;kato;design_capacity;built_year;shifts\xff\n501;751110000;600;1975;2\n' > "$TMP/20250415/schools.csv"
  expect_status 1 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/out" --json > "$TMP/got.json"
  grep -q '"schools": {"error": "[^"]*header line is not valid UTF-8' "$TMP/got.json" || fail "message"
  [ ! -e "$TMP/out/rejects/20250415/schools.csv" ] || fail "rejects left for a failed extract"
}

case_both_forms_present() {
  cp -r "$FIX/20250415" "$TMP/20250415"
  zstd -q "$TMP/20250415/schools.csv" -o "$TMP/20250415/schools.csv.zst"
  expect_status 1 "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/out" --json > "$TMP/got.json"
  grep -q 'both schools.csv and schools.csv.zst are present' "$TMP/got.json"
}

case_compressed_equals_plain() {
  mkdir -p "$TMP/z/20250415"
  for f in "$FIX"/20250415/*.csv; do zstd -q "$f" -o "$TMP/z/20250415/$(basename "$f").zst"; done
  "$ESEP" check --snapshot "$TMP/z/20250415" --out "$TMP/zout" --json > "$TMP/z.json"
  "$ESEP" check --snapshot "$FIX/20250415" --out "$TMP/pout" --json > "$TMP/p.json"
  cmp "$TMP/z.json" "$TMP/p.json" || fail "summaries differ"
  diff -r "$TMP/zout/rejects" "$TMP/pout/rejects" || fail "rejects differ"
}

case_bad_snapshot_dir() {
  mkdir -p "$TMP/latest"
  expect_status 1 "$ESEP" check --snapshot "$TMP/latest" --out "$TMP/out" 2> "$TMP/err"
  grep -q 'named by its date, YYYYMMDD' "$TMP/err"
}

case_usage_error() {
  expect_status 2 "$ESEP" check --snapshot x 2> "$TMP/err"
  grep -q 'usage:' "$TMP/err" || fail "no usage line"
}

# outputs.md: the run summary prints the rejected counts per reason too.
case_run_summary_counts_reasons() {
  expect_status 0 "$ESEP" run --snapshot "$FIX/20250415" --period 2025-03 --out "$TMP/out" --no-publish > "$TMP/run.txt" 2>/dev/null
  grep -Eq '^persons +11 +4 +7$' "$TMP/run.txt" || { cat "$TMP/run.txt"; fail "persons line"; }
  grep -Eq '^ +iin_checksum +1$' "$TMP/run.txt" || fail "iin_checksum count"
  grep -Eq '^ +duplicate_key +1$' "$TMP/run.txt" || fail "duplicate_key count"
}

run_case "check: JSON summary equals the hand count" case_json_summary
run_case "run: the summary counts rejected rows per reason" case_run_summary_counts_reasons
run_case "check: every rejected row, line, column and reason" case_rejects_exact
run_case "check: rejects keep the raw line" case_rejects_keep_raw_line
run_case "check: exit 0 when rows are rejected" case_exit_status_zero_with_rejects
run_case "check: missing file and missing column fail their extract only" case_missing_file_and_column
run_case "check: an extract whose dependency failed is not checked" case_failed_dependency
run_case "check: invalid UTF-8 in a header fails the extract" case_invalid_utf8_header
run_case "check: .csv and .csv.zst both present is refused" case_both_forms_present
run_case "check: .csv.zst gives the same result as .csv" case_compressed_equals_plain
run_case "check: snapshot directory must be named YYYYMMDD" case_bad_snapshot_dir
run_case "check: usage error exits 2" case_usage_error
