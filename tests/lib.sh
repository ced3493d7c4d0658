# lib.sh — helpers for the shell test scripts (sourced). Each script runs
# cases with `run_case NAME FUNCTION`; a case passes when the function
# returns 0. The script prints one "ok NAME" / "not ok NAME" line per case,
# which tests/run.sh counts.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ESEP=${ESEP:-$ROOT/build/asan/esep}
GEN=$ROOT/bin/gen-extracts
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mca_base_component_disable_dlclose=1
# Open MPI's start-up, where most esep processes of the suite spent most
# of their time (`esep --version` took 0.45-0.6 s on the release build and
# 1.1-1.7 s on the sanitized one; with these settings 0.1 s and 0.5-0.7 s).
# Nothing here changes what esep computes or which transport its ranks use:
# - esep started without mpirun (export, verify, status, keygen…: hundreds
#   of calls) is an MPI singleton, for which Open MPI forks a supporting
#   daemon (orted) and waits for it. esep never spawns processes, so the
#   tests run singletons isolated; the service (server_start below) keeps
#   the default, as operators start it, and so does everything under
#   mpirun, srun or Slurm (no singletons there).
export OMPI_MCA_ess_singleton_isolated=1
# - every process, singleton or rank, loaded the PSM and PSM2 MTLs (for
#   InfiniPath/Omni-Path adapters, absent here), whose libraries calibrate
#   the CPU clock in hundreds of short sleeps (0.2 s) before they find no
#   hardware. They are excluded as ofi is in
#   /etc/openmpi/openmpi-mca-params.conf; pml ob1 over vader, tcp and self
#   is chosen as before.
export OMPI_MCA_mtl=^ofi,psm,psm2
# - when a rank exits non-zero (every expected failure under mpirun: usage
#   errors, corrupt input, the kill cases), mpirun sends the ranks SIGTERM
#   and then idled 2 s (odls_base_sigkill_timeout=1) before SIGKILL and its
#   own exit. esep's ranks handle no SIGTERM (they are gone at once), so
#   mpirun need not wait.
export OMPI_MCA_odls_base_sigkill_timeout=0
# use_tls=0: LeakSanitizer's tracer crashes scanning the thread-local
# storage of Open MPI's threads when esep runs as a singleton (no mpirun);
# esep keeps no heap pointers in thread-local storage.
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0:use_tls=0
export ESEP_SCHEMAS=$ROOT/schemas ESEP_JOBS=$ROOT/jobs
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TMP_ROOT=$(mktemp -d /tmp/esep-test.XXXXXX)
TMP=$TMP_ROOT/case   # emptied before every case
trap 'rm -rf "$TMP_ROOT"' EXIT

# mpirun N ARGS…: the sanitized esep on N ranks of this machine.
esep_np() {
  local n=$1; shift
  mpirun --oversubscribe -np "$n" "$ESEP" "$@"
}

# Ends the case (each runs in its own subshell) with a message.
fail() { echo "    $*" >&2; exit 1; }

# has_line [grep options…] PATTERN: stdin, read to its end, has a line that
# matches. Pipelines end in this, never in `grep -q`: under pipefail, grep -q
# exits at its first match, the producer's next write meets a closed pipe
# (SIGPIPE, status 141) and the check fails although the line was there, or
# a `… && fail` check passes although it should not. The race is rare and
# load-dependent (a CI run once failed on it); tests/e2e/harness.sh shows it
# and lints the scripts for it.
has_line() { grep -q "$@" <<< "$(cat)"; }

