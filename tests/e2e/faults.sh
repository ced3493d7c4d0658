# Fault injection (issue "hardening"): SIGKILL at every rename, link and
# symlink a run's publication makes (strace's syscall tampering on the real binary), the
# disk filling up at several points (a small tmpfs), the PostgreSQL catalog
# stopped in the middle of a publication, and two nightly jobs started at
# once. After each: no partial file under a final name, no crash, and the
# next run succeeds with the same bytes as an undisturbed one.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/pg_lib.sh"
source "$ROOT/tests/out_lib.sh"

FIX=$ROOT/tests/fixtures/reports/snap/20250415
ROOTDIR=$TMP_ROOT/snapshots
KEY=$TMP_ROOT/key
ON=2026-12-02
RELEASE=$ROOT/bin/esep         # strace loops use the release build: fast
"$ESEP" keygen --key "$KEY" > /dev/null 2>&1
for d in 20261101 20261201; do "$GEN" --persons 3000 --date $d --seed 11 --out "$ROOTDIR" > /dev/null 2>&1; done

run_fixture() { # OUT [wrapper…]: one month of the hand-built fixture
  local out=$1; shift
  "$@" "$RELEASE" run --snapshot "$FIX" --period 2025-03 --out "$out" --key "$KEY"
}

nightly() { # OUT [options…]: $NP ranks (2 unless set)
  local out=$1; shift
  esep_np "${NP:-2}" nightly --snapshots "$ROOTDIR" --out "$out" --on "$ON" --key "$KEY" "$@"
}

REF=$TMP_ROOT/ref-night
reference_night() {
  [ -f "$REF.digest" ] && return 0
  # the undisturbed night the faulted ones must equal: the release build,
  # as they are (the same nightly runs under the sanitizers in
  # tests/e2e/nightly.sh, reference(); both builds give the same bytes)
  local ESEP=$RELEASE
  nightly "$REF" > "$REF.log" 2>&1 || { cat "$REF.log"; return 1; }
  tree_digest "$REF" > "$REF.digest"
}

SYSCALLS="rename renameat2 link symlink"
case_sigkill_at_every_rename_and_link() {
  local ESEP=$RELEASE   # all_whole's checks too: the loop runs esep ~200 times
  run_fixture "$TMP/ref" > /dev/null 2>&1 || return 1
  tree_digest "$TMP/ref" > "$TMP/ref.digest"
  strace -f -qq -o "$TMP/trace" -e trace=rename,renameat,renameat2,link,linkat,symlink,symlinkat \
    "$RELEASE" run --snapshot "$FIX" --period 2025-03 --out "$TMP/count" --key "$KEY" > /dev/null 2>&1 || return 1
  local total=0 name k
  for name in $SYSCALLS; do
    # the K-th call of this syscall, for every K whose call is part of the
    # publication (the archive's and rejects' renames go through the same
    # helpers; the archive is killed at its own phase in nightly.sh, and
    # both are left out here to keep the suite short)
    for k in $(grep " $name(" "$TMP/trace" | grep -n '/publish/' | cut -d: -f1); do
      rm -rf "$TMP/o"
      run_fixture "$TMP/o" strace -f -qq -o /dev/null -e trace="$name" -e inject="$name":signal=KILL:when="$k" \
        > "$TMP/log" 2>&1 && fail "$name #$k: not killed"
      all_whole "$TMP/o"
      run_fixture "$TMP/o" > "$TMP/log" 2>&1 || { cat "$TMP/log"; fail "rerun after SIGKILL at $name #$k"; }
      tree_digest "$TMP/o" > "$TMP/got.digest"; cmp -s "$TMP/got.digest" "$TMP/ref.digest" || fail "after SIGKILL at $name #$k the rerun differs"
      [ -z "$(find "$TMP/o/publish" "$TMP/o/archive" -name '.*')" ] || fail "temporary files left after $name #$k"
      "$ESEP" verify-catalog --out "$TMP/o" > /dev/null || fail "catalog chain after $name #$k"
      total=$((total + 1))
    done
  done
  # 24 in the fixture: the public keys, and for each of its 3 bundles the
  # revision directory, its links and the latest pointer (reports.h5 is
  # built in memory, with no rename of its own since session 6; it was 27)
  [ "$total" -ge 22 ] || fail "only $total renames/links were tried"
  echo "    killed at $total renames and links" >&2
}

