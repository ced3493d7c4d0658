# The publication catalog (src/publish/catalog.h) on both backends: the
# same C suite (build/asan/catalog-tests) runs on a SQLite file and on a
# real PostgreSQL server that this script starts itself — initdb into a
# temporary directory, listening on a unix socket in that directory only
# (no TCP), run as the `postgres` user when we are root — and always stops
# and removes again, whatever happens. Then `esep verify-catalog` on intact
# and tampered catalogs of both kinds.
source "$(dirname "$0")/../lib.sh"
CATALOG_TESTS=$ROOT/build/asan/catalog-tests

source "$ROOT/tests/pg_lib.sh"

# The suite's summary line must say that every case passed.
suite_on() {
  local rc=0
  "$CATALOG_TESTS" "$1" > "$TMP/out.txt" 2>&1 || rc=$?
  cat "$TMP/out.txt"
  [ $rc -eq 0 ] || fail "catalog suite exit $rc"
  grep -qE '^catalog: [0-9]+ passed, 0 failed$' "$TMP/out.txt" || fail "summary line"
}

case_suite_postgresql() { suite_on "$PG_URI"; }
case_suite_sqlite() { suite_on "$TMP/catalog.sqlite"; }

# Tampers with a SQLite catalog: the sqlite3 shell when installed, else
# Python's sqlite3 module.
sqlite_exec() {
  local db=$1 sql=$2
  if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 "$db" "$sql"
  else
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' \
      "$db" "$sql"
  fi
}

case_verify_sqlite_intact() {
  mkdir -p "$TMP/out"
  "$CATALOG_TESTS" --populate 5 "$TMP/out/catalog.sqlite" || return 1
  "$ESEP" verify-catalog --out "$TMP/out" > "$TMP/stdout" || fail "exit $?"
  cat "$TMP/stdout"
  [ "$(head -1 "$TMP/stdout")" = "catalog chain intact: 5 publications" ] || fail "first line"
  grep -qE '^head: record 5, record_hash [0-9a-f]{64}$' "$TMP/stdout"
}

case_verify_sqlite_tampered() {
  mkdir -p "$TMP/out"
  "$CATALOG_TESTS" --populate 5 "$TMP/out/catalog.sqlite" || return 1
  sqlite_exec "$TMP/out/catalog.sqlite" "UPDATE publications SET size = 1 WHERE id = 3" || return 1
  expect_status 1 "$ESEP" verify-catalog --out "$TMP/out" > "$TMP/stdout"
  cat "$TMP/stdout"
  grep -q '^catalog chain broken: record 3: record_hash mismatch' "$TMP/stdout"
}

case_verify_postgresql() {
  "$CATALOG_TESTS" --populate 4 "$PG_URI" || return 1
  "$ESEP" verify-catalog --out "$TMP" --catalog "$PG_URI" > "$TMP/stdout" || fail "intact: exit $?"
  grep -qx 'catalog chain intact: 4 publications' "$TMP/stdout" || fail "intact: $(cat "$TMP/stdout")"
  "$PG_BIN/psql" -q -X -h "$PG_DIR" -d esep -c "DELETE FROM publications WHERE id = 2" || return 1
  expect_status 1 "$ESEP" verify-catalog --out "$TMP" --catalog "$PG_URI" > "$TMP/stdout"
  cat "$TMP/stdout"
  grep -qx 'catalog chain broken: record 3: gap: record 2 is missing' "$TMP/stdout"
}

case_verify_two_ranks() {
  mkdir -p "$TMP/out"
  "$CATALOG_TESTS" --populate 3 "$TMP/out/catalog.sqlite" || return 1
  esep_np 2 verify-catalog --out "$TMP/out" > "$TMP/stdout" || fail "exit $?"
  [ "$(grep -c '^catalog chain intact: 3 publications$' "$TMP/stdout")" -eq 1 ]
}

case_verify_errors() {
  expect_status 1 "$ESEP" verify-catalog --out "$TMP/none" 2> "$TMP/err"
  grep -q "no catalog at $TMP/none/catalog.sqlite" "$TMP/err" || fail "missing catalog: $(cat "$TMP/err")"
  expect_status 1 "$ESEP" verify-catalog --out "$TMP" --catalog "postgresql://esep:hunter2-pw@127.0.0.1:1/esep" 2> "$TMP/err"
  grep -q 'postgresql catalog postgresql://127.0.0.1: connect: ' "$TMP/err" || fail "message: $(cat "$TMP/err")"
  ! grep -q 'hunter2' "$TMP/err" || fail "the password was printed"
  expect_status 2 "$ESEP" verify-catalog 2> "$TMP/err"
  grep -q 'usage:' "$TMP/err" || fail "no usage line"
}

run_case "catalog: a private PostgreSQL server starts (initdb, unix socket)" pg_start
run_case "catalog: the catalog suite passes on PostgreSQL" case_suite_postgresql
run_case "catalog: the catalog suite passes on SQLite" case_suite_sqlite
run_case "catalog: verify-catalog on an intact SQLite catalog" case_verify_sqlite_intact
run_case "catalog: verify-catalog detects a tampered SQLite catalog" case_verify_sqlite_tampered
run_case "catalog: verify-catalog on PostgreSQL, intact then a record deleted" case_verify_postgresql
run_case "catalog: verify-catalog under mpirun answers once" case_verify_two_ranks
run_case "catalog: verify-catalog errors hide passwords; usage exits 2" case_verify_errors
