# Nightly operations (outputs.md "Nightly operations", "Publication rules";
# reports.md "Reprocessing history"): the calendar of due and late items,
# `esep nightly` computing each snapshot's items in one scan and doing
# nothing new the second time, the ledger, the metrics file, publication
# as a function of the archive (identical inputs make no revision; a
# partial or failed run never makes a latest revision with fewer reports),
# periods a snapshot cannot describe, keys never created silently, the
# work lock (flock, and PostgreSQL's advisory lock), and kill -9 at every
# phase followed by a rerun whose archive and bundles are byte-identical
# to an uninterrupted run's. Real mpirun, real processes, real kill -9.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/tests/pg_lib.sh"
source "$ROOT/tests/out_lib.sh"

ROOTDIR=$TMP_ROOT/snapshots     # two nights of a generated registry
KEY=$TMP_ROOT/key
ON=2026-12-02
"$ESEP" keygen --key "$KEY" > /dev/null 2>&1
for d in 20261101 20261201; do
  "$GEN" --persons 2000 --date $d --seed 11 --out "$ROOTDIR" > /dev/null 2>&1
done

nightly() { # OUT [more options…]: $NP ranks (2 unless set), tonight = $ON
  local out=$1; shift
  esep_np "${NP:-2}" nightly --snapshots "$ROOTDIR" --out "$out" --on "$ON" --key "$KEY" "$@"
}

REF=$TMP_ROOT/reference        # an uninterrupted night, computed once
reference() {
  [ -f "$REF.done" ] && return 0
  nightly "$REF" > "$REF.log" 2>&1 || { cat "$REF.log"; return 1; }
  tree_digest "$REF" > "$REF.digest"
  touch "$REF.done"
}

case_plan_new_out() {
  "$ESEP" plan --snapshots "$ROOTDIR" --out "$TMP/o" --on $ON > "$TMP/plan" || return 1
  # worked out by hand: the first night is 2026-12-02, so the monthly
  # period that ended last before it is 2026-11 (E = 11-30, its snapshot
  # the first dated after E: 20261201); the quarterly one is 2026-Q3
  # (E = 09-30: snapshot 20261101), whose 15-day deadline 10-15 is past.
  grep -Eq '^POP-01 +2026-11 +2026-11-30 2026-12-05 20261201 due' "$TMP/plan" || { cat "$TMP/plan"; return 1; }
  grep -Eq '^EDU-02 +2026-11 +2026-11-30 2026-12-10 20261201 due' "$TMP/plan" || return 1
  grep -Eq '^FAM-01 +2026-Q3 +2026-09-30 2026-10-15 20261101 due +LATE' "$TMP/plan" || return 1
  [ "$(grep -c ' due ' "$TMP/plan")" -eq 12 ] || fail "expected 12 due items"
  [ ! -e "$TMP/o/catalog.sqlite" ] || fail "plan wrote to a new OUT"
}

case_nightly_then_nothing_new() {
  reference
  grep -q "12 items done, 0 failed, from 2 snapshots" "$REF.log" || { cat "$REF.log"; return 1; }
  cp -a "$REF" "$TMP/o"
  nightly "$TMP/o" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  grep -q "nothing new to do (12 items done" "$TMP/log2" || { cat "$TMP/log2"; return 1; }
  same_as_reference "$TMP/o" "the second nightly changed the archive or bundles"
  "$ESEP" plan --snapshots "$ROOTDIR" --out "$TMP/o" --on $ON --json > "$TMP/plan.json" || return 1
  python3 - "$TMP/plan.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))
assert len(items) == 12 and all(i["state"] == "done" and not i["late"] for i in items), items
assert {i["snapshot"] for i in items if i["period"] == "2026-Q3"} == {"20261101"}
PY
}

