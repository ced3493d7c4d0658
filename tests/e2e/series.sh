# esep series (reports.md "Reprocessing history"): one long table of POP-01
# over three computed months — 2023-11 and 2023-12 under methodology
# version 1 (age groups 0-6 … 63+), 2024-01 under version 2 — checked byte
# for byte against a series rebuilt independently from the archive's /rows
# with h5py (tests/e2e/series_expect.py): the values, the row order, the
# break column (worked out from the tables, never copied from esep), the
# --kato filter, missing periods, the JSON form, restated tables (built by
# hand, and by backfill --boundaries), and the refusals.
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
ORACLE=$ROOT/tests/e2e/series_expect.py
SNAPS=$TMP_ROOT/snapshots
OUT=$TMP_ROOT/out
PERIODS="2023-11 2023-12 2024-01"
# The tables are computed, and exported for comparison, by the release
# binary, and argument refusals are checked on it too (the sanitized one
# takes a second or more to start; cli.sh does the same): every series that
# reads the archive runs the sanitized $ESEP.
CLI=$ROOT/bin/esep

# The archive of the three months, built once for every case (a case that
# changes tables works on its own copy). Publication is left out
# (--no-publish): the series reads the archive only, and 21 signed bundles
# per month would double the script's time.
archive() {
  [ -f "$TMP_ROOT/archive.done" ] && return 0
  local d pair
  for d in 20231215 20240115 20240215; do
    "$GEN" --persons 1500 --date "$d" --seed 7 --out "$SNAPS" > /dev/null
  done
  for pair in 2023-11:20231215 2023-12:20240115 2024-01:20240215; do
    "$CLI" run --snapshot "$SNAPS/${pair#*:}" --out "$OUT" --period "${pair%:*}" --reports POP-01 \
      --no-publish > "$TMP/run.log" 2>&1 || { cat "$TMP/run.log"; fail "run ${pair%:*}"; }
  done
  touch "$TMP_ROOT/archive.done"
}

# want OUT BOUNDARIES P…: the oracle's series of POP-01 on stdout.
want() { $PY "$ORACLE" expect "$1" POP-01 "$2" "${@:3}"; }

# same WANT GOT: byte for byte, or the first differences.
same() {
  cmp -s "$1" "$2" && return 0
  diff "$1" "$2" | head -20 >&2
  fail "$2 differs from $1"
}

case_series_equals_the_archive() {
  archive
  want "$OUT" as-of $PERIODS > "$TMP/want.csv"
  # the range runs past the archive on both sides: those months are missing
  "$ESEP" series --out "$OUT" --report POP-01 --from 2023-09 --to 2024-03 > "$TMP/got.csv" 2> "$TMP/err"
  same "$TMP/want.csv" "$TMP/got.csv"
  [ "$(head -1 "$TMP/got.csv")" = "period,kato,level,sex,age_group,population,methodology_version,break" ] \
    || fail "header: $(head -1 "$TMP/got.csv")"
  [ "$(grep -c 'series: no table for' "$TMP/err")" -eq 1 ] || { cat "$TMP/err"; fail "not one missing line"; }
  grep -q 'series: no table for 2023-09, 2023-10, 2024-02, 2024-03"' "$TMP/err" || { cat "$TMP/err"; fail "missing periods"; }
  # The version change is in the data: 2024-01's marker starts with
  # methodology and names the new age groups (the oracle adds territory
  # when the two months' objects differ); at most one marker per period,
  # none on the first.
  local brk marked
  brk=$(awk -F, '$1 == "2024-01" { print $NF; exit }' "$TMP/want.csv")
  [[ $brk == methodology* && $brk == *dimensions ]] || fail "2024-01 break '$brk'"
  marked=$(awk -F, 'NR > 1 && $NF != "" { print $1 }' "$TMP/got.csv")
  [ "$marked" = "$(sort -u <<<"$marked")" ] || fail "two break markers in one period: $marked"
  [[ $marked != *2023-11* ]] || fail "the first period has a break"
  # Each period's rows are exactly what export prints for it.
  local p
  for p in $PERIODS; do
    "$CLI" export --out "$OUT" --report POP-01 --period "$p" > "$TMP/export.csv"
    awk -F, -v p="$p" 'BEGIN { OFS = "," } $1 == p { NF -= 2; print }' "$TMP/got.csv" | cut -d, -f2- > "$TMP/rows.csv"
    tail -n +2 "$TMP/export.csv" > "$TMP/export-rows.csv"
    same "$TMP/export-rows.csv" "$TMP/rows.csv"
  done
}

