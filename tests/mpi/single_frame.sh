# Single-frame .csv.zst — what the ordinary `zstd` command writes, one frame
# per file — split by decompressed bytes across real Open MPI ranks: `esep
# check` and `esep run` give for -np 1, 2, 3 and 4 exactly what they give
# on the same CSV uncompressed (counts, rejects with true line numbers,
# archives and exports), and a corrupt frame fails its extract with the
# same message for any rank count. Also: progress of a scan covers all ranks.
source "$(dirname "$0")/../lib.sh"
# Relayed segments of 16 KiB (src/ingest/relay.h; 1 MiB by default): the
# 1 MB persons file then travels in ~60 segments that interleave between
# the ranks, so every case below reads interleaved shares.
export ESEP_RELAY_SEGMENT_BYTES=16384
SNAP=$TMP_ROOT/snap
"$GEN" --persons 20000 --date 20261122 --seed 11 --out "$SNAP/plain" --plain >/dev/null 2>&1

# zstd -3 of every extract of SRC_DIR into DIR, one frame each (a .csv.zst
# there is decompressed to a file first, so the frame declares its size as
# `zstd FILE` does).
single_frame_copy() { # SRC_DIR DIR
  mkdir -p "$2"
  local f
  for f in "$1"/*.csv.zst; do
    [ -e "$f" ] || continue
    zstd -q -d "$f" -o "$2/tmp.csv" && zstd -q -3 --rm "$2/tmp.csv" -o "$2/$(basename "$f")" || return 1
  done
  for f in "$1"/*.csv; do zstd -q -3 "$f" -o "$2/$(basename "$f").zst" || return 1; done
  [ "$(zstd -lv "$2/persons.csv.zst" 2>/dev/null | awk '/Zstandard Frames/ {print $NF}')" = 1 ] \
    || fail "zstd did not write one frame"
}
single_frame_copy "$SNAP/plain/20261122" "$SNAP/sf/20261122"

# Rank counts that repeat a computation run on the release build (the same
# bytes): each loop keeps 4 ranks under the sanitizers, 1 and 3 ranks run
# sanitized in case_shared_joins and case_progress_all_ranks, and the unit
# tests cut a single frame at every byte under the sanitizers. Exports run
# sanitized in tests/mpi/reports_fixture.sh.
RELEASE=$ROOT/bin/esep
BUILD=([1]=$RELEASE [2]=$RELEASE [3]=$RELEASE [4]=$ESEP)   # the esep for N ranks

# alone OUT: a copy of the month computed once per script on 1 rank by the
# sanitized esep from the single-frame files (case_shared_joins and
# case_run_ranks both need it).
ALONE=$TMP_ROOT/alone
alone() {
  if [ ! -f "$ALONE.done" ]; then
    rm -rf "$ALONE"
    esep_np 1 run --snapshot "$SNAP/sf/20261122" --period 2026-10 --out "$ALONE" --no-publish > "$ALONE.log" 2>&1 \
      || { cat "$ALONE.log"; fail "run alone"; }
    touch "$ALONE.done"
  fi
  cp -a "$ALONE" "$1"
}

case_check_ranks() {
  esep_np 1 check --snapshot "$SNAP/plain/20261122" --out "$TMP/plain" --json > "$TMP/plain.json" 2>/dev/null \
    || fail "plain check"
  for n in 1 2 3 4; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$SNAP/sf/20261122" --out "$TMP/np$n" --json > "$TMP/np$n.json" 2>"$TMP/np$n.err" \
      || { cat "$TMP/np$n.err"; fail "np $n exit status"; }
    cmp "$TMP/plain.json" "$TMP/np$n.json" || fail "np $n summary differs from plain"
    diff -r "$TMP/plain/rejects" "$TMP/np$n/rejects" || fail "np $n rejects differ from plain"
  done
  python3 - "$TMP/np1.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["persons"]["read"] == 20000 and j["persons"]["rejected"] == 0, j["persons"]
PY
}

# Broken rows (and a valid record spanning two lines) in single-frame files:
# the rejects worked out by tests/mpi/inject_bad_rows.py, whatever the cuts.
case_injected_rows() {
  python3 "$ROOT/tests/mpi/inject_bad_rows.py" "$SNAP/plain/20261122" "$TMP/badplain/20261122" "$TMP/expected.txt" \
    || fail "injection failed"
  single_frame_copy "$TMP/badplain/20261122" "$TMP/bad/20261122"
  for n in 1 2 3 4; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$TMP/bad/20261122" --out "$TMP/out$n" > /dev/null 2>&1 || fail "np $n exit"
    rejects_summary "$TMP/out$n/rejects/20261122" > "$TMP/got$n.txt"
    diff "$TMP/got$n.txt" "$TMP/expected.txt" || fail "np $n rejects differ"
  done
}

# A quoted field of 1.5 MiB with newlines inside, in the middle of persons:
# no segment may end inside it (its newlines are at odd quote parity), and
# its record is longer than one relay message, so it travels in several.
# The row is rejected as too long, and every other row and line number is
# the same for 1–4 ranks; under --stats every rank parsed part of persons.
case_long_quoted_record() {
  mkdir -p "$TMP/lp/20261122"
  cp "$SNAP/plain/20261122"/* "$TMP/lp/20261122/"
  ( python3 - "$TMP/lp/20261122/persons.csv" <<'PY'
import sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\n")
field = '"' + ("x" * 1000 + "\n") * 1500 + '"'
lines.insert(len(lines) // 2, "800101300016;" + field + ";1980-01-01;751110000;9;;;KAZ;long")
open(path, "w", encoding="utf-8").write("\n".join(lines))
print(len(lines) // 2 + 1)  # its line number: lines[0] is line 1
PY
  ) > "$TMP/line" || fail "writing the long record"
  single_frame_copy "$TMP/lp/20261122" "$TMP/lz/20261122"
  for n in 1 2 3 4; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$TMP/lz/20261122" --out "$TMP/o$n" --json --stats \
      > "$TMP/l$n.json" 2> "$TMP/l$n.err" || { tail "$TMP/l$n.err"; fail "np $n exit"; }
    cmp "$TMP/l1.json" "$TMP/l$n.json" || fail "np $n summary differs"
    diff -r "$TMP/o1/rejects" "$TMP/o$n/rejects" || fail "np $n rejects differ"
  done
  python3 - "$TMP/l1.json" "$TMP/o1/rejects/20261122/persons.csv" "$(cat "$TMP/line")" <<'PY'
import csv, json, sys
j = json.load(open(sys.argv[1]))["persons"]
assert j["read"] == 20001 and j["rejected"] == 1, j
rows = list(csv.reader(open(sys.argv[2], encoding="utf-8")))
assert len(rows) == 2 and rows[1][0] == sys.argv[3] and rows[1][2] == "record_too_long", rows[1][:4]
PY
  for r in 0 1; do
    grep -Eq "^stats: extract=persons rank=$r bytes=[1-9]" "$TMP/l2.err" || fail "rank $r parsed no persons at -np 2"
  done
}

# A receiving rank that stops in the middle of a relayed frame
# (ESEP_FAIL_AT=relay: after its first segment, as if out of memory) fails
# the extract on every rank with one message, and no rank is left waiting:
# it takes the rest of its messages while the relaying rank goes on. On 3
# ranks, each receiving rank in turn. (The relaying rank's own segments
# depend on timing, so its failure is the corrupt-frame case below: its
# message reaches every rank.)
case_relay_rank_fails() {
  local r rc
  for r in 0 1; do
    rc=0
    ESEP_FAIL_AT=relay ESEP_FAIL_RANK=$r timeout -k 10 120 mpirun --oversubscribe -np 3 "$RELEASE" check \
      --snapshot "$SNAP/sf/20261122" --out "$TMP/f$r" --json > "$TMP/f$r.json" 2> "$TMP/f$r.err" || rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || { tail "$TMP/f$r.err"; fail "rank $r failing: a rank still waited"; }
    [ "$rc" = 1 ] || { tail "$TMP/f$r.err"; fail "rank $r failing: exit $rc, expected 1"; }
    grep -q "ESEP_FAIL_AT=relay: rank $r fails here" "$TMP/f$r.err" || { cat "$TMP/f$r.err"; fail "hook did not fire on rank $r"; }
    grep -q 'level=error rank=0 .*msg="persons: out of memory while scanning"' "$TMP/f$r.err" \
      || { cat "$TMP/f$r.err"; fail "rank $r failing: no error for persons"; }
  done
}

# Every report of a month: archives identical for 1–4 ranks, exports equal
# to those computed from the uncompressed CSV.
case_run_ranks() {
  esep_np 1 run --snapshot "$SNAP/plain/20261122" --period 2026-10 --out "$TMP/plain" --no-publish \
    > "$TMP/plain.log" 2>&1 || { cat "$TMP/plain.log"; fail "plain run"; }
  alone "$TMP/np1"
  for n in 2 3 4; do
    ESEP=${BUILD[n]} esep_np "$n" run --snapshot "$SNAP/sf/20261122" --period 2026-10 --out "$TMP/np$n" --no-publish \
      > "$TMP/np$n.log" 2>&1 || { cat "$TMP/np$n.log"; fail "np $n run"; }
  done
  for n in 2 3 4; do
    diff -r "$TMP/np1/archive" "$TMP/np$n/archive" || fail "archive differs for -np $n"
    diff -r "$TMP/np1/rejects" "$TMP/np$n/rejects" || fail "rejects differ for -np $n"
  done
  local count=0 ESEP=$RELEASE
  for h5 in "$TMP"/np1/archive/2026-10/*.h5; do
    local id
    id=$(basename "$h5" .h5)
    "$ESEP" export --out "$TMP/plain" --report "$id" --period 2026-10 > "$TMP/p-$id.csv" || fail "export plain $id"
    "$ESEP" export --out "$TMP/np3" --report "$id" --period 2026-10 > "$TMP/s-$id.csv" || fail "export sf $id"
    cmp "$TMP/p-$id.csv" "$TMP/s-$id.csv" || fail "$id differs between plain and single-frame"
    [ "$(wc -l < "$TMP/s-$id.csv")" -gt 1 ] || fail "$id is empty"
    count=$((count + 1))
  done
  [ "$count" -ge 10 ] || fail "only $count monthly reports"
}

# The hand-worked report fixture, single-frame: tiny files cut by 4 ranks
# (some shares empty) still give the expected CSVs.
case_fixture_tiny_files() {
  local fix=$ROOT/tests/fixtures/reports
  single_frame_copy "$fix/snap/20250415" "$TMP/fx/20250415"
  esep_np 4 run --snapshot "$TMP/fx/20250415" --period 2025-03 --out "$TMP/o" --no-publish > "$TMP/o.log" 2>&1 \
    || { cat "$TMP/o.log"; fail "run"; }
  local ESEP=$RELEASE
  for f in "$fix"/expected/*-2025-03.csv; do
    local id
    id=$(basename "$f" -2025-03.csv)
    "$ESEP" export --out "$TMP/o" --report "$id" --period 2025-03 > "$TMP/$id.csv" || fail "export $id"
    diff "$TMP/$id.csv" "$f" | head -10
    cmp -s "$TMP/$id.csv" "$f" || fail "$id differs from the hand-worked CSV"
  done
}

case_corrupt_frame() {
  mkdir -p "$TMP/c/20261122"
  cp "$SNAP/sf/20261122"/* "$TMP/c/20261122/"
  python3 - "$TMP/c/20261122/social_payments.csv.zst" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
for i in range(len(data) // 2, len(data) // 2 + 64): data[i] ^= 0xA5
open(path, 'wb').write(data)
PY
  for n in 1 2 4; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$TMP/c/20261122" --out "$TMP/o$n" --json > "$TMP/c$n.json" 2>/dev/null && fail "exit 0"
  done
  cmp "$TMP/c1.json" "$TMP/c2.json" && cmp "$TMP/c1.json" "$TMP/c4.json" || fail "messages differ between rank counts"
  python3 - "$TMP/c1.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "corrupt zstd frame" in j["social_payments"]["error"], j["social_payments"]
assert j["persons"]["rejected"] == 0 and j["persons"]["read"] == 20000
PY
}

# Progress under mpirun (no terminal) is logged by rank 0 for ALL ranks:
# the last line for persons counts every rank's rows, not rank 0's share.
case_progress_all_ranks() {
  ESEP_PROGRESS_SECONDS=0 esep_np 3 check --snapshot "$SNAP/sf/20261122" --out "$TMP/o" > /dev/null 2> "$TMP/err" \
    || { cat "$TMP/err"; fail "check"; }
  grep 'level=info rank=0 .*msg="persons: .* read, .* rows' "$TMP/err" > "$TMP/lines" || fail "no progress lines"
  [ "$(grep -c . "$TMP/lines")" -ge 2 ] || fail "a single progress line"
  tail -1 "$TMP/lines" | has_line 'persons: 100.0% read, 20000 rows, .* 3 ranks' || { tail -3 "$TMP/lines"; fail "last line"; }
  ! grep -q 'rank=[12] .*msg=".*% read' "$TMP/err" || fail "a rank other than 0 reported progress"
  ESEP=$RELEASE esep_np 3 check --snapshot "$SNAP/sf/20261122" --out "$TMP/q" > /dev/null 2> "$TMP/quiet"
  ! grep -q '% read' "$TMP/quiet" || fail "progress lines for a scan shorter than the default interval"
}

# Forms whose joins keep the same rows share one set of join facts (and
# one Bloom-filter pruning for all of them): copies of LAB-01 and XR-01 and
# a LAB-01 restricted to level 0 must give exactly what LAB-01 and XR-01
# give alone, on 3 ranks.
case_shared_joins() {
  alone "$TMP/alone"
  mkdir -p "$TMP/jobs"
  cp "$ROOT"/jobs/*.yaml "$ROOT/bench/forms/B006-LAB-01.yaml" "$TMP/jobs/"
  grep -q '^- 0$' "$TMP/jobs/B006-LAB-01.yaml" && ! grep -q '^- 1$' "$TMP/jobs/B006-LAB-01.yaml" || fail "B006 is not level 0 only"
  sed 's/^id: LAB-01/id: LAB-91/' "$ROOT/jobs/LAB-01.yaml" > "$TMP/jobs/LAB-91.yaml"
  sed 's/^id: XR-01/id: XR-91/' "$ROOT/jobs/XR-01.yaml" > "$TMP/jobs/XR-91.yaml"
  esep_np 3 run --snapshot "$SNAP/sf/20261122" --period 2026-10 --out "$TMP/forms" --no-publish --jobs "$TMP/jobs" \
    > "$TMP/forms.log" 2>&1 || { cat "$TMP/forms.log"; fail "run with forms"; }
  local id
  for id in LAB-01 XR-01; do
    "$ESEP" export --out "$TMP/alone" --report "$id" --period 2026-10 > "$TMP/$id.alone.csv" || fail "export $id"
    "$ESEP" export --out "$TMP/forms" --report "$id" --period 2026-10 > "$TMP/$id.csv" || fail "export $id"
    cmp "$TMP/$id.alone.csv" "$TMP/$id.csv" || fail "$id changed beside the forms"
    "$ESEP" export --out "$TMP/forms" --report "${id%-01}-91" --period 2026-10 > "$TMP/copy.csv" || fail "export copy"
    cmp "$TMP/$id.csv" "$TMP/copy.csv" || fail "the copy of $id differs"
  done
  awk -F, 'NR == 1 || $2 == 0' "$TMP/LAB-01.csv" > "$TMP/level0.csv"
  "$ESEP" export --out "$TMP/forms" --report B006-LAB-01 --period 2026-10 > "$TMP/b006.csv" || fail "export B006"
  [ "$(wc -l < "$TMP/level0.csv")" -ge 3 ] && cmp "$TMP/level0.csv" "$TMP/b006.csv" || fail "B006 is not LAB-01 at level 0"
}

run_case "single frame: esep check equals plain CSV for 1, 2, 3, 4 ranks" case_check_ranks
run_case "engine: identical joins of several forms share their facts, same results" case_shared_joins
run_case "progress: logged by rank 0 for all ranks under mpirun" case_progress_all_ranks
run_case "single frame: injected bad rows rejected exactly for 1, 2, 3, 4 ranks" case_injected_rows
run_case "single frame: a 1.5 MiB quoted record is never cut, same rejects for 1-4 ranks" case_long_quoted_record
run_case "single frame: a rank failing mid-relay fails the extract on every rank, none left waiting" case_relay_rank_fails
run_case "single frame: esep run archives identical for 1-4 ranks, exports equal plain" case_run_ranks
run_case "single frame: tiny files on 4 ranks give the hand-worked reports" case_fixture_tiny_files
run_case "single frame: a corrupt frame fails its extract, same message for 1, 2, 4 ranks" case_corrupt_frame