case_status_and_metrics() {
  reference
  "$ESEP" status --out "$REF" --on $ON --json > "$TMP/status.json" || return 1
  python3 - "$TMP/status.json" "$REF/metrics/esep.prom" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
assert s["commands"][0]["command"] == "nightly" and s["commands"][0]["status"] == "ok", s
assert s["commands"][0]["done"] == 12 and s["attention"] == [], s
prom = open(sys.argv[2]).read().splitlines()
line = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.]+$')
for l in prom:
    assert l.startswith("# HELP ") or l.startswith("# TYPE ") or line.match(l), l
assert 'esep_items{state="done"} 12' in prom and 'esep_items{state="failed"} 0' in prom
assert any(l.startswith("esep_last_success_timestamp_seconds ") and not l.endswith(" 0") for l in prom)
assert any(l.startswith('esep_rows_rejected{extract="persons"} ') for l in prom)
PY
  "$ESEP" status --out "$REF" --on $ON | has_line "nightly .* ok .*12 done, 0 failed" || fail "status table"
}

case_only_what_is_missing() {
  local ESEP=$ROOT/bin/esep   # what runs, not memory errors: the release build
  # the first night only has the November snapshot: the quarter is done,
  # the month waits; once the December snapshot lands, only the month runs
  mkdir -p "$TMP/root" && cp -r "$ROOTDIR/20261101" "$TMP/root/"
  esep_np 2 nightly --snapshots "$TMP/root" --out "$TMP/o" --on $ON --key "$KEY" > "$TMP/l1" 2>&1 || { cat "$TMP/l1"; return 1; }
  grep -q "2 items done, 0 failed, from 1 snapshot; 10 waiting for a snapshot" "$TMP/l1" || { cat "$TMP/l1"; return 1; }
  cp -r "$ROOTDIR/20261201" "$TMP/root/"
  esep_np 2 nightly --snapshots "$TMP/root" --out "$TMP/o" --on $ON --key "$KEY" > "$TMP/l2" 2>&1 || { cat "$TMP/l2"; return 1; }
  grep -q "10 items done, 0 failed, from 1 snapshot" "$TMP/l2" || { cat "$TMP/l2"; return 1; }
  same_as_reference "$TMP/o"
}

case_no_snapshot_exit_3() {
  mkdir -p "$TMP/empty"
  local rc=0
  esep_np 1 nightly --snapshots "$TMP/empty" --out "$TMP/o" --on $ON --key "$KEY" > "$TMP/log" 2>&1 || rc=$?
  [ $rc -eq 3 ] || { cat "$TMP/log"; fail "exit $rc, expected 3"; }
  grep -q "no snapshot under .* nothing could run" "$TMP/log" || { cat "$TMP/log"; return 1; }
  expect_status 2 "$ESEP" nightly --snapshots "$TMP/empty" 2> /dev/null
  expect_status 2 "$ESEP" nightly --snapshots "$TMP/empty" --out "$TMP/o" --on 2026-13-01 2> /dev/null
}

case_key_never_created_silently() {
  expect_status 1 esep_np 1 nightly --snapshots "$ROOTDIR" --out "$TMP/o" --on $ON > "$TMP/log" 2>&1
  grep -q "no signing key: .*esep keygen" "$TMP/log" || { cat "$TMP/log"; return 1; }
  [ ! -e "$TMP/o/keys/esep.key" ] || fail "a key was created"
  [ -z "$(find "$TMP/o/publish" -name '*.tar.zst' 2>/dev/null)" ] || fail "published without a key"
  # the failed items are retried once a key is given, and finish (the
  # release build: this night's computing and publishing runs under the
  # sanitizers in reference())
  ESEP=$ROOT/bin/esep nightly "$TMP/o" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  grep -q "12 items done, 0 failed" "$TMP/log2" || { cat "$TMP/log2"; return 1; }
  # a keys directory that is a link elsewhere is refused
  mkdir -p "$TMP/elsewhere" "$TMP/o2" && ln -s "$TMP/elsewhere" "$TMP/o2/keys"
  esep_np 1 run --snapshot "$ROOTDIR/20261201" --period 2026-11 --reports POP-01 --out "$TMP/o2" --create-key > "$TMP/log3" 2>&1 \
    && fail "a symlinked keys/ was used"
  grep -q "keys: not a directory (a symbolic link?); refused" "$TMP/log3" || { cat "$TMP/log3"; return 1; }
  [ -z "$(ls "$TMP/elsewhere")" ] || fail "wrote through the link"
}

