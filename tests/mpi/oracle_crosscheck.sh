# The engine against the independent Python oracle (tests/oracle) on a
# generated snapshot — multi-frame .csv.zst, closed KATO codes, households,
# two-district payments — computed on 3 ranks: every report of a month and
# of a quarter must be byte-identical.
source "$(dirname "$0")/../lib.sh"
SNAP=$TMP_ROOT/snap
"$GEN" --persons 3000 --date 20261122 --seed 4 --out "$SNAP" --frame-bytes 65536 > /dev/null 2>&1

# The report IDs of the jobs/ files with this periodicity, one a line, sorted
# (a report with several methodology versions has several files, one id).
due_reports() { grep -l "^periodicity: $1\$" "$ROOT"/jobs/*.yaml | xargs grep -h '^id:' | awk '{print $2}' | sort -u; }

crosscheck() { # PERIOD PERIODICITY
  esep_np 3 run --snapshot "$SNAP/20261122" --period "$1" --out "$TMP/o" --no-publish > "$TMP/run.log" 2>&1 \
    || { cat "$TMP/run.log"; fail "esep run"; }
  python3 "$ROOT/tests/oracle/reports_oracle.py" "$SNAP/20261122" --period "$1" --all --out "$TMP/oracle" \
    > "$TMP/oracle.log" 2>&1 || { cat "$TMP/oracle.log"; fail "oracle"; }
  due_reports "$2" > "$TMP/due.txt"
  ls "$TMP"/oracle/*-"$1".csv | xargs -n1 basename | sed "s/-$1\.csv\$//" | sort > "$TMP/by_oracle.txt"
  ls "$TMP/o/archive/$1"/*.h5 | xargs -n1 basename | sed 's/\.h5$//' | sort > "$TMP/by_esep.txt"
  diff "$TMP/due.txt" "$TMP/by_oracle.txt" || fail "the oracle did not produce every $2 report"
  diff "$TMP/due.txt" "$TMP/by_esep.txt" || fail "esep did not archive every $2 report"
  # the exports on the release build (they run sanitized in
  # tests/mpi/reports_fixture.sh)
  local id ESEP=$ROOT/bin/esep
  while read -r id; do
    "$ESEP" export --out "$TMP/o" --report "$id" --period "$1" > "$TMP/$id.csv" || fail "export $id"
    cmp -s "$TMP/$id.csv" "$TMP/oracle/$id-$1.csv" || { diff "$TMP/$id.csv" "$TMP/oracle/$id-$1.csv" | head -10; fail "$id differs from the oracle"; }
  done < "$TMP/due.txt"
}

case_month() {
  crosscheck 2026-10 monthly
  [ "$(wc -l < "$TMP/due.txt")" -eq 10 ] || fail "reports.md has 10 monthly reports"
}
case_quarter() {
  crosscheck 2026-Q3 quarterly
  [ "$(wc -l < "$TMP/due.txt")" -eq 2 ] || fail "reports.md has 2 quarterly reports"
}

# The oracle's own self-test (helpers on hand-picked cases, the fixture
# snapshot and expected CSVs reproduced byte for byte).
case_oracle_selftest() {
  python3 "$ROOT/tests/oracle/test_oracle.py" > "$TMP/self.log" 2>&1 || { cat "$TMP/self.log"; fail "test_oracle.py"; }
  grep -Eq '^Ran ([9]|[1-9][0-9]+) tests' "$TMP/self.log" || { cat "$TMP/self.log"; fail "fewer tests than written"; }
}

run_case "oracle: the 10 monthly reports on a generated snapshot, 3 ranks, equal the oracle" case_month
run_case "oracle: the 2 quarterly reports on a generated snapshot, 3 ranks, equal the oracle" case_quarter
run_case "oracle: the oracle's self-test passes" case_oracle_selftest
