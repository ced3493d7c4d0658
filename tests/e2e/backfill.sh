# esep backfill on a generated snapshot root spanning more than two years
# (snapshots 2024-01-15, 2024-06-15, 2025-01-15; each generated classifier
# has a territorial reform eight months before its date, so the newest one
# recodes districts on 2024-05-01, inside the data window): one scan per
# snapshot, equal to single-period runs byte for byte, POP-01's methodology
# chosen by period, the ledger's `missing`/`all`, earlier tables kept,
# refusals with their reasons, failures listed at the end, restated
# boundaries apart and unpublished, and the same archive on 3 ranks.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../out_lib.sh"

SNAPS=$TMP_ROOT/root
for d in 20240115 20240615 20250115; do
  "$GEN" --persons 1200 --date "$d" --seed 5 --out "$SNAPS" > /dev/null 2>&1 || { echo "not ok gen-extracts $d"; exit 1; }
done
REPORTS=POP-01,SOC-01,DIS-01

# The reference backfill, 2023-10 … 2024-03, published (release build, as
# operators run it: publishing six periods under the sanitizers takes
# minutes; the sanitized build runs every other backfill below). POP-01 and
# SOC-01 monthly: 2023-10 … 2023-12 from 20240115, 2024-01 … 2024-03 from
# 20240615; DIS-01 quarterly: 2023-Q4 from 20240115, 2024-Q1 from 20240615.
REF=$TMP_ROOT/ref
RELEASE=$ROOT/bin/esep
"$RELEASE" backfill --snapshots "$SNAPS" --out "$REF" --from 2023-10 --to 2024-03 --reports "$REPORTS" --create-key \
  > "$TMP_ROOT/ref.log" 2> "$TMP_ROOT/ref.err"
REF_RC=$?
tree_digest "$REF" > "$REF.digest"

copy_ref() { cp -a "$REF" "$TMP/out"; }

case_one_scan_per_snapshot() {
  [ "$REF_RC" -eq 0 ] || { cat "$TMP_ROOT/ref.log" "$TMP_ROOT/ref.err"; fail "backfill exit $REF_RC"; }
  # 14 items, 2 snapshots, each read once for its 7
  grep -q '^backfill: 14 items done, 0 failed, 0 refused; 0 skipped' "$TMP_ROOT/ref.log" || { cat "$TMP_ROOT/ref.log"; fail "summary"; }
  [ "$(grep -c '^esep: snapshot ' "$TMP_ROOT/ref.log")" -eq 2 ] || fail "not one scan per snapshot"
  grep -q "^esep: snapshot $SNAPS/20240115, 7 items" "$TMP_ROOT/ref.log" || fail "20240115 not read once for its 7 items"
  grep -q "^esep: snapshot $SNAPS/20240615, 7 items" "$TMP_ROOT/ref.log" || fail "20240615 not read once for its 7 items"
  grep -q 'read .* rows at [0-9]* rows/s' "$TMP_ROOT/ref.err" || fail "no progress line"
}

# Two of the periods recomputed by single `esep run`s into another OUT:
# every archived table is byte-identical to the backfill's.
case_equals_single_runs() {
  "$RELEASE" run --snapshot "$SNAPS/20240115" --period 2023-12 --reports POP-01,SOC-01 --out "$TMP/o" --no-publish > /dev/null 2>&1
  "$RELEASE" run --snapshot "$SNAPS/20240115" --period 2023-Q4 --reports DIS-01 --out "$TMP/o" --no-publish > /dev/null 2>&1
  "$RELEASE" run --snapshot "$SNAPS/20240615" --period 2024-02 --reports POP-01,SOC-01 --out "$TMP/o" --no-publish > /dev/null 2>&1
  local f n=0
  for f in 2023-12/POP-01 2023-12/SOC-01 2023-Q4/DIS-01 2024-02/POP-01 2024-02/SOC-01; do
    cmp "$TMP/o/archive/$f.h5" "$REF/archive/$f.h5" || fail "$f differs from the single run"
    n=$((n + 1))
  done
  [ "$n" -eq 5 ]
}