# A later snapshot whose persons extract is truncated: the reports that
# need persons fail, the others are recomputed, and the new revision still
# holds every report (the failed ones from the archive).
case_failed_run_keeps_every_report() {
  reference
  local ESEP=$ROOT/bin/esep   # what is published, not memory errors: the release build
  cp -a "$REF" "$TMP/o"
  mkdir -p "$TMP/later" && cp -r "$ROOTDIR/20261201" "$TMP/later/20261202"
  local p=$TMP/later/20261202/persons.csv.zst
  head -c $(( $(stat -c %s "$p") / 2 )) "$p" > "$p.cut" && mv "$p.cut" "$p"
  esep_np 2 run --snapshot "$TMP/later/20261202" --period 2026-11 --out "$TMP/o" --key "$KEY" > "$TMP/log" 2>&1 \
    && fail "a run with a truncated extract exited 0"
  grep -q "POP-01 *2026-11 *NOT PRODUCED" "$TMP/log" && grep -Eq "APL-01 +2026-11 +[0-9]+" "$TMP/log" || { cat "$TMP/log"; return 1; }
  local d=$TMP/o/publish/75/2026-11
  [ "$(readlink "$d/latest")" = r2 ] || fail "no revision 2 (APL-01 came from another snapshot)"
  tar --zstd -xOf "$d/latest/esep-75-2026-11.tar.zst" MANIFEST.json > "$TMP/m.json" || return 1
  python3 - "$TMP/m.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
ids = {r["id"]: r["snapshot_date"] for r in m["reports"]}
assert len(ids) == 10, ids
assert ids["POP-01"] == "20261201" and ids["APL-01"] == "20261202", ids
PY
  # one report asked for, identical inputs: no new revision at all
  esep_np 1 run --snapshot "$ROOTDIR/20261201" --period 2026-11 --reports POP-01 --out "$TMP/o" --key "$KEY" > "$TMP/log2" 2>&1 \
    || { cat "$TMP/log2"; return 1; }
  grep -q "0 new bundle revisions" "$TMP/log2" || { cat "$TMP/log2"; return 1; }
  [ ! -e "$d/r3" ] || fail "one report made a new revision"
}

case_periods_refused() {
  esep_np 1 run --snapshot "$ROOTDIR/20261201" --period 2026-12 --out "$TMP/o" --key "$KEY" > "$TMP/log" 2>&1 \
    && fail "a period not over was computed"
  grep -q "period 2026-12 is not over in snapshot 20261201 (its last day is 2026-12-31)" "$TMP/log" || { cat "$TMP/log"; return 1; }
  esep_np 1 run --snapshot "$ROOTDIR/20261201" --period 2024-06 --reports SOC-01,POP-01 --out "$TMP/o" --key "$KEY" > "$TMP/log" 2>&1 \
    && fail "a payments period before the file was computed"
  grep -q "SOC-01 *2024-06 *NOT PRODUCED: social_payments of snapshot 20261201 holds periods from 2025-01 on" "$TMP/log" \
    || { cat "$TMP/log"; return 1; }
  grep -Eq "POP-01 +2024-06 +[0-9]+ " "$TMP/log" || fail "POP-01 of 2024-06 is describable and was not computed"
  [ ! -e "$TMP/o/archive/2024-06/SOC-01.h5" ] || fail "a refused table was archived"
  expect_status 1 esep_np 1 run --snapshot "$ROOTDIR/20261201" --period 2026-11 --reports NOPE-01 --out "$TMP/o" --key "$KEY" > "$TMP/log" 2>&1
  grep -q "unknown report NOPE-01" "$TMP/log" || { cat "$TMP/log"; return 1; }
}

