# `esep check` under real Open MPI ranks on a generated snapshot: the same
# counts and byte-identical rejects for -np 1, 2 and 3, for multi-frame
# .csv.zst (frames cut mid-record) and for plain .csv (byte ranges cut
# anywhere); zero rejects on generated data; and injected bad rows rejected
# exactly, with the true line numbers, whatever the rank count.
source "$(dirname "$0")/../lib.sh"
SNAP=$TMP_ROOT/snap
"$GEN" --persons 20000 --date 20261122 --seed 11 --out "$SNAP/zst" --frame-bytes 65536 >/dev/null 2>&1
"$GEN" --persons 20000 --date 20261122 --seed 11 --out "$SNAP/plain" --plain >/dev/null 2>&1
# 2 ranks repeat what 1 and 3 ranks compute: the release build (the same
# bytes); 1 and 3 ranks run sanitized.
BUILD=([1]=$ESEP [2]=$ROOT/bin/esep [3]=$ESEP)   # the esep for N ranks

same_for_all_rank_counts() {
  local snap=$1
  for n in 1 2 3; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$snap" --out "$TMP/np$n" --json > "$TMP/np$n.json" 2>"$TMP/np$n.err" \
      || { cat "$TMP/np$n.err"; fail "np $n exit status"; }
  done
  cmp "$TMP/np1.json" "$TMP/np2.json" || fail "summaries differ for 1 and 2 ranks"
  cmp "$TMP/np1.json" "$TMP/np3.json" || fail "summaries differ for 1 and 3 ranks"
  diff -r "$TMP/np1/rejects" "$TMP/np2/rejects" || fail "rejects differ for 1 and 2 ranks"
  diff -r "$TMP/np1/rejects" "$TMP/np3/rejects" || fail "rejects differ for 1 and 3 ranks"
}

zero_rejects() {
  python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j) == 9, j.keys()
for name, s in j.items():
    assert "error" not in s, (name, s)
    assert s["rejected"] == 0 and s["read"] == s["accepted"] > 0, (name, s)
PY
}

case_zst_ranks() {
  same_for_all_rank_counts "$SNAP/zst/20261122"
  zero_rejects "$TMP/np1.json"
}
case_plain_ranks() {
  same_for_all_rank_counts "$SNAP/plain/20261122"
  zero_rejects "$TMP/np1.json"
  esep_np 1 check --snapshot "$SNAP/zst/20261122" --out "$TMP/z" --json > "$TMP/z.json" 2>/dev/null
  cmp "$TMP/np1.json" "$TMP/z.json" || fail "plain and zst differ"
}

# Corrupts chosen lines of a copy of the snapshot (tests/mpi/inject_bad_rows.py
# computes, independently of esep, which rows must be rejected and why, including
# rows of other extracts that referred to a person made invalid), then checks
# the rejects for 1, 2 and 3 ranks.
case_injected_rows() {
  python3 "$ROOT/tests/mpi/inject_bad_rows.py" "$SNAP/plain/20261122" "$TMP/bad/20261122" "$TMP/expected.txt" \
    || fail "injection failed"
  for n in 1 2 3; do
    ESEP=${BUILD[n]} esep_np "$n" check --snapshot "$TMP/bad/20261122" --out "$TMP/out$n" > /dev/null 2>&1 || fail "np $n exit"
    rejects_summary "$TMP/out$n/rejects/20261122" > "$TMP/got$n.txt"
    diff "$TMP/got$n.txt" "$TMP/expected.txt" || fail "np $n rejects differ"
  done
}

case_corrupt_frame_fails_only_that_extract() {
  mkdir -p "$TMP/c/20261122"
  cp "$SNAP/zst/20261122"/* "$TMP/c/20261122/"
  local f=$TMP/c/20261122/social_payments.csv.zst size
  size=$(stat -c %s "$f")
  python3 - "$f" "$size" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, 'rb').read())
for i in range(size // 2, size // 2 + 64): data[i] ^= 0xA5
open(path, 'wb').write(data)
PY
  for n in 1 3; do
    esep_np "$n" check --snapshot "$TMP/c/20261122" --out "$TMP/o$n" --json > "$TMP/c$n.json" 2>/dev/null && fail "exit 0"
  done
  cmp "$TMP/c1.json" "$TMP/c3.json" || fail "messages differ between 1 and 3 ranks"
  python3 - "$TMP/c1.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "zstd frame" in j["social_payments"]["error"], j["social_payments"]
assert j["persons"]["rejected"] == 0 and j["persons"]["read"] == 20000
PY
}

run_case "mpi: .csv.zst frames, same results for 1, 2, 3 ranks, zero rejects" case_zst_ranks
run_case "mpi: plain .csv byte ranges, same results for 1, 2, 3 ranks" case_plain_ranks
run_case "mpi: injected bad rows rejected exactly for 1, 2, 3 ranks" case_injected_rows
run_case "mpi: a corrupt frame fails its extract, same message for 1 and 3 ranks" case_corrupt_frame_fails_only_that_extract
