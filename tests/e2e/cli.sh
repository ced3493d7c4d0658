# Command-line conventions, as operators expect them from every command
# (`run` has its own tests): `--help` prints the usage on stdout and exits
# 0; `esep --version` = `esep version`; usage errors exit 2 (also under
# mpirun); export names an unknown report as unknown and refuses a bad
# period; every log line carries an ISO 8601 UTC timestamp, within the
# run's own start and end; the check/run summary lists the header columns
# an extract has and the schema does not (ignored).
source "$(dirname "$0")/../lib.sh"
FIX=$ROOT/tests/fixtures/ingest/20250415
COMMANDS="check export series serve access verify-catalog verify keygen"
# Argument handling is checked on the release binary operators run (the
# sanitized one takes a second to start, and there are dozens of calls);
# everything that reads data runs the sanitized $ESEP.
CLI=$ROOT/bin/esep

case_help_exits_zero() {
  local c
  for c in $COMMANDS; do
    "$CLI" "$c" --help > "$TMP/out" 2> "$TMP/err" || fail "$c --help: exit $?"
    grep -q "^usage: esep $c " "$TMP/out" || { cat "$TMP/out"; fail "$c --help: no usage line on stdout"; }
    [ ! -s "$TMP/err" ] || { cat "$TMP/err"; fail "$c --help wrote to stderr"; }
    "$CLI" "$c" -h > "$TMP/out2" 2>&1 || fail "$c -h: exit $?"
    cmp -s "$TMP/out" "$TMP/out2" || fail "$c -h differs from --help"
  done
  # --help wins over other (even wrong) arguments.
  "$CLI" export --bogus --help > "$TMP/out" 2>&1 || fail "export --bogus --help: exit $?"
  # The overview lists every command.
  "$CLI" --help > "$TMP/out" || fail "esep --help: exit $?"
  for c in $COMMANDS run version; do grep -q "^  $c " "$TMP/out" || fail "esep --help does not list $c"; done
}

case_version() {
  "$CLI" --version > "$TMP/a" || fail "--version: exit $?"
  "$CLI" version > "$TMP/b" || fail "version: exit $?"
  cmp "$TMP/a" "$TMP/b" || fail "--version and version differ"
  grep -qxE 'esep [0-9]+\.[0-9]+\.[0-9]+' "$TMP/a" || { cat "$TMP/a"; fail "not 'esep X.Y.Z'"; }
}

# expect_usage ARGS…: exit 2 and a usage line on stderr, nothing on stdout.
expect_usage() {
  local rc=0
  "$CLI" "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
  [ $rc -eq 2 ] || { cat "$TMP/err"; fail "esep $*: exit $rc, wanted 2"; }
  grep -q '^usage: ' "$TMP/err" || { cat "$TMP/err"; fail "esep $*: no usage line"; }
  [ ! -s "$TMP/out" ] || fail "esep $*: wrote to stdout"
}

case_usage_errors_exit_two() {
  expect_status 2 "$CLI" > /dev/null 2>&1
  expect_usage no-such-command
  expect_usage check
  expect_usage check --snapshot "$FIX" --out "$TMP/o" --bogus
  expect_usage check --snapshot "$FIX" --out "$TMP/o" extra
  expect_usage export --out "$TMP/o" --report POP-01
  expect_usage export --out "$TMP/o" --report POP-01 --period 2025-03 extra
  expect_usage serve --out "$TMP/o"
  touch "$TMP/acc"
  expect_usage serve --out "$TMP/o" --access "$TMP/acc" --listen nonsense
  expect_usage serve --out "$TMP/o" --access "$TMP/acc" --listen 127.0.0.1:99999
  expect_usage access add bob 7x --access "$TMP/acc"
  expect_usage access add b/b 75 --access "$TMP/acc"
  expect_usage access add bob 75,75 --access "$TMP/acc"
  [ ! -s "$TMP/acc" ] || fail "a refused access add wrote to the access file"
  expect_usage access add someone
  expect_usage access remove someone 75 --access "$TMP/acc"
  expect_usage verify "$TMP/b.tar.zst"
  expect_usage verify-catalog
  expect_usage verify-catalog --out "$TMP/o" extra
  expect_usage keygen
  # Every rank agrees: exit 2 under mpirun too.
  expect_status 2 mpirun --oversubscribe -np 2 "$CLI" export --out "$TMP/o" --report POP-01 --period 2025-13 > /dev/null 2>&1
}