case_kato_keeps_one_object() {
  archive
  "$CLI" series --out "$OUT" --report POP-01 --from 2023-11 --to 2024-01 > "$TMP/full.csv"
  same <(want "$OUT" as-of $PERIODS) "$TMP/full.csv"
  local region kato first
  region=$(awk -F, '$3 == 1 { print $2; exit }' "$TMP/full.csv")
  [ -n "$region" ] || fail "no region in the series"
  for kato in 000000000 "$region"; do
    $PY "$ORACLE" filter "$TMP/full.csv" "$kato" > "$TMP/want-$kato.csv"
    [ "$(wc -l < "$TMP/want-$kato.csv")" -gt 3 ] || fail "no rows of $kato"
    "$ESEP" series --out "$OUT" --report POP-01 --from 2023-11 --to 2024-01 --kato "$kato" > "$TMP/got-$kato.csv"
    same "$TMP/want-$kato.csv" "$TMP/got-$kato.csv"
  done
  # the region's first 2024-01 row carries the version change too
  first=$(awk -F, '$1 == "2024-01" { print $NF; exit }' "$TMP/got-$region.csv")
  [[ $first == methodology* ]] || fail "no break on the region's first 2024-01 row: '$first'"
  expect_status 1 "$CLI" series --out "$OUT" --report POP-01 --from 2023-11 --to 2024-01 --kato 999999999 \
    > "$TMP/none" 2> "$TMP/err"
  grep -q 'kato 999999999 has no row' "$TMP/err" || { cat "$TMP/err"; fail "no message for an absent kato"; }
}

case_json_equals_csv() {
  archive
  "$CLI" series --out "$OUT" --report POP-01 --from 2023-10 --to 2024-01 > "$TMP/s.csv" 2> /dev/null
  same <(want "$OUT" as-of $PERIODS) "$TMP/s.csv"
  "$ESEP" series --out "$OUT" --report POP-01 --from 2023-10 --to 2024-01 --format json > "$TMP/s.json" 2> /dev/null
  $PY "$ORACLE" json-equals "$TMP/s.json" "$TMP/s.csv" POP-01 as-of 2023-10
}

# usage ARGS…: exit 2, a usage line on stderr, nothing on stdout ($BIN,
# the release binary unless set).
usage() {
  local rc=0
  "${BIN:-$CLI}" series "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
  [ $rc -eq 2 ] || { cat "$TMP/err"; fail "series $*: exit $rc, wanted 2"; }
  grep -q '^usage: esep series ' "$TMP/err" || { cat "$TMP/err"; fail "series $*: no usage line"; }
  [ ! -s "$TMP/out" ] || fail "series $*: wrote to stdout"
}

