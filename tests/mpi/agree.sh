# One rank failing where the ranks agree before a collective
# (src/dist/agree.h) makes every rank fail together: `esep run` on 3 ranks
# of the report fixture, with ESEP_FAIL_AT=<point> ESEP_FAIL_RANK=<r>
# making rank r see an allocation failure at that point, exits 1 well
# within the time limit (124 would be a rank left waiting in the
# collective), rank 0 says what failed, and no table reaches the archive.
# Points: shuffle (the key checks' exchange while reading), keyed (after a
# keyed stage), reduce (the gather of a report's observations), rejects
# (a report's rejected rows), digests (before the input digests), publish
# (the gather of the bundles each rank built; the tables are archived by
# then, so that case checks the rerun instead). The
# matrix runs the release build (same code paths, a quarter of the time);
# one failure and the run after it are checked under the sanitizers.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
RELEASE=$ROOT/bin/esep
LIMIT=${ESEP_AGREE_TIMEOUT:-120}   # seconds; a healthy failing run takes 1-5

run_3() { # OUT LOG: esep run on 3 ranks under the time limit; prints the exit status
  local rc=0
  timeout -k 10 "$LIMIT" mpirun --oversubscribe -np 3 "$ESEP" run --snapshot "$SNAP" --period 2025-03 \
    --out "$1" --create-key > "$2" 2>&1 || rc=$?
  echo "$rc"
}

# fails_together POINT RANK MESSAGE: the run with the hook on RANK at POINT.
fails_together() {
  local point=$1 rank=$2 want=$3 out=$TMP/$1-$2 rc
  rc=$(ESEP_FAIL_AT=$point ESEP_FAIL_RANK=$rank run_3 "$out" "$out.log")
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || { tail -20 "$out.log"; fail "$point on rank $rank: a rank still waited after $LIMIT s"; }
  [ "$rc" = 1 ] || { tail -20 "$out.log"; fail "$point on rank $rank: exit $rc, expected 1"; }
  grep -q "ESEP_FAIL_AT=$point: rank $rank fails here" "$out.log" || { cat "$out.log"; fail "$point: the hook did not fire on rank $rank"; }
  grep -q "level=error rank=0 .*msg=\"$want" "$out.log" || { cat "$out.log"; fail "$point on rank $rank: no error \"$want\""; }
  if grep -q Sanitizer "$out.log"; then cat "$out.log"; fail "$point on rank $rank: sanitizer report"; fi
  if [ -d "$out/archive" ] && [ -n "$(find "$out/archive" -name '*.h5')" ]; then
    find "$out/archive"; fail "$point on rank $rank: the failed run archived tables"
  fi
}

both_ranks() { # POINT MESSAGE: on rank 1, then on rank 0 (which gathers and prints)
  local ESEP=$RELEASE
  fails_together "$1" 1 "$2"
  fails_together "$1" 0 "$2"
}

case_shuffle() { both_ranks shuffle "persons: out of memory while checking keys"; }
case_keyed() { both_ranks keyed "out of memory in the keyed stages (on at least one rank)"; }
case_reduce() { both_ranks reduce "out of memory in the reduction of APL-01 (on at least one rank)"; }
case_rejects() { both_ranks rejects "out of memory in the reduction of APL-01 (on at least one rank)"; }
case_digests() { both_ranks digests "out of memory before the input digests (on at least one rank)"; }

# The ranks build the bundles of every third region; a rank failing at the
# gather of their outcomes fails the run on every rank, and the bundles
# already renamed into place are recorded by the next run, which then has
# nothing new to publish (the fixture has 3 bundles: 00, 61, 75).
case_publish() {
  local out=$TMP/publish rc
  rc=$(ESEP=$RELEASE ESEP_FAIL_AT=publish ESEP_FAIL_RANK=1 run_3 "$out" "$out.log")
  [ "$rc" = 1 ] || { tail -20 "$out.log"; fail "publish on rank 1: exit $rc, expected 1"; }
  grep -q 'level=error rank=0 .*not published: publication: the outcomes of the bundles could not be gathered' "$out.log" ||
    { cat "$out.log"; fail "publish: no error naming the publication"; }
  rc=$(ESEP=$RELEASE run_3 "$out" "$out.rerun.log")
  [ "$rc" = 0 ] || { tail -20 "$out.rerun.log"; fail "rerun after publish failure: exit $rc"; }
  [ "$(grep -c 'recorded in the catalog (published before a crash)' "$out.rerun.log")" = 3 ] ||
    { cat "$out.rerun.log"; fail "rerun: not the 3 bundles recorded"; }
  grep -q '0 new bundle revisions, 3 unchanged' "$out.rerun.log" || { cat "$out.rerun.log"; fail "rerun: published again"; }
  "$RELEASE" verify-catalog --out "$out" | has_line "catalog chain intact: 3 publications" || fail "rerun: catalog chain"
}

# Under the sanitizers (leaks included): the failure path frees what it
# took, and the next run in the same OUT archives every report.
case_rerun() {
  fails_together reduce 1 "out of memory in the reduction of APL-01"
  local rc
  rc=$(run_3 "$TMP/reduce-1" "$TMP/rerun.log")
  [ "$rc" = 0 ] || { tail -30 "$TMP/rerun.log"; fail "rerun: exit $rc"; }
  [ "$(find "$TMP/reduce-1/archive/2025-03" -name '*.h5' | wc -l)" -eq 10 ] || fail "rerun: not 10 tables"
}

run_case "agree: one rank failing in the key checks' shuffle fails every rank, no hang" case_shuffle
run_case "agree: one rank failing after a keyed stage fails every rank, no hang" case_keyed
run_case "agree: one rank failing in the reduction's gather fails every rank, no hang" case_reduce
run_case "agree: one rank failing on the reduction's rejects fails every rank, no hang" case_rejects
run_case "agree: one rank failing before the input digests fails every rank, no hang" case_digests
run_case "agree: one rank failing at the gather of the bundles fails the run; the rerun records what was built" case_publish
run_case "agree: a failed reduction leaks nothing (sanitizers) and the next run archives all" case_rerun