# export checks its arguments against the job files: each mistake is named.
case_export_names_bad_arguments() {
  local p
  for p in 2025-13 2025-00 2025-Q5 25-03 2025-3 20250 2025-03-01; do
    expect_usage export --out "$TMP/o" --report POP-01 --period "$p"
    grep -q "bad period '$p'" "$TMP/err" || { cat "$TMP/err"; fail "period $p not named as bad"; }
  done
  expect_usage export --out "$TMP/o" --report POP-99 --period 2025-03
  grep -q "unknown report 'POP-99'" "$TMP/err" || { cat "$TMP/err"; fail "POP-99 not named as unknown"; }
  expect_usage export --out "$TMP/o" --report ../x --period 2025-03
  grep -q "unknown report '../x'" "$TMP/err" || { cat "$TMP/err"; fail "../x not named as unknown"; }
  # POP-01 is monthly (jobs/POP-01.yaml), FAM-01 quarterly.
  expect_usage export --out "$TMP/o" --report POP-01 --period 2025-Q1
  grep -q "POP-01 is monthly" "$TMP/err" || { cat "$TMP/err"; fail "kind of POP-01 not said"; }
  expect_usage export --out "$TMP/o" --report FAM-01 --period 2025-03
  grep -q "FAM-01 is quarterly" "$TMP/err" || { cat "$TMP/err"; fail "kind of FAM-01 not said"; }
  # A well-formed request for a table not computed yet is not a usage
  # error: exit 1, saying so.
  expect_status 1 "$CLI" export --out "$TMP/o" --report POP-01 --period 2025-03 > /dev/null 2> "$TMP/err"
  grep -q 'POP-01 for 2025-03 is not in the archive' "$TMP/err" || { cat "$TMP/err"; fail "no clear message"; }
}

