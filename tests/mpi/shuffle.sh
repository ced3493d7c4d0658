# The MPI shuffle (src/dist/shuffle.h) on 1, 2 and 3 real ranks:
# tests/mpi/shuffle_test.c checks every rank received exactly its records,
# whole and in order, for small records and for records large enough to
# need several rounds, pushed into buffers or grouped in one array (both
# exchanges); then the agreed collectives of src/dist/agree.h.
source "$(dirname "$0")/../lib.sh"
SHUFFLE_TEST=$ROOT/build/asan/shuffle-test

case_shuffle() { # NP
  local rc=0   # a rank left waiting in a collective would hang: bounded
  timeout -k 10 300 mpirun --oversubscribe -np "$1" "$SHUFFLE_TEST" > "$TMP/out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$TMP/out"; fail "exit status $rc (124: timed out)"; }
  [ "$(grep -c "^shuffle: ok np=$1 " "$TMP/out")" -eq 4 ] || { cat "$TMP/out"; fail "not every case ok"; }
  grep -q "^agree: ok np=$1 " "$TMP/out" || { cat "$TMP/out"; fail "the agreements are not ok"; }
}
case_np1() { case_shuffle 1; }
case_np2() { case_shuffle 2; }
case_np3() { case_shuffle 3; }

run_case "shuffle: every record reaches its owner, whole and in order, 1 rank" case_np1
run_case "shuffle: every record reaches its owner, whole and in order, 2 ranks" case_np2
run_case "shuffle: every record reaches its owner, whole and in order, 3 ranks" case_np3