case_usage_errors() {
  archive
  local base=(--out "$OUT" --report POP-01)
  "$CLI" series --help > "$TMP/help"
  grep -q '^usage: esep series --out OUT --report ID --from P1 --to P2' "$TMP/help" || fail "--help"
  BIN=$ESEP usage "${base[@]}" --from 2023-11 --to 2024-01 --boundaries 2025-02-30
  BIN=$ESEP usage --out "$OUT" --report POP-99 --from 2023-11 --to 2024-01
  grep -q "unknown report 'POP-99'" "$TMP/err" || fail "POP-99 not named unknown"
  usage "${base[@]}" --from 2023-11
  usage "${base[@]}" --from 2023-13 --to 2024-01
  grep -q "bad period '2023-13'" "$TMP/err" || fail "2023-13 not named a bad period"
  usage "${base[@]}" --from ../x --to 2024-01
  usage "${base[@]}" --from 2024-01 --to 2023-11
  grep -q "from 2024-01 is after --to 2023-11" "$TMP/err" || fail "no message for a reversed range"
  usage "${base[@]}" --from 2023-Q4 --to 2024-Q1
  grep -q "report POP-01 is monthly, YYYY-MM" "$TMP/err" || fail "no message for a period of another kind"
  usage --out "$OUT" --report ../POP-01 --from 2023-11 --to 2024-01
  usage "${base[@]}" --from 2023-11 --to 2024-01 --boundaries latest
  usage "${base[@]}" --from 2023-11 --to 2024-01 --kato 75
  usage "${base[@]}" --from 2023-11 --to 2024-01 --format xml
  usage "${base[@]}" --from 2023-11 --to 2024-01 extra
  grep -q "unexpected argument 'extra'" "$TMP/err" || fail "no message for an extra argument"
  # well-formed but nothing archived: exit 1, a message, nothing on stdout
  expect_status 1 "$ESEP" series "${base[@]}" --from 2022-01 --to 2022-03 > "$TMP/out" 2> "$TMP/err"
  grep -q 'no table of POP-01 for any period from 2022-01 to 2022-03' "$TMP/err" || { cat "$TMP/err"; fail "no table"; }
  [ ! -s "$TMP/out" ] || fail "wrote to stdout without a table"
  expect_status 1 "$CLI" series "${base[@]}" --from 2023-11 --to 2024-01 --boundaries current > "$TMP/out" 2> "$TMP/err"
  grep -q 'no restated table of POP-01' "$TMP/err" || { cat "$TMP/err"; fail "current without restated tables"; }
}

case_restated_series() {
  archive
  local o=$TMP/arch a
  cp -r "$OUT" "$o"
  a=$o/archive
  # 2023-12 and 2024-01 restated on 2025-01-01, 2023-11 on 2024-06-01, each
  # with other values than its as-of table, so that the source shows; a
  # later day that holds no POP-01 and a name that is no day are passed over
  $PY "$ORACLE" restate "$a/2023-12/POP-01.h5" "$a/2023-12/restated/2025-01-01/POP-01.h5" 2025-01-01 20250105 1000 \
    "$a/2024-01/POP-01.h5" "$a/2024-01/restated/2025-01-01/POP-01.h5" 2025-01-01 20250105 2000 \
    "$a/2023-11/POP-01.h5" "$a/2023-11/restated/2024-06-01/POP-01.h5" 2024-06-01 20240605 7
  mkdir -p "$a/2023-11/restated/not-a-day" "$a/2024-01/restated/2026-01-01"
  want "$o" 2025-01-01 $PERIODS > "$TMP/want.csv"
  "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries 2025-01-01 > "$TMP/day.csv" 2> "$TMP/err"
  same "$TMP/want.csv" "$TMP/day.csv"
  grep -q 'series: no table for 2023-11"' "$TMP/err" || { cat "$TMP/err"; fail "2023-11 not missing"; }
  grep -q '^2023-12,000000000,0,_T,_T,' "$TMP/day.csv" || fail "no republic total"
  want "$o" as-of 2023-12 2024-01 > "$TMP/asof.csv"
  ! cmp -s "$TMP/day.csv" "$TMP/asof.csv" || fail "the restated series equals the as-of one"
  "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries current --format json > "$TMP/current.json" 2> /dev/null
  $PY "$ORACLE" json-equals "$TMP/current.json" "$TMP/day.csv" POP-01 2025-01-01 2023-11
  want "$o" 2024-06-01 $PERIODS > "$TMP/want-june.csv"
  "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries 2024-06-01 > "$TMP/june.csv" 2> /dev/null
  same "$TMP/want-june.csv" "$TMP/june.csv"
  # a table under a day it does not record is refused, and so is one that
  # records none (an as-of table copied there)
  mkdir -p "$a/2023-12/restated/2025-02-01"
  cp "$a/2023-12/restated/2025-01-01/POP-01.h5" "$a/2023-12/restated/2025-02-01/"
  expect_status 1 "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries 2025-02-01 > "$TMP/out" 2> "$TMP/err"
  grep -q 'restated on the boundaries of 2025-01-01, not 2025-02-01' "$TMP/err" || { cat "$TMP/err"; fail "wrong day accepted"; }
  [ ! -s "$TMP/out" ] || fail "wrote to stdout"
  cp "$a/2023-12/POP-01.h5" "$a/2023-12/restated/2025-02-01/POP-01.h5"
  expect_status 1 "$CLI" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries current > /dev/null 2> "$TMP/err"
  grep -q 'no boundaries attribute' "$TMP/err" || { cat "$TMP/err"; fail "an as-of table read as restated"; }
}