# Structured lines (stderr not a terminal): every line that esep logs is
# `esep: level=… rank=… time=<ISO 8601 UTC, ms> msg="…"`, and each time
# lies between the clock read just before and just after the run.
case_log_lines_have_utc_timestamps() {
  local before after
  before=$(date -u +%s.%N)
  esep_np 2 check --snapshot "$FIX" --out "$TMP/o" > /dev/null 2> "$TMP/err"
  after=$(date -u +%s.%N)
  python3 - "$TMP/err" "$before" "$after" <<'PY' || return 1
import re, sys
from datetime import datetime, timezone
path, lo, hi = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
pat = re.compile(r'^esep: level=(debug|info|warn|error) rank=(\d+) '
                 r'time=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z msg="(?:[^"\\]|\\.)*"$')
n = 0
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line.startswith("esep: "):
        continue          # not esep's (Open MPI, sanitizers)
    m = pat.match(line)
    assert m, "malformed log line: " + line
    t = datetime.strptime(m.group(3), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
    assert lo - 0.001 <= t <= hi + 0.001, f"time {m.group(3)} outside the run ({lo}..{hi})"
    n += 1
assert n >= 9, f"only {n} log lines (one per extract expected)"
PY
}

# On a terminal the lines are short but still carry the time.
case_terminal_log_lines_have_timestamps() {
  command -v script > /dev/null || fail "script(1) not installed (bsdutils)"
  script -qec "$ESEP check --snapshot $FIX --out $TMP/o --schemas $ROOT/schemas > /dev/null" /dev/null \
    > "$TMP/tty" 2>&1
  # What stays on screen: the text after the last carriage return (the
  # terminal ends lines with \r\n; progress redraws with \r).
  sed -e 's/\r$//' -e 's/.*\r//' "$TMP/tty" | grep -aE '^esep: ' > "$TMP/lines" || { cat "$TMP/tty"; fail "no log line on the terminal"; }
  if grep -avE '^esep: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' "$TMP/lines"; then
    fail "terminal line without a timestamp"
  fi
}

# A copy of the fixture whose schools.csv has two columns the schema does
# not know (persons.csv has `note` already): they are named, and nothing
# else changes.
extra_columns_snapshot() {
  cp -r "$FIX" "$TMP/20250415"
  sed -i -e '1s/$/;comment;extra_2/' -e '2,$s/$/;x;y/' "$TMP/20250415/schools.csv"
}

case_check_names_ignored_columns() {
  extra_columns_snapshot
  "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/o" > "$TMP/table.txt" 2>/dev/null
  grep -A1 '^schools ' "$TMP/table.txt" | has_line -x '    ignored extra columns: comment, extra_2' ||
    { cat "$TMP/table.txt"; fail "schools: no ignored columns line"; }
  grep -A1 '^persons ' "$TMP/table.txt" | has_line -x '    ignored extra columns: note' ||
    { cat "$TMP/table.txt"; fail "persons: no ignored columns line"; }
  [ "$(grep -c 'ignored extra columns' "$TMP/table.txt")" -eq 2 ] || fail "ignored columns for other extracts"
  "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/o2" --json > "$TMP/got.json" 2>/dev/null
  python3 - "$TMP/got.json" "$ROOT/tests/fixtures/ingest/expected_check.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
assert got["schools"].pop("ignored_columns") == "comment, extra_2", got["schools"]
assert got == want, (got, want)
PY
}

# Many long extra columns: the list is cut at a character boundary (valid
# UTF-8, within 255 bytes) and says so with "…".
case_long_ignored_list_is_cut_cleanly() {
  local pad
  for pad in "" x; do   # Cyrillic is 2 bytes: shifting by one byte, one of the two cuts falls inside a character
    rm -rf "$TMP/20250415" && cp -r "$FIX" "$TMP/20250415"
    python3 - "$TMP/20250415/schools.csv" "$pad" <<'PY'
import sys
path, pad = sys.argv[1:3]
lines = open(path, encoding="utf-8").read().split("\n")
extra = [(pad if i == 0 else "") + f"колонка_{i:02d}" for i in range(40)]
lines[0] += "".join(";" + e for e in extra)
lines = [l + ";x" * 40 if i and l else l for i, l in enumerate(lines)]
open(path, "w", encoding="utf-8").write("\n".join(lines))
PY
    "$ESEP" check --snapshot "$TMP/20250415" --out "$TMP/o" > "$TMP/table.txt" 2>/dev/null
    python3 - "$TMP/table.txt" "$pad" <<'PY' || return 1
import sys
raw = open(sys.argv[1], "rb").read().split(b"\n")
pad = sys.argv[2]
i = next(k for k, l in enumerate(raw) if l.startswith(b"schools "))
line = raw[i + 1].decode("utf-8")          # fails on a cut character
prefix = f"    ignored extra columns: {pad}колонка_00, колонка_01, "
assert line.startswith(prefix), line
listed = line[len("    ignored extra columns: "):]
assert listed.endswith("…") and len(listed.encode()) <= 255, (listed, len(listed.encode()))
PY
  done
}

# The job files only explain a missing table: an archived table stays
# exportable after its report's file is gone (a retired report's history).
case_export_reads_retired_report() {
  "$ESEP" run --snapshot "$ROOT/tests/fixtures/reports/snap/20250415" --period 2025-03 --reports POP-01 \
    --out "$TMP/o" --no-publish > /dev/null 2>&1 || fail "run: exit $?"
  mkdir -p "$TMP/jobs" && cp "$ROOT/jobs/FAM-01.yaml" "$TMP/jobs/"
  "$ESEP" export --out "$TMP/o" --report POP-01 --period 2025-03 --jobs "$TMP/jobs" > "$TMP/got.csv" ||
    fail "export of a retired report: exit $?"
  diff "$TMP/got.csv" "$ROOT/tests/fixtures/reports/expected/POP-01-2025-03.csv"
}

case_run_summary_names_ignored_columns() {
  cp -r "$ROOT/tests/fixtures/reports/snap/20250415" "$TMP/20250415"
  sed -i -e '1s/$/;legacy_flag/' -e '2,$s/$/;1/' "$TMP/20250415/schools.csv"
  "$ESEP" run --snapshot "$TMP/20250415" --period 2025-03 --reports POP-01 --out "$TMP/o" --no-publish \
    > "$TMP/run.txt" 2> "$TMP/err" || { cat "$TMP/err"; fail "run: exit $?"; }
  grep -A1 '^schools ' "$TMP/run.txt" | has_line -x '    ignored extra columns: legacy_flag' ||
    { cat "$TMP/run.txt"; fail "run summary: no ignored columns line"; }
}

run_case "cli: --help exits 0 with the usage on stdout" case_help_exits_zero
run_case "cli: --version and version" case_version
run_case "cli: usage errors exit 2" case_usage_errors_exit_two
run_case "cli: export names an unknown report and a bad period" case_export_names_bad_arguments
run_case "cli: log lines carry an ISO 8601 UTC timestamp" case_log_lines_have_utc_timestamps
run_case "cli: terminal log lines carry the time" case_terminal_log_lines_have_timestamps
run_case "cli: check names ignored extra columns" case_check_names_ignored_columns
run_case "cli: a long ignored-columns list is cut cleanly" case_long_ignored_list_is_cut_cleanly
run_case "cli: export reads the archived table of a retired report" case_export_reads_retired_report
run_case "cli: run summary names ignored extra columns" case_run_summary_names_ignored_columns
