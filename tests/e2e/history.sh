# Reprocessing history (reports.md "Reprocessing history", issue 8 point 6):
# `esep backfill` over the hand-worked snapshot root tests/fixtures/history
# (three snapshots across territorial reforms; README.md there has every
# case and its arithmetic), as-of and restated POP-01 tables equal to
# expected/ (written by the fixture's own reading of the spec, expected.py),
# methodology versions by period, the predecessor rule's rejects, restated
# tables kept apart and never published, and periods refused for each
# reason. The cases share one OUT, built by the first ones, in order.
source "$(dirname "$0")/../lib.sh"
FIX=$ROOT/tests/fixtures/history
EXP=$FIX/expected
PY=/usr/bin/python3   # Debian's, with h5py
O=$TMP_ROOT/o         # the shared OUT
PERIODS="2023-12 2024-01 2024-02 2024-03 2024-04"
T=2025-01-15          # --boundaries current: the newest snapshot's date
# the first backfills (as of E, restated current, restated on a day) run the
# sanitized build; exports, reruns, refusals and usage checks the release
# build (same code, a fraction of the start-up time on a loaded machine)
REL=$ROOT/bin/esep
[ -x "$REL" ] || REL=$ESEP

# The snapshot a period is computed from: the earliest dated after its end.
snap_of() {
  case $1 in
    2023-12) echo 20240115 ;;
    2024-0[123]) echo 20240415 ;;
    *) echo 20250115 ;;
  esac
}

needs_out() { [ -f "$TMP_ROOT/asof.ok" ] || fail "no as-of archive: the first case did not pass"; }

# sha256 of every as-of table and rejects file, and of every file and link
# under publish/ (a link by its target), one line each.
fingerprint() {
  (cd "$O" && find archive rejects publish -path '*/restated' -prune -o -name '*.restated-*' -prune -o \
    \( -type f -o -type l \) -print | sort |
    while read -r f; do
      if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(sha256sum < "$f" | cut -c1-64)"; fi
    done)
}

case_asof_backfill() {
  local rc=0
  "$ESEP" backfill --snapshots "$FIX" --out "$O" --from 2023-12 --to 2024-04 --reports POP-01 --create-key \
    > "$TMP_ROOT/asof.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP_ROOT/asof.log"; fail "backfill exited $rc"; }
  grep -q "5 items done, 0 failed, 0 refused" "$TMP_ROOT/asof.log" || { cat "$TMP_ROOT/asof.log"; fail "summary"; }
  local p
  for p in $PERIODS; do
    "$REL" export --out "$O" --report POP-01 --period "$p" > "$TMP_ROOT/asof-$p.csv"
    diff "$TMP_ROOT/asof-$p.csv" "$EXP/POP-01-$p.csv" > "$TMP/d" || { head -20 "$TMP/d"; fail "POP-01 $p differs from $EXP/POP-01-$p.csv"; }
    diff "$O/rejects/$(snap_of "$p")/POP-01-$p.csv" "$EXP/rejects/$(snap_of "$p")/POP-01-$p.csv" \
      || fail "rejects of POP-01 $p differ"
  done
  # each table says which snapshot it came from
  $PY - "$O/archive" <<'PY'
import sys, h5py
txt = lambda v: v.decode() if isinstance(v, bytes) else str(v)
want = {"2023-12": "20240115", "2024-01": "20240415", "2024-02": "20240415", "2024-03": "20240415", "2024-04": "20250115"}
for p, s in want.items():
    with h5py.File(f"{sys.argv[1]}/{p}/POP-01.h5", "r") as f:
        assert txt(f.attrs["snapshot_date"]) == s, (p, f.attrs["snapshot_date"])
PY
  touch "$TMP_ROOT/asof.ok"
}