TFS=$TMP_ROOT/tmpfs
case_disk_full() {
  reference_night
  local size NP=1 ESEP=$RELEASE   # fault semantics: one rank of the release build (same bytes)
  mkdir -p "$TFS"
  trap 'umount "$TFS" 2> /dev/null || true' EXIT   # this case's subshell only
  for size in 400k 2200k; do   # the disk fills while archiving, and while publishing
    mount -t tmpfs -o size=$size tmpfs "$TFS" || fail "cannot mount a tmpfs (root needed)"
    local rc=0
    nightly "$TFS/o" > "$TMP/log" 2>&1 || rc=$?
    [ $rc -eq 1 ] || { tail -20 "$TMP/log"; fail "size $size: exit $rc, expected 1 (no crash)"; }
    grep -q "No space left on device" "$TMP/log" || { tail -20 "$TMP/log"; fail "size $size: no clear error"; }
    all_whole "$TFS/o"
    # a report that was not produced has no archived table
    grep -E '^[A-Z]+-[0-9]+ +[0-9Q-]+ +NOT PRODUCED' "$TMP/log" | while read -r id per _; do
      [ ! -e "$TFS/o/archive/$per/$id.h5" ] || echo "$id $per"
    done > "$TMP/stray"
    [ ! -s "$TMP/stray" ] || fail "size $size: tables of reports not produced: $(cat "$TMP/stray")"
    mount -o remount,size=64m "$TFS"
    nightly "$TFS/o" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; fail "size $size: rerun with space"; }
    same_as_reference "$TFS/o" "size $size: rerun differs"
    umount "$TFS"
  done
}

case_catalog_stopped_mid_publication() {
  reference_night
  local ESEP=$RELEASE
  ESEP_PAUSE_AT=bundle ESEP_PAUSE_SECONDS=4 nightly "$TMP/o" --catalog "$PG_URI" > "$TMP/log" 2>&1 &
  local job=$!
  eventually 10 grep -q "ESEP_PAUSE_AT=bundle" "$TMP/log" || { cat "$TMP/log"; fail "the nightly never reached its bundles"; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 stop > /dev/null 2>&1 || fail "cannot stop PostgreSQL"
  local rc=0
  wait $job || rc=$?
  [ $rc -eq 1 ] || { cat "$TMP/log"; fail "exit $rc with the catalog gone, expected 1"; }
  grep -q "postgresql catalog" "$TMP/log" || { cat "$TMP/log"; fail "the error does not name the catalog"; }
  all_whole "$TMP/o"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $PG_DIR -c fsync=off" start > /dev/null || fail "cannot restart PostgreSQL"
  nightly "$TMP/o" --catalog "$PG_URI" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  grep -q "recorded in the catalog (published before a crash)" "$TMP/log2" || { cat "$TMP/log2"; fail "nothing adopted"; }
  same_as_reference "$TMP/o" "the rerun differs"
  "$ESEP" verify-catalog --out "$TMP/o" --catalog "$PG_URI" > /dev/null || fail "catalog chain"
}

case_two_nightlies_at_once() {
  reference_night
  local ESEP=$RELEASE
  nightly "$TMP/o" --wait 120 > "$TMP/a" 2>&1 &
  local a=$!
  nightly "$TMP/o" --wait 120 > "$TMP/b" 2>&1 &
  local b=$!
  local ra=0 rb=0
  wait $a || ra=$?
  wait $b || rb=$?
  [ $ra -eq 0 ] && [ $rb -eq 0 ] || { cat "$TMP/a" "$TMP/b"; fail "exits $ra and $rb"; }
  [ "$(cat "$TMP/a" "$TMP/b" | grep -c "12 items done, 0 failed")" -eq 1 ] ||
    { cat "$TMP/a" "$TMP/b"; fail "not exactly one did the work"; }
  grep -q "nothing new to do" "$TMP/a" "$TMP/b" || { cat "$TMP/a" "$TMP/b"; fail "the second did not find the work done"; }
  ! grep -qi "no such file" "$TMP/a" "$TMP/b" || fail "misleading errors"
  same_as_reference "$TMP/o" "differs from one nightly"
}

run_case "faults: SIGKILL at every rename, link and symlink of a publication; reruns identical" case_sigkill_at_every_rename_and_link
run_case "faults: disk full while archiving and while publishing: exit 1, clear error, nothing partial, rerun identical" case_disk_full
run_case "faults: PostgreSQL server for the catalog" pg_start
run_case "faults: the PostgreSQL catalog stopped mid-publication; the rerun adopts the revision" case_catalog_stopped_mid_publication
run_case "faults: two nightlies at once: one works, the other waits and finds it done" case_two_nightlies_at_once
