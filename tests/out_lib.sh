# out_lib.sh — checks on an OUT directory shared by the crash and fault
# tests (sourced after lib.sh).

# Every file under archive/, publish/ and rejects/ with its digest (links
# with their target): what must be byte-identical between two OUTs.
# (One Python process for the whole tree: the loop of sha256sum calls it
# replaces printed the same lines and took seconds on a nightly's OUT.)
tree_digest() {
  (cd "$1" && find archive publish rejects \( -type f -o -type l \) ! -name '.*' | sort | python3 -c '
import hashlib, os, sys
for f in sys.stdin.read().splitlines():
    if os.path.islink(f):
        print(f"{f} -> {os.readlink(f)}")
    else:
        with open(f, "rb") as fh:
            print(f, hashlib.sha256(fh.read()).hexdigest())
')
}

# No partial file under a final name: every revision directory holds its
# bundle and signature and verifies; every archived table opens.
all_whole() {
  local out=$1 d dirs=""
  [ ! -d "$out/publish" ] || dirs=$(find "$out/publish" -mindepth 3 -maxdepth 3 -type d -name 'r[0-9]*')
  for d in $dirs; do
    ls "$d"/*.r[0-9]*.tar.zst > /dev/null 2>&1 && ls "$d"/*.r[0-9]*.tar.zst.sig > /dev/null 2>&1 || fail "$d is not whole"
    "$ESEP" verify "$(ls "$d"/*.r[0-9]*.tar.zst)" --pubkey "$out/publish/esep.pub" > /dev/null || fail "$d does not verify"
  done
  /usr/bin/python3 - "$out" <<'PY' || fail "an archived table does not open"
import glob, sys, h5py
for p in glob.glob(sys.argv[1] + "/archive/*/*.h5"):
    with h5py.File(p, "r") as f:
        f["rows"][:]
PY
}


# same_as_reference OUT [MESSAGE]: fails the case unless OUT's tree_digest
# equals the reference's ($REF.digest), showing the first differences.
same_as_reference() {
  tree_digest "$1" > "$TMP/got.digest"
  diff "$TMP/got.digest" "$REF.digest" > "$TMP/digest.diff" || { head -20 "$TMP/digest.diff" >&2; fail "${2:-$1 differs from the reference}"; }
}