# POP-01 version 1 (four age groups) up to 2023-12, version 2 (six) from
# 2024-01, in the archived tables and in the published manifests.
case_methodology_by_period() {
  /usr/bin/python3 - "$REF" <<'PY'
import glob, json, os, subprocess, sys, tarfile, h5py
out = sys.argv[1]
want = {"2023-11": (1, ["0-6", "7-15", "16-62", "63+", "_T"]), "2023-12": (1, ["0-6", "7-15", "16-62", "63+", "_T"]),
        "2024-01": (2, ["0-2", "3-6", "7-17", "18-29", "30-62", "63+", "_T"]),
        "2024-02": (2, ["0-2", "3-6", "7-17", "18-29", "30-62", "63+", "_T"])}
for period, (version, groups) in want.items():
    with h5py.File(f"{out}/archive/{period}/POP-01.h5", "r") as f:
        assert int(f.attrs["methodology_version"]) == version, (period, f.attrs["methodology_version"])
        got = sorted(v.decode() for v in f["dimensions/age_group"][:])
        assert got == sorted(groups), (period, got)
    bundle = glob.glob(f"{out}/publish/00/{period}/latest/*.r[0-9]*.tar.zst")
    assert len(bundle) == 1, (period, bundle)
    raw = subprocess.run(["zstd", "-dc", bundle[0]], check=True, capture_output=True).stdout
    import io
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        manifest = json.load(t.extractfile("MANIFEST.json"))
    text = json.dumps(manifest)
    rep = [r for r in manifest["reports"] if r.get("id") == "POP-01"]
    assert rep and int(rep[0]["methodology_version"]) == version, (period, text[:400])
PY
}

# --periods-per-scan 2 reads each snapshot twice (its four periods in two
# scans) and gives the same tables.
case_periods_per_scan() {
  copy_ref
  "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-10 --to 2024-03 --reports "$REPORTS" \
    --reprocess all --periods-per-scan 2 --no-publish > "$TMP/log" 2>&1 || { cat "$TMP/log"; fail "backfill"; }
  [ "$(grep -c '^esep: snapshot ' "$TMP/log")" -eq 4 ] || { cat "$TMP/log"; fail "not two scans per snapshot"; }
  grep -q '^backfill: 14 items done' "$TMP/log" || fail "summary"
  same_as_reference "$TMP/out" "another chunking changed OUT"
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-10 --to 2024-03 --periods-per-scan 0
}

# A second backfill with the default `missing` does nothing: every item
# is skipped and OUT is byte for byte what it was.
case_missing_does_nothing() {
  copy_ref
  "$ESEP" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-10 --to 2024-03 --reports "$REPORTS" \
    > "$TMP/log" 2>&1
  grep -q '^backfill: 0 items done, 0 failed, 0 refused; 14 skipped' "$TMP/log" || { cat "$TMP/log"; fail "not all skipped"; }
  grep -q '^esep: snapshot ' "$TMP/log" && fail "a snapshot was read"
  same_as_reference "$TMP/out" "the second backfill changed OUT"
}

# --reprocess all recomputes every item; the same inputs give the same
# tables, so nothing changes. A period recomputed from another snapshot
# (pinned) gives a differing table: the earlier one is kept under
# history/, byte for byte, and the bundle gets a new revision beside r1.
case_reprocess_all_keeps_tables() {
  copy_ref
  "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-10 --to 2024-03 --reports "$REPORTS" \
    --reprocess all > "$TMP/log" 2>&1
  grep -q '^backfill: 14 items done' "$TMP/log" || { cat "$TMP/log"; fail "not recomputed"; }
  same_as_reference "$TMP/out" "identical recomputation changed OUT"
  "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2024-01 --to 2024-01 --reports POP-01 \
    --snapshot "$SNAPS/20250115" > "$TMP/log2" 2>&1
  grep -q '^backfill: 1 item done' "$TMP/log2" || { cat "$TMP/log2"; fail "the pinned snapshot was not used"; }
  local sha
  sha=$(sha256sum < "$REF/archive/2024-01/POP-01.h5" | cut -c1-16)
  cmp "$TMP/out/archive/2024-01/history/POP-01.$sha.h5" "$REF/archive/2024-01/POP-01.h5" || fail "earlier table not kept"
  cmp -s "$TMP/out/archive/2024-01/POP-01.h5" "$REF/archive/2024-01/POP-01.h5" && fail "the table did not change"
  [ -d "$TMP/out/publish/00/2024-01/r1" ] && [ -d "$TMP/out/publish/00/2024-01/r2" ] || fail "revisions r1 and r2 expected"
  [ "$(readlink "$TMP/out/publish/00/2024-01/latest")" = r2 ] || fail "latest is not r2"
}