# eventually SECONDS COMMAND…: COMMAND succeeds within SECONDS, tried every
# 0.1 s; returns 1 when it never did. For what another process does a moment
# later (a lock a background holder takes, an audit line written after the
# last byte was sent): a fixed sleep before the check fails under load.
eventually() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# pid_gone PID: no process PID is left (for eventually).
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# run_case NAME FN: runs FN in a subshell with errexit, errtrace, pipefail and
# inherit_errexit, and an ERR trap that ends the case. Any command whose
# failure is not consumed by a test (`if`, `while`, `||`, `&&`, `!`) fails the
# case, with its line and text. Why the subshell is started as a plain
# statement and its status read afterwards: `set -e` is switched off for
# everything run inside an `if`/`&&`/`||` condition, however deep, so
# `if ( set -e; fn )` would let every command but the last fail unnoticed.
# The same rule bites inside cases: a function called as `f && g` or
# `if f` runs with errexit off, so checks are written as plain statements
# (`f; g`) or end in `|| fail …`. tests/e2e/harness.sh proves all of this.
run_case() {
  local name=$1 fn=$2 rc
  rm -rf "$TMP" && mkdir -p "$TMP"
  (
    set -eE -o pipefail
    shopt -s inherit_errexit
    trap 'rc=$?; echo "    line $LINENO: \`$BASH_COMMAND\` exited $rc" >&2; exit $rc' ERR
    "$fn"
  ) >"$TMP_ROOT/case.log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "ok $name"
  else
    echo "not ok $name"
    sed 's/^/    /' "$TMP_ROOT/case.log" | tail -40
  fi
}

# once_then_copy DIR MAKER DEST: an output several cases of a script need,
# made by `MAKER DIR` the first time one asks (a failure fails that case,
# and the next one tries again), then copied to DEST for the case to change.
once_then_copy() {
  local dir=$1 maker=$2 dest=$3
  if [ ! -f "$dir.done" ]; then
    rm -rf "$dir"
    "$maker" "$dir"
    touch "$dir.done"
  fi
  cp -a "$dir" "$dest"
}

# must_fail CMD…: succeeds when CMD exits non-zero (and says so otherwise).
must_fail() {
  if "$@"; then fail "expected failure, got exit 0: $*"; fi
}

# expect_status N CMD…: runs CMD and fails the case unless it exits N.
expect_status() {
  local want=$1 rc=0; shift
  "$@" || rc=$?
  [ "$rc" -eq "$want" ] || fail "exit status $rc, expected $want: $*"
}

# The rejects files of a run as "extract,line,column,reason" lines.
rejects_summary() {
  local dir=$1
  for f in "$dir"/*.csv; do
    python3 - "$f" <<'PY'
import csv, os, sys
path = sys.argv[1]
name = os.path.basename(path)[:-4]
with open(path, encoding='utf-8', newline='') as fh:
    for r in csv.DictReader(fh):
        print(f"{name},{r['line']},{r['column']},{r['reason']}")
PY
  done
}

# esep serve in the background on a free loopback port (a few tries), for
# the service tests: uses OUT, ACC and SRV (a directory for pid, rc, err);
# extra arguments go to `esep serve`. Sets PORT; ready when /v1/catalog
# answers 401. server_stop ends it (TERM, then KILL after 10 s).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
server_start() {
  local try
  for try in 1 2 3; do
    PORT=$(free_port)
    rm -f "$SRV/pid" "$SRV/rc"
    # a singleton as operators start it: with its supporting daemon
    ( OMPI_MCA_ess_singleton_isolated=0 "$ESEP" serve --out "$OUT" --access "$ACC" --listen "127.0.0.1:$PORT" "$@" 2>"$SRV/err" &
      echo $! > "$SRV/pid"; wait $!; echo $? > "$SRV/rc" ) &
    for _ in $(seq 100); do
      [ -e "$SRV/rc" ] && break
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/v1/catalog")
      [ "$code" = 401 ] && return 0
      sleep 0.1
    done
  done
  echo "server did not start:" >&2; cat "$SRV/err" >&2
  return 1
}
server_stop() {
  [ -s "$SRV/pid" ] && [ ! -e "$SRV/rc" ] || return 0
  local pid; pid=$(cat "$SRV/pid")
  kill -TERM "$pid" 2>/dev/null
  eventually 10 test -e "$SRV/rc" && return 0
  kill -KILL "$pid" 2>/dev/null
}