case_methodology_versions() {
  needs_out
  $PY - "$O/archive" <<'PY'
import sys, h5py
for p in ("2023-12", "2024-01", "2024-02", "2024-03", "2024-04"):
    with h5py.File(f"{sys.argv[1]}/{p}/POP-01.h5", "r") as f:
        v = int(f.attrs["methodology_version"])
        assert v == (1 if p <= "2023-12" else 2), (p, v)
PY
  # the age groups of the form follow the version
  cut -d, -f4 "$TMP_ROOT/asof-2023-12.csv" | sort -u | tr '\n' ' ' > "$TMP/g1"
  cut -d, -f4 "$TMP_ROOT/asof-2024-01.csv" | sort -u | tr '\n' ' ' > "$TMP/g2"
  [ "$(cat "$TMP/g1")" = "0-6 16-62 63+ 7-15 _T age_group " ] || fail "2023-12 groups: $(cat "$TMP/g1")"
  [ "$(cat "$TMP/g2")" = "0-2 18-29 3-6 30-62 63+ 7-17 _T age_group " ] || fail "2024-01 groups: $(cat "$TMP/g2")"
}

# Case (b): the merged codes of 2024-02-15 have two predecessors valid on
# 2024-01-31, so H11, H12 (612030001) and H15 (612030000) are rejected for
# 2024-01; H19 (a town from 2024-04-05, no predecessor) for 2024-01 to 03.
case_rejects_name_the_rows() {
  needs_out
  $PY - "$O/rejects" "$FIX" <<'PY'
import csv, sys
rej, fix = sys.argv[1], sys.argv[2]
legend = dict(l.split()[:2] for l in open(f"{fix}/iin_legend.txt") if not l.startswith("#"))
def rejected(snap, period):
    persons = list(csv.DictReader(open(f"{fix}/{snap}/persons.csv", encoding="utf-8"), delimiter=";"))
    rows = list(csv.DictReader(open(f"{rej}/{snap}/POP-01-{period}.csv", encoding="utf-8")))
    assert all(r["extract"] == "persons" and r["reason"] == "kato_not_valid_at_period_end" for r in rows), rows
    return sorted(persons[int(r["line"]) - 2]["iin"] for r in rows)
iin = lambda *labels: sorted(legend[l] for l in labels)
assert rejected("20240415", "2024-01") == iin("H11", "H12", "H15", "H19"), rejected("20240415", "2024-01")
assert rejected("20240415", "2024-02") == iin("H19")
assert rejected("20240415", "2024-03") == iin("H19")
assert rejected("20240115", "2023-12") == [] and rejected("20250115", "2024-04") == []
PY
}

case_restated_current() {
  needs_out
  fingerprint > "$TMP_ROOT/before"
  local rc=0 p
  "$ESEP" backfill --snapshots "$FIX" --out "$O" --from 2023-12 --to 2024-04 --reports POP-01 --boundaries current \
    --create-key > "$TMP_ROOT/restated.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP_ROOT/restated.log"; fail "restated backfill exited $rc"; }
  grep -q "restated on $T: 5 items done, 0 failed, 0 refused" "$TMP_ROOT/restated.log" \
    || { cat "$TMP_ROOT/restated.log"; fail "summary"; }
  for p in $PERIODS; do
    "$REL" export --out "$O" --report POP-01 --period "$p" --boundaries current > "$TMP/$p.csv"
    diff "$TMP/$p.csv" "$EXP/restated-$T/POP-01-$p.csv" > "$TMP/d" \
      || { head -20 "$TMP/d"; fail "restated POP-01 $p differs from $EXP/restated-$T/POP-01-$p.csv"; }
    diff "$O/rejects/$(snap_of "$p")/POP-01-$p.restated-$T.csv" "$EXP/restated-$T/rejects/POP-01-$p.csv" \
      || fail "rejects of the restated POP-01 $p differ"
  done
  "$REL" export --out "$O" --report POP-01 --period 2023-12 --boundaries "$T" | cmp - "$TMP/2023-12.csv" \
    || fail "--boundaries $T differs from current"
  # the as-of tables are still those of the first backfill (all bytes: fingerprint below)
  "$REL" export --out "$O" --report POP-01 --period 2024-01 | cmp - "$EXP/POP-01-2024-01.csv" || fail "as-of 2024-01 changed"
  fingerprint > "$TMP_ROOT/after"
  diff "$TMP_ROOT/before" "$TMP_ROOT/after" || fail "the restatement changed as-of tables, rejects or publish/"
  [ -z "$(find "$O/archive" -path '*/history/*' -print -quit)" ] || fail "an as-of table was replaced (history/ kept)"
}