# reports.md "Reprocessing history": a period no snapshot describes is
# refused with its reason, the others still run, and the exit is 1
# (--no-publish: publication is not the point here; the first under the
# sanitizers, the other two on the release build).
case_refusals() {
  copy_ref
  local rc=0
  "$ESEP" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2024-12 --to 2025-01 --reports POP-01 \
    --no-publish > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || { cat "$TMP/log"; fail "exit $rc, wanted 1"; }
  grep -q '^backfill: 1 item done, 0 failed, 1 refused' "$TMP/log" || { cat "$TMP/log"; fail "summary"; }
  grep -q "^REFUSED POP-01   2025-01  no snapshot under $SNAPS is dated after E = 2025-01-31" "$TMP/log" || fail "no-snapshot reason"
  rc=0
  "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2024-06 --to 2024-06 --reports POP-01 \
    --snapshot "$SNAPS/20240615" --no-publish > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "exit $rc for a period not over"
  grep -q "^REFUSED POP-01   2024-06  period 2024-06 is not over in snapshot 20240615" "$TMP/log" || { cat "$TMP/log"; fail "not-over reason"; }
  rc=0
  "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-06 --to 2023-06 --reports SOC-01,POP-01 \
    --snapshot "$SNAPS/20250115" --no-publish > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "exit $rc for payments the file does not hold"
  grep -q "^REFUSED SOC-01   2023-06  social_payments of snapshot 20250115 holds periods from 2024-01 on" "$TMP/log" ||
    { cat "$TMP/log"; fail "social_payments reason"; }
  grep -q '^backfill: 1 item done, 0 failed, 1 refused' "$TMP/log" || fail "POP-01 2023-06 should still be done"
}

# A snapshot whose persons file is cut short fails its items; the other
# snapshot's items are done; the failures are listed; exit 1.
case_goes_on_past_failures() {
  cp -a "$SNAPS" "$TMP/root"
  local f=$TMP/root/20240115/persons.csv.zst
  head -c $(($(stat -c %s "$f") / 2)) "$f" > "$f.cut" && mv "$f.cut" "$f"
  local rc=0
  "$ESEP" backfill --snapshots "$TMP/root" --out "$TMP/out" --from 2023-12 --to 2024-01 --reports POP-01 \
    --no-publish > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || { cat "$TMP/log"; fail "exit $rc, wanted 1"; }
  grep -q '^backfill: 1 item done, 1 failed, 0 refused' "$TMP/log" || { cat "$TMP/log"; fail "summary"; }
  grep -q '^FAILED  POP-01   2023-12 ' "$TMP/log" || fail "the failure is not listed"
  [ -f "$TMP/out/archive/2024-01/POP-01.h5" ] || fail "2024-01 not archived"
  [ ! -e "$TMP/out/archive/2023-12/POP-01.h5" ] || fail "a failed period has a table"
}

