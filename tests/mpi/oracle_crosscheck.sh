# The engine against the independent Python oracle (tests/oracle) on a
# generated snapshot — multi-frame .csv.zst, closed KATO codes, households,
# two-district payments — computed on 3 ranks: every report of a month and
# of a quarter must be byte-identical.
source "$(dirname "$0")/../lib.sh"
SNAP=$TMP_ROOT/snap
"$GEN" --persons 3000 --date 20261122 --seed 4 --out "$SNAP" --frame-bytes 65536 > /dev/null 2>&1

crosscheck() { # PERIOD
  esep_np 3 run --snapshot "$SNAP/20261122" --period "$1" --out "$TMP/o" --no-publish > "$TMP/run.log" 2>&1 \
    || { cat "$TMP/run.log"; return 1; }
  python3 "$ROOT/tests/oracle/reports_oracle.py" "$SNAP/20261122" --period "$1" --all --out "$TMP/oracle" \
    > "$TMP/oracle.log" 2>&1 || { cat "$TMP/oracle.log"; return 1; }
  local n=0
  for f in "$TMP"/oracle/*-"$1".csv; do
    local id
    id=$(basename "$f" "-$1.csv")
    "$ESEP" export --out "$TMP/o" --report "$id" --period "$1" > "$TMP/$id.csv" || fail "export $id"
    cmp -s "$TMP/$id.csv" "$f" || { diff "$TMP/$id.csv" "$f" | head -10; fail "$id differs from the oracle"; }
    n=$((n + 1))
  done
  [ "$n" -ge 2 ] || fail "the oracle produced only $n reports"
}

case_month() { crosscheck 2026-10; }
case_quarter() { crosscheck 2026-Q3; }

run_case "oracle: 10 monthly reports on a generated snapshot, 3 ranks, equal the oracle" case_month
run_case "oracle: 2 quarterly reports on a generated snapshot, 3 ranks, equal the oracle" case_quarter