case_restated_attributes() {
  needs_out
  $PY - "$O/archive" "$T" <<'PY'
import glob, os, sys, h5py
root, T = sys.argv[1], sys.argv[2]
txt = lambda v: v.decode() if isinstance(v, bytes) else str(v)
data = {"2023-12": "20240115", "2024-01": "20240415", "2024-02": "20240415", "2024-03": "20240415", "2024-04": "20250115"}
for p, s in data.items():
    files = glob.glob(f"{root}/{p}/restated/*/POP-01.h5")
    assert len(files) == 1, (p, files)
    with h5py.File(files[0], "r") as f:
        a = f.attrs
        assert txt(a["boundaries"]) == T, (p, a["boundaries"])
        assert txt(a["classifier_snapshot"]) == "20250115", (p, a["classifier_snapshot"])
        assert os.path.basename(os.path.dirname(files[0])) in (T, T.replace("-", "")), files[0]
        assert int(a["methodology_version"]) == (1 if p == "2023-12" else 2), (p, a["methodology_version"])
        assert txt(a["snapshot_date"]) == s, (p, a["snapshot_date"])   # the data is still the period's snapshot
PY
}

# bundle_holds_as_of BUNDLE: the bundle's csv/POP-01.csv has exactly the
# as-of rows of its scope (a region: its levels 1-3; the republic 00:
# levels 0-1), the as-of value in every cell not suppressed (x), no
# restated object, and the manifest names the period's methodology version.
bundle_holds_as_of() {
  rm -rf "$TMP/x" && mkdir -p "$TMP/x" && tar --zstd -xf "$1" -C "$TMP/x"
  $PY - "$TMP/x" "$EXP" <<'PY' || fail "in $1"
import csv, json, sys
x, exp = sys.argv[1], sys.argv[2]
m = json.load(open(f"{x}/MANIFEST.json"))
region, period = m["region"], m["period"]
pop = [r for r in m["reports"] if r["id"] == "POP-01"]
assert pop and int(pop[0]["methodology_version"]) == (1 if period == "2023-12" else 2), pop
want = {}
for r in csv.DictReader(open(f"{exp}/POP-01-{period}.csv")):
    lvl = int(r["level"])
    if (region == "00" and lvl <= 1) or (region != "00" and lvl >= 1 and r["kato"][:2] == region):
        want[(r["kato"], r["sex"], r["age_group"])] = r["population"]
got = {(r["kato"], r["sex"], r["age_group"]): r["population"] for r in csv.DictReader(open(f"{x}/csv/POP-01.csv"))}
assert set(got) == set(want), (region, period, sorted(set(got) ^ set(want))[:5])
shown = 0
for k, v in got.items():
    if v != "x":
        assert v == want[k], (region, period, k, v, want[k])
        shown += int(v) > 0
assert shown or region == "75", (region, period, "no published non-zero value to compare")
assert not any(k[0].startswith("614") for k in got), "a restated object was published"
PY
}

# Every bundle ever published (every revision), after both restatements.
case_bundles_hold_as_of() {
  needs_out
  local b n=0
  for b in $(find "$O/publish" -name 'esep-*.r*.tar.zst' | sort); do
    bundle_holds_as_of "$b"
    n=$((n + 1))
  done
  [ "$n" -eq 15 ] || fail "$n bundles, expected one revision of 3 regions x 5 periods"
}

# A restatement into a fresh OUT publishes nothing; the as-of run after it
# publishes the as-of values (the restated table beside it is not taken).
case_restated_first() {
  local rc=0 b
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-01 --reports POP-01 --boundaries current \
    --create-key > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "restated backfill exited $rc"; }
  [ -z "$(find "$TMP/o" -path '*/publish/*' -name '*.tar.zst' -print -quit)" ] || fail "a restatement published a bundle"
  [ ! -e "$TMP/o/archive/2024-01/POP-01.h5" ] || fail "a restatement wrote the as-of table"
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-01 --reports POP-01 --create-key \
    > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "as-of backfill exited $rc"; }
  "$REL" export --out "$TMP/o" --report POP-01 --period 2024-01 | cmp - "$EXP/POP-01-2024-01.csv"
  "$REL" export --out "$TMP/o" --report POP-01 --period 2024-01 --boundaries current | cmp - "$EXP/restated-$T/POP-01-2024-01.csv"
  for b in "$TMP"/o/publish/{00,61,75}/2024-01/latest/esep-*-2024-01.tar.zst; do bundle_holds_as_of "$b"; done
}