# Restated on the newest snapshot's territory (2025-01-15): tables apart
# under restated/2025-01-15/ with their attributes, as-of tables and
# publication untouched, and every region's population equal to an
# independent count (Python below: persons alive at E from the period's
# snapshot, each code resolved to T through the newest kato.csv by the
# successor chain, else the unique predecessor).
case_restated_current() {
  copy_ref
  "$ESEP" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-11 --to 2024-02 --reports POP-01 \
    --boundaries current > "$TMP/log" 2>&1 || { cat "$TMP/log"; fail "restated backfill"; }
  grep -q '^backfill restated on 2025-01-15: 4 items done' "$TMP/log" || { cat "$TMP/log"; fail "summary"; }
  tree_digest "$TMP/out" | grep -v 'restated' | diff - "$REF.digest" || fail "restatement touched as-of tables or publication"
  [ "$(tree_digest "$TMP/out" | grep -c '^archive/.*/restated/2025-01-15/POP-01.h5 ')" -eq 4 ] || fail "not 4 restated tables"
  "$ESEP" export --out "$TMP/out" --report POP-01 --period 2023-12 --boundaries current > "$TMP/r.csv"
  /usr/bin/python3 - "$TMP/out" "$SNAPS" "$TMP/r.csv" <<'PY'
import csv, datetime, io, subprocess, sys, h5py
out, snaps, exported = sys.argv[1:4]
def rows(snap, name):
    raw = subprocess.run(["zstd", "-dc", f"{snaps}/{snap}/{name}.csv.zst"], check=True, capture_output=True).stdout
    return list(csv.DictReader(io.StringIO(raw.decode()), delimiter=";"))
day = lambda s: datetime.date.fromisoformat(s) if s else None
T = datetime.date(2025, 1, 15)
kato = {r["code"]: r for r in rows("20250115", "kato")}
valid = lambda c, d: day(kato[c]["valid_from"]) <= d and (not kato[c]["valid_to"] or d <= day(kato[c]["valid_to"]))
def chain(c):
    seen = []
    while c and c in kato and len(seen) < 64:
        seen.append(c); c = kato[c]["successor"]
    return seen
def resolve(c):
    if c not in kato: return None
    for x in chain(c):
        if valid(x, T): return x
    if day(kato[c]["valid_from"]) > T:
        preds = {x for x in kato if valid(x, T) and c in chain(x)[1:]}
        if len(preds) == 1: return preds.pop()
    return None
for period, snap, E in (("2023-12", "20240115", datetime.date(2023, 12, 31)), ("2024-02", "20240615", datetime.date(2024, 2, 29))):
    want = {}
    for p in rows(snap, "persons"):
        if day(p["birth_date"]) > E or (p["death_date"] and day(p["death_date"]) <= E): continue
        code = resolve(p["kato"])
        if code: want[code[:2] + "0000000"] = want.get(code[:2] + "0000000", 0) + 1
    with h5py.File(f"{out}/archive/{period}/restated/2025-01-15/POP-01.h5", "r") as f:
        assert f.attrs["boundaries"] in (b"2025-01-15", "2025-01-15"), f.attrs["boundaries"]
        assert f.attrs["classifier_snapshot"] in (b"20250115", "20250115")
        m = f["measures"][:]
        got = {r["kato"].decode(): int(r["population"]) for r in f["rows"][:]
               if r["level"] == 1 and r["sex"] == b"_T" and r["age_group"] == b"_T"}
    assert got == {k: v for k, v in want.items() if k in got} and set(want) <= set(got), (period, got, want)
    for k in got: assert valid(k, T), k
with open(exported) as fh:
    regions = {r["kato"] for r in csv.DictReader(fh) if r["level"] == "1"}
assert regions and all(valid(k, T) for k in regions)
PY
  local rc=0
  "$ESEP" export --out "$TMP/out" --report POP-01 --period 2024-03 --boundaries current > /dev/null 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "export of a period never restated: exit $rc"
  rc=0
  "$ESEP" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-12 --to 2023-12 --reports POP-01 \
    --boundaries 2026-01-01 > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q "after the newest snapshot (20250115)" "$TMP/log" || { cat "$TMP/log"; fail "a day after the newest snapshot"; }
}

# The same backfill on 3 ranks (release build, as operators run it) gives
# the same archive, byte for byte.
case_three_ranks() {
  mpirun --oversubscribe -np 3 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/out" --from 2023-10 \
    --to 2024-03 --reports "$REPORTS" --create-key --no-publish > "$TMP/log" 2>&1 ||
    { cat "$TMP/log"; fail "3-rank backfill"; }
  (cd "$TMP/out" && find archive -name '*.h5' | sort | xargs sha256sum) > "$TMP/three"
  (cd "$REF" && find archive -name '*.h5' | sort | xargs sha256sum) > "$TMP/one"
  diff "$TMP/three" "$TMP/one"
}

case_usage_errors() { # the release build: each sanitized start costs about 2 s
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/o" --from 2024-13 --to 2024-12
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/o" --from 2024-05 --to 2024-02
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/o" --from 2024-01 --to 2024-02 --reports POP-99
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/o" --from 2024-01 --to 2024-02 --reprocess some
  expect_status 2 "$RELEASE" backfill --snapshots "$SNAPS" --out "$TMP/o" --from 2024-01 --to 2024-02 --boundaries 2024-02-30
  [ ! -e "$TMP/o" ] || fail "a usage error created OUT"
}

run_case "backfill: one scan per snapshot for all its periods, progress" case_one_scan_per_snapshot
run_case "backfill: archives equal single-period runs byte for byte" case_equals_single_runs
run_case "backfill: POP-01 version 1 to 2023-12, version 2 from 2024-01 (tables, manifests)" case_methodology_by_period
run_case "backfill: --periods-per-scan bounds the periods of one scan, same tables" case_periods_per_scan
run_case "backfill: a second backfill (missing) does nothing" case_missing_does_nothing
run_case "backfill: --reprocess all and another snapshot keep the earlier tables and revisions" case_reprocess_all_keeps_tables
run_case "backfill: periods refused for each reason, with the message, exit 1" case_refusals
run_case "backfill: goes on past a failing snapshot and lists the failures" case_goes_on_past_failures
run_case "backfill: restated boundaries apart, unpublished, equal an independent count" case_restated_current
run_case "backfill: the same archive on 3 ranks" case_three_ranks
run_case "backfill: usage errors exit 2" case_usage_errors