case_lock_flock() {
  mkdir -p "$TMP/o"
  flock "$TMP/o/esep.lock" sleep 20 &
  local holder=$!
  eventually 10 bash -c '! flock -n "$0" true' "$TMP/o/esep.lock" || fail "the holder never took the lock"
  local rc=0
  nightly "$TMP/o" > "$TMP/log" 2>&1 || rc=$?
  kill $holder 2>/dev/null || true; wait $holder 2>/dev/null || true
  [ $rc -eq 3 ] || { cat "$TMP/log"; fail "exit $rc while another holds OUT, expected 3"; }
  grep -q "another esep command holds $TMP/o" "$TMP/log" || { cat "$TMP/log"; return 1; }
  [ ! -e "$TMP/o/archive" ] || fail "worked without the lock"
}

# advisory_locks_held N: exactly N advisory locks are granted on the server.
advisory_locks_held() {
  [ "$("$PG_BIN/psql" -qtAX -h "$PG_DIR" -d esep -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = "$1" ]
}

case_lock_postgresql() {
  [ -f "$PG_DIR/data/postmaster.pid" ] || fail "no PostgreSQL server"
  # another session holds the ledger's advisory lock (as a second nightly
  # on another host sharing this catalog would)
  "$PG_BIN/psql" -q -X -h "$PG_DIR" -d esep -c "SELECT pg_advisory_lock(6568471634); SELECT pg_sleep(20)" > /dev/null 2>&1 &
  local holder=$!
  eventually 10 advisory_locks_held 1 || fail "the holder never took the advisory lock"
  local rc=0
  nightly "$TMP/o" --catalog "$PG_URI" > "$TMP/log" 2>&1 || rc=$?
  kill $holder 2>/dev/null || true; wait $holder 2>/dev/null || true
  [ $rc -eq 3 ] || { cat "$TMP/log"; fail "exit $rc, expected 3"; }
  grep -q "another esep command holds the ledger" "$TMP/log" || { cat "$TMP/log"; return 1; }
  "$PG_BIN/psql" -q -X -h "$PG_DIR" -d esep -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()" > /dev/null
  eventually 10 advisory_locks_held 0 || fail "the advisory lock outlived its session"
  # the night itself on the release build: its computing and publishing
  # run under the sanitizers in reference(), the PostgreSQL catalog in
  # tests/e2e/catalog.sh, the ledger on PostgreSQL in the refused nightly
  # above and the status below
  ESEP=$ROOT/bin/esep nightly "$TMP/o" --catalog "$PG_URI" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  grep -q "12 items done, 0 failed" "$TMP/log2" || { cat "$TMP/log2"; return 1; }
  "$ESEP" status --out "$TMP/o" --catalog "$PG_URI" --on $ON | has_line "nightly .* ok" || fail "status on PostgreSQL"
  same_as_reference "$TMP/o"
}

# kill -9 at phase $1 (of rank $2), then the next nightly finishes only
# what is missing: the same bytes as the uninterrupted night.
killed_at() {
  reference
  # crash semantics, not memory errors: the release build (the reference
  # night ran under the sanitizers; both give the same bytes)
  local ESEP=$ROOT/bin/esep
  # one rank is enough where rank 0 dies (results are the same for any
  # rank count, and the reference night ran on two)
  [ "$2" -ne 0 ] || local NP=1
  ESEP_STOP_AT=$1 ESEP_STOP_RANK=$2 nightly "$TMP/o" > "$TMP/log" 2>&1 && fail "ESEP_STOP_AT=$1 did not stop the job"
  grep -q "ESEP_STOP_AT=$1: rank $2 stops here" "$TMP/log" || { cat "$TMP/log"; return 1; }
  all_whole "$TMP/o"
  if [ "$1" != scan ] && [ "$1" != keyed ]; then
    "$ESEP" status --out "$TMP/o" --on $ON | has_line -E '^  [A-Z]+-[0-9]+ +[0-9Q-]+ +running ' || fail "the ledger shows nothing running after the kill"
  fi
  nightly "$TMP/o" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  if [ "$1" != scan ] && [ "$1" != keyed ]; then
    grep -q "left running by a command that stopped: marked failed (interrupted)" "$TMP/log2" || { cat "$TMP/log2"; return 1; }
  fi
  same_as_reference "$TMP/o" "the resumed night differs from an uninterrupted one"
  "$ESEP" status --out "$TMP/o" --on $ON | has_line -E '^  [A-Z]+-[0-9]+ +[0-9Q-]+ +running ' && fail "an item is still running"
  "$ESEP" verify-catalog --out "$TMP/o" > /dev/null || fail "catalog chain broken"
  [ -z "$(find "$TMP/o/publish" "$TMP/o/archive" -name '.*')" ] || fail "temporary files left after the rerun"
}
case_kill_scan_rank1() { killed_at scan 1; }
case_kill_keyed() { killed_at keyed 0; }
case_kill_archive() { killed_at archive 0; }
case_kill_publish() { killed_at publish 0; }
case_kill_bundle() { killed_at bundle 0; }
case_kill_catalog() { killed_at catalog 0; }

# The whole job killed at once — mpirun and both its ranks by kill -9, as a
# node failure or `scancel --signal=KILL` would — in the middle of
# publishing; the next nightly finishes the night.
case_kill_whole_job() {
  reference
  local ESEP=$ROOT/bin/esep   # as in killed_at
  ESEP_PAUSE_AT=publish ESEP_PAUSE_SECONDS=30 mpirun --oversubscribe -np 2 "$ESEP" nightly --snapshots "$ROOTDIR" \
    --out "$TMP/o" --on "$ON" --key "$KEY" > "$TMP/log" 2>&1 &
  local job=$! ranks
  eventually 30 grep -q "ESEP_PAUSE_AT=publish" "$TMP/log" || { cat "$TMP/log"; fail "the job never reached publication"; }
  ranks=$(pgrep -P "$job" | tr '\n' ' ')
  [ -n "$ranks" ] || fail "no rank under mpirun"
  kill -9 $job $ranks
  wait "$job" || true
  local p
  for p in $ranks; do
    eventually 5 pid_gone "$p" || fail "rank $p of the killed job remains"
  done
  all_whole "$TMP/o"
  nightly "$TMP/o" > "$TMP/log2" 2>&1 || { cat "$TMP/log2"; return 1; }
  same_as_reference "$TMP/o" "the night after the killed job differs from an uninterrupted one"
}

run_case "nightly: plan on a new OUT lists the due items, snapshots, deadlines, LATE" case_plan_new_out
run_case "nightly: computes every due item; a second run does nothing new" case_nightly_then_nothing_new
run_case "nightly: status and the metrics file, without SQL" case_status_and_metrics
run_case "nightly: the next night finishes only what is missing" case_only_what_is_missing
run_case "nightly: no snapshot exits 3; usage exits 2" case_no_snapshot_exit_3
run_case "nightly: no key is created silently; a symlinked keys/ is refused" case_key_never_created_silently
run_case "nightly: a failed run never makes a latest revision with fewer reports" case_failed_run_keeps_every_report
run_case "nightly: periods a snapshot cannot describe are refused with the reason" case_periods_refused
run_case "nightly: a second command on OUT exits 3 naming the holder" case_lock_flock
run_case "nightly: PostgreSQL server for the ledger" pg_start
run_case "nightly: PostgreSQL ledger: an advisory lock held elsewhere stops a second nightly" case_lock_postgresql
run_case "nightly: kill -9 of the whole job (mpirun and its ranks) mid-publication, rerun gives the same bytes" case_kill_whole_job
run_case "nightly: kill -9 of rank 1 mid-scan, rerun gives the same bytes" case_kill_scan_rank1
run_case "nightly: kill -9 before the keyed stages, rerun gives the same bytes" case_kill_keyed
run_case "nightly: kill -9 after archiving a table, rerun gives the same bytes" case_kill_archive
run_case "nightly: kill -9 before publishing, rerun gives the same bytes" case_kill_publish
run_case "nightly: kill -9 after a revision appears, before the catalog knows it" case_kill_bundle
run_case "nightly: kill -9 after a catalog record, rerun gives the same bytes" case_kill_catalog
