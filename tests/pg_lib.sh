# pg_lib.sh — a private PostgreSQL server for a test script (sourced after
# lib.sh): initdb into a temporary directory, listening on a unix socket in
# that directory only (no TCP), run as the `postgres` user when we are
# root; pg_start is a test case of its own (run_case … pg_start), and the
# EXIT trap always stops and removes the server. PG_URI names database
# esep on it.
# The newest installed server's binaries (Debian keeps them off PATH, under
# /usr/lib/postgresql/<version>/bin), else whatever initdb PATH has.
pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

PG_BIN=$(pg_bindir || true)
PG_DIR=$(mktemp -d /tmp/esep-pg.XXXXXX)   # data directory and socket
PG_URI="postgresql:///esep?host=$PG_DIR"
ME=$(id -un)

# PostgreSQL refuses to run as root: as root, its commands run as postgres.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
  if [ -n "$PG_BIN" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 stop >/dev/null 2>&1
  fi
  rm -rf "$PG_DIR"
}
trap 'pg_stop; rm -rf "$TMP_ROOT"' EXIT
trap 'exit 130' INT TERM HUP

pg_start() {
  [ -n "$PG_BIN" ] || fail "no PostgreSQL server binaries (initdb) found; scripts/install-deps.sh installs postgresql"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR" || return 1
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C -N >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log"; return 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c synchronous_commit=off" start ||
    { cat "$PG_DIR/server.log"; return 1; }
  if [ "$ME" != postgres ]; then
    as_pg "$PG_BIN/createuser" -h "$PG_DIR" -U postgres --superuser "$ME" || return 1
  fi
  as_pg "$PG_BIN/createdb" -h "$PG_DIR" -U postgres -O "$ME" esep
}

