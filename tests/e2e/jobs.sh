# The registry of reports is declarative: a new report is a new file in
# jobs/ (no rebuild), the methodology in force on the period's last day is
# used, and a mistake in a file is reported at file:line:column.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415

case_new_report_is_a_file() {
  cp -r "$ROOT/jobs" "$TMP/jobs"
  sed -e 's/^id: DIS-01/id: DIS-13/' -e 's/^title_ru: .*/title_ru: "Инвалидность, опытная форма"/' \
    "$ROOT/jobs/DIS-01.yaml" > "$TMP/jobs/DIS-13.yaml"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-Q1 --reports DIS-13 --out "$TMP/o" --create-key > "$TMP/log" 2>&1 \
    || { cat "$TMP/log"; return 1; }
  "$ESEP" export --out "$TMP/o" --report DIS-13 --period 2025-Q1 > "$TMP/got.csv"
  diff "$TMP/got.csv" "$ROOT/tests/fixtures/reports/expected/DIS-01-2025-Q1.csv"
}

case_version_in_force() {
  mkdir -p "$TMP/jobs"
  cp "$ROOT/jobs/POP-01.yaml" "$TMP/jobs/"
  sed -i -e 's/^version: .*/version: 1/' -e 's/^valid_from: .*/valid_from: 2020-01-01\nvalid_to: 2024-12-31/' "$TMP/jobs/POP-01.yaml"
  sed -e 's/^version: .*/version: 2/' -e 's/^valid_from: .*/valid_from: 2025-01-01/' -e 's/^levels: .*/levels: [0, 1]/' \
    "$ROOT/jobs/POP-01.yaml" > "$TMP/jobs/POP-01-v2.yaml"
  for p in 2024-12 2025-03; do
    "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period $p --out "$TMP/o" --create-key > "$TMP/log" 2>&1 || { cat "$TMP/log"; return 1; }
  done
  /usr/bin/python3 - "$TMP/o/archive" <<'PY'
import sys, h5py
root = sys.argv[1]
for period, version, max_level in (("2024-12", 1, 3), ("2025-03", 2, 1)):
    with h5py.File(f"{root}/{period}/POP-01.h5", "r") as f:
        assert int(f.attrs["methodology_version"]) == version, (period, f.attrs["methodology_version"])
        assert max(f["rows"]["level"]) == max_level, (period, max(f["rows"]["level"]))
PY
}

case_overlapping_versions_refused() {
  mkdir -p "$TMP/jobs"
  cp "$ROOT/jobs/POP-01.yaml" "$TMP/jobs/"
  sed 's/^version: .*/version: 3/' "$ROOT/jobs/POP-01.yaml" > "$TMP/jobs/POP-01-v3.yaml"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err" && fail "accepted"
  grep -q "validity overlaps" "$TMP/err"
}

case_expression_error_located() {
  mkdir -p "$TMP/jobs"
  sed 's/where: "event_type == .BIRTH."/where: "event_type == '"'"'BRITH'"'"'"/' "$ROOT/jobs/POP-02.yaml" > "$TMP/jobs/POP-02.yaml"
  cp "$ROOT/jobs/POP-01.yaml" "$TMP/jobs/"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err" && fail "accepted"
  grep -Eq "POP-02.yaml:[0-9]+:[0-9]+: .*'BRITH' is not a value of enum event_type" "$TMP/err" || { cat "$TMP/err"; return 1; }
}

case_unknown_key_located() {
  mkdir -p "$TMP/jobs"
  sed 's/^deadline_days:/deadline:/' "$ROOT/jobs/POP-01.yaml" > "$TMP/jobs/POP-01.yaml"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err" && fail "accepted"
  grep -Eq "POP-01.yaml:7:1: unknown key 'deadline'" "$TMP/err" || { cat "$TMP/err"; return 1; }
}

case_unknown_column_located() {
  mkdir -p "$TMP/jobs"
  sed 's/kato: org_kato/kato: school_kato/' "$ROOT/jobs/EDU-01.yaml" > "$TMP/jobs/EDU-01.yaml"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err" && fail "accepted"
  grep -Eq "EDU-01.yaml:[0-9]+:[0-9]+: .*school_kato" "$TMP/err" || { cat "$TMP/err"; return 1; }
}

case_too_many_lets_refused() {
  mkdir -p "$TMP/jobs"
  { sed '/^      answered: /q' "$ROOT/jobs/APL-01.yaml"
    for i in $(seq 1 31); do echo "      extra$i: \"days + $i\""; done
    sed -n '/^measures:/,$p' "$ROOT/jobs/APL-01.yaml"; } > "$TMP/jobs/APL-01.yaml"
  "$ESEP" run --jobs "$TMP/jobs" --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" 2> "$TMP/err" && fail "accepted"
  grep -Eq "APL-01.yaml:[0-9]+:[0-9]+: let: at most 32 values" "$TMP/err" || { cat "$TMP/err"; return 1; }
}

run_case "jobs: a 13th report is a new file, no rebuild" case_new_report_is_a_file
run_case "jobs: more derived values than the engine holds are refused" case_too_many_lets_refused
run_case "jobs: the methodology version in force at the period end is used" case_version_in_force
run_case "jobs: overlapping versions of a report are refused" case_overlapping_versions_refused
run_case "jobs: an expression error points at file:line:column" case_expression_error_located
run_case "jobs: an unknown key points at file:line:column" case_unknown_key_located
run_case "jobs: an unknown column points at file:line:column" case_unknown_column_located