# The same backfill again: everything was done from the same snapshot and
# methodology, so nothing is computed and no byte changes.
case_rerun_changes_nothing() {
  needs_out
  fingerprint > "$TMP/before"
  local rc=0
  "$REL" backfill --snapshots "$FIX" --out "$O" --from 2023-12 --to 2024-04 --reports POP-01 --create-key \
    > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "exit $rc"; }
  grep -q "0 items done, 0 failed, 0 refused; 5 skipped" "$TMP/log" || { cat "$TMP/log"; fail "summary"; }
  fingerprint > "$TMP/after"
  diff "$TMP/before" "$TMP/after" || fail "a rerun changed the archive, rejects or publish/"
}

# The same rules with T in place of E on a given day: on 2024-03-20 Z's code
# counts under Y and the town of 2024-04-05 is rejected (README case (f)).
case_restated_on_a_day() {
  needs_out
  local rc=0
  "$ESEP" backfill --snapshots "$FIX" --out "$O" --from 2024-01 --to 2024-01 --reports POP-01 --boundaries 2024-03-20 \
    --create-key > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "exit $rc"; }
  "$REL" export --out "$O" --report POP-01 --period 2024-01 --boundaries 2024-03-20 | diff - "$EXP/restated-2024-03-20/POP-01-2024-01.csv"
  diff "$O/rejects/20240415/POP-01-2024-01.restated-2024-03-20.csv" "$EXP/restated-2024-03-20/rejects/POP-01-2024-01.csv"
  # current is still the latest restated day of the period
  "$REL" export --out "$O" --report POP-01 --period 2024-01 --boundaries current | cmp - "$EXP/restated-$T/POP-01-2024-01.csv"
  "$REL" export --out "$O" --report POP-01 --period 2024-01 | cmp - "$EXP/POP-01-2024-01.csv"
}

# `export --boundaries current` is the latest restatement of THAT report:
# here POP-01 was restated on 2024-03-20 only, SOC-01 later on 2025-01-15.
case_current_is_per_report() {
  local rc=0
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-01 --reports POP-01 --boundaries 2024-03-20 \
    --create-key > "$TMP/log" 2>&1 || rc=$?
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-01 --reports SOC-01 --boundaries current \
    --create-key >> "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "a backfill exited $rc"; }
  "$REL" export --out "$TMP/o" --report POP-01 --period 2024-01 --boundaries current > "$TMP/got.csv" 2> "$TMP/err" \
    || { cat "$TMP/err"; fail "POP-01's restatement of 2024-03-20 not found as current (SOC-01's later day taken)"; }
  cmp "$TMP/got.csv" "$EXP/restated-2024-03-20/POP-01-2024-01.csv"
}

case_refused_not_over() {
  local rc=0
  # pinned to 20240415: 2024-03 can be described, 2024-04 (ends 2024-04-30) cannot
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-03 --to 2024-04 --reports POP-01 \
    --snapshot "$FIX/20240415" --create-key > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { cat "$TMP/log"; fail "a refused period gave exit 0"; }
  grep -q "period 2024-04 is not over in snapshot 20240415 (its last day is 2024-04-30)" "$TMP/log" || { cat "$TMP/log"; fail "reason"; }
  grep -Eq "^REFUSED +POP-01 +2024-04 " "$TMP/log" || { cat "$TMP/log"; fail "not listed at the end"; }
  [ ! -e "$TMP/o/archive/2024-04/POP-01.h5" ] || fail "a refused period was archived"
  "$REL" export --out "$TMP/o" --report POP-01 --period 2024-03 | cmp - "$EXP/POP-01-2024-03.csv"
}