# The restated tables esep itself writes (backfill on the newest
# snapshot's territory, 2024-02-15) read the same way.
case_restated_by_backfill() {
  archive
  local o=$TMP/arch
  cp -r "$OUT" "$o"
  "$CLI" backfill --snapshots "$SNAPS" --out "$o" --from 2023-11 --to 2024-01 --reports POP-01 --no-publish \
    --boundaries current > "$TMP/backfill.log" 2>&1 || { cat "$TMP/backfill.log"; fail "backfill"; }
  "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 --boundaries current --format json \
    > "$TMP/got.json" 2> "$TMP/err"
  want "$o" 2024-02-15 $PERIODS > "$TMP/want.csv"
  [ "$(wc -l < "$TMP/want.csv")" -gt 1000 ] || fail "backfill restated nothing"
  $PY "$ORACLE" json-equals "$TMP/got.json" "$TMP/want.csv" POP-01 2024-02-15 -
}

case_territory_change_is_marked() {
  archive
  local o=$TMP/arch district
  cp -r "$OUT" "$o"
  want "$OUT" as-of 2023-12 > "$TMP/dec.csv"
  district=$(awk -F, '$1 == "2023-12" && $3 == 2 { print $2; exit }' "$TMP/dec.csv")
  $PY "$ORACLE" drop-kato "$o/archive/2023-12/POP-01.h5" "$district"
  want "$o" as-of $PERIODS > "$TMP/want.csv"
  "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 > "$TMP/got.csv"
  same "$TMP/want.csv" "$TMP/got.csv"
  # the oracle's series says so: one object fewer in 2023-12, back in 2024-01
  local dec jan
  dec=$(awk -F, '$1 == "2023-12" { print $NF; exit }' "$TMP/want.csv")
  jan=$(awk -F, '$1 == "2024-01" { print $NF; exit }' "$TMP/want.csv")
  [ "$dec" = territory ] && [ "$jan" = methodology+territory+dimensions ] || fail "breaks '$dec' and '$jan'"
}

case_column_names_must_stay() {
  archive
  local o=$TMP/arch
  cp -r "$OUT" "$o"
  $PY "$ORACLE" rename-dim "$o/archive/2024-01/POP-01.h5" age_group age
  "$CLI" export --out "$o" --report POP-01 --period 2024-01 > "$TMP/export.csv"
  [ "$(head -1 "$TMP/export.csv")" = kato,level,sex,age,population ] || fail "the renamed table does not read back"
  expect_status 1 "$ESEP" series --out "$o" --report POP-01 --from 2023-11 --to 2024-01 > "$TMP/out" 2> "$TMP/err"
  grep -q 'the columns of POP-01 change in 2024-01 (dimensions sex,age; measures population) from 2023-12' "$TMP/err" \
    || { cat "$TMP/err"; fail "no message naming 2024-01"; }
  [ ! -s "$TMP/out" ] || fail "wrote part of a series"
  "$CLI" series --out "$o" --report POP-01 --from 2023-11 --to 2023-12 > "$TMP/before.csv"
  same <(want "$o" as-of 2023-11 2023-12) "$TMP/before.csv"
}

case_same_bytes_under_mpirun() {
  archive
  esep_np 2 series --out "$OUT" --report POP-01 --from 2023-11 --to 2024-01 > "$TMP/two.csv"
  same <(want "$OUT" as-of $PERIODS) "$TMP/two.csv"
}

run_case "series: every row of every archived table; missing periods on one line" case_series_equals_the_archive
run_case "series: --kato keeps one object (republic, a region)" case_kato_keeps_one_object
run_case "series: the JSON form holds the CSV form" case_json_equals_csv
run_case "series: usage errors exit 2, nothing archived exits 1" case_usage_errors
run_case "series: restated tables of a day, and the current day" case_restated_series
run_case "series: the restated tables backfill writes" case_restated_by_backfill
run_case "series: a changed set of objects is marked territory" case_territory_change_is_marked
run_case "series: other column names are refused, naming the period" case_column_names_must_stay
run_case "series: the same bytes on two ranks" case_same_bytes_under_mpirun