case_refused_payments_not_held() {
  local rc=0
  # 20250115's social_payments holds 2024-01 on: 2023-12 is before that (POP-01 is fine)
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2023-12 --to 2023-12 --reports SOC-01,POP-01 \
    --snapshot "$FIX/20250115" --create-key > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { cat "$TMP/log"; fail "a refused period gave exit 0"; }
  grep -q "social_payments of snapshot 20250115 holds periods from 2024-01 on; period 2023-12 (from 2023-12-01) is before that" \
    "$TMP/log" || { cat "$TMP/log"; fail "reason"; }
  grep -Eq "^REFUSED +SOC-01 +2023-12 " "$TMP/log" || { cat "$TMP/log"; fail "not listed at the end"; }
  [ ! -e "$TMP/o/archive/2023-12/SOC-01.h5" ] || fail "a refused table was archived"
  [ -e "$TMP/o/archive/2023-12/POP-01.h5" ] || fail "POP-01 of 2023-12 is describable from 20250115 and was not computed"
}

case_refused_no_snapshot() {
  local rc=0
  # nothing under the root is dated after 2025-01-31
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-12 --to 2025-01 --reports POP-01 --create-key \
    > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { cat "$TMP/log"; fail "a period without a snapshot gave exit 0"; }
  grep -Eq "^(REFUSED|FAILED) +POP-01 +2025-01 " "$TMP/log" || { cat "$TMP/log"; fail "2025-01 not listed at the end"; }
  [ -e "$TMP/o/archive/2024-12/POP-01.h5" ] || fail "2024-12 (from 20250115) was not computed"
  [ ! -e "$TMP/o/archive/2025-01/POP-01.h5" ] || fail "2025-01 was archived"
}

case_usage_errors() {
  expect_status 2 "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-02 --boundaries someday
  expect_status 2 "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-03 --to 2024-01
  expect_status 2 "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-02 --reprocess sometimes
  expect_status 2 "$REL" export --out "$O" --report POP-01 --period 2024-01 --boundaries someday
  [ ! -e "$TMP/o/archive" ] || fail "a usage error wrote an archive"
  # no classifier knows the territory after the newest snapshot
  local rc=0
  "$REL" backfill --snapshots "$FIX" --out "$TMP/o" --from 2024-01 --to 2024-01 --reports POP-01 --boundaries 2025-02-01 \
    > "$TMP/log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "--boundaries after the newest snapshot accepted"
  grep -q "after the newest snapshot" "$TMP/log" || { cat "$TMP/log"; fail "message"; }
  [ ! -e "$TMP/o/archive" ] || fail "a refused restatement wrote an archive"
  # a period never restated has no current restated table
  expect_status 1 "$REL" export --out "$O" --report POP-01 --period 2024-05 --boundaries current
}

run_case "history: backfill as of E equals the hand-worked tables and rejects" case_asof_backfill
run_case "history: the same backfill again computes nothing and changes no byte" case_rerun_changes_nothing
run_case "history: POP-01 version 1 to 2023-12, version 2 from 2024-01" case_methodology_versions
run_case "history: merged codes before the merge are rejected, the rejects name the rows" case_rejects_name_the_rows
run_case "history: restated on the newest snapshot's day, as-of tables and bundles untouched" case_restated_current
run_case "history: restated tables say their boundaries and classifier" case_restated_attributes
run_case "history: restated on a given day (predecessor rule with T for E)" case_restated_on_a_day
run_case "history: bundles hold the as-of values, never restated ones" case_bundles_hold_as_of
run_case "history: a restatement alone publishes nothing; the as-of run after it publishes as-of values" case_restated_first
run_case "history: export --boundaries current is the report's own latest restatement" case_current_is_per_report
run_case "history: a period not over in the pinned snapshot is refused" case_refused_not_over
run_case "history: payments before January of the previous year are refused" case_refused_payments_not_held
run_case "history: a period with no snapshot after it is not computed" case_refused_no_snapshot
run_case "history: usage errors exit 2, a day no classifier knows is refused" case_usage_errors
