# Published bundles (outputs.md "Bundles", reports.md "Disclosure control"):
# contents equal the manifest, no IIN anywhere, suppression holds in every
# group (checked by an independent Python reading of the rules), tampering
# is detected by `esep verify`, revisions are kept, bundles are identical
# for any rank count.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
PY=/usr/bin/python3   # Debian's, with h5py

publish() { # OUT [NP]
  esep_np "${2:-1}" run --snapshot "$SNAP" --period 2025-03 --out "$1" --key "$TMP_ROOT/key" > "$1.log" 2>&1 \
    || { cat "$1.log"; return 1; }
}
[ -f "$TMP_ROOT/key" ] || "$ESEP" keygen --key "$TMP_ROOT/key" > /dev/null 2>&1

# published OUT: a copy of the month published once per script (the same
# `publish` on 1 rank that each case used to repeat; cases change their
# copies). Made by the first case that needs it; a failure fails that case
# and the next one tries again.
PUB=$TMP_ROOT/published
published() {
  once_then_copy "$PUB" publish "$1"
  cp "$PUB.log" "$1.log"
}

bundles() { find "$1/publish" -name 'esep-*.r*.tar.zst' | sort; }

case_contents_equal_manifest() {
  published "$TMP/o"
  [ "$(bundles "$TMP/o" | wc -l)" -eq 3 ] || fail "expected bundles 00, 61, 75"
  for b in $(bundles "$TMP/o"); do
    rm -rf "$TMP/x" && mkdir -p "$TMP/x" && tar --zstd -xf "$b" -C "$TMP/x" || fail "GNU tar cannot read $b"
    bsdtar -tf "$b" > "$TMP/bsd.txt" || fail "bsdtar cannot read $b"
    grep -qx MANIFEST.json "$TMP/bsd.txt" || fail "bsdtar lists no MANIFEST.json in $b"
    $PY - "$TMP/x" <<'PY' || return 1
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, "MANIFEST.json")))
listed = {f["path"] for f in m["files"]}
on_disk = set()
for d, _, files in os.walk(root):
    for f in files:
        on_disk.add(os.path.relpath(os.path.join(d, f), root))
assert on_disk - {"MANIFEST.json", "MANIFEST.sig"} == listed, (on_disk, listed)
for f in m["files"]:
    data = open(os.path.join(root, f["path"]), "rb").read()
    assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]
assert {r["id"] for r in m["reports"]} >= {"POP-01", "SOC-01", "APL-01"}
PY
    "$ESEP" verify "$b" --pubkey "$TMP/o/publish/esep.pub" > "$TMP/v.txt" || { cat "$TMP/v.txt"; return 1; }
  done
}

case_no_iin_in_any_byte() {
  published "$TMP/o"
  for b in $(bundles "$TMP/o"); do zstd -q -d -c "$b"; done > "$TMP/all.tar"
  $PY - "$TMP/all.tar" "$SNAP" <<'PY'
import glob, re, sys
data = open(sys.argv[1], "rb").read()
iins = set()
for path in glob.glob(sys.argv[2] + "/*.csv"):
    for line in open(path, encoding="utf-8"):
        iins.update(re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", line))
assert len(iins) > 50, len(iins)
found = [i for i in iins if i.encode() in data]
assert not found, found[:5]
# and no free-standing 12-digit number at all (hex digests excluded)
loose = re.findall(rb"(?<![0-9a-f])[0-9]{12}(?![0-9a-f])", data)
assert not loose, loose[:5]
PY
}

case_suppression_property() {
  published "$TMP/o"
  for b in $(bundles "$TMP/o"); do
    rm -rf "$TMP/x" && mkdir -p "$TMP/x" && tar --zstd -xf "$b" -C "$TMP/x"
    $PY "$ROOT/tests/e2e/check_suppression.py" "$TMP/x" || { echo "in $b"; return 1; }
  done
}

case_archive_keeps_exact_values() {
  published "$TMP/o"
  "$ESEP" export --out "$TMP/o" --report SOC-01 --period 2025-03 | diff - "$ROOT/tests/fixtures/reports/expected/SOC-01-2025-03.csv"
}

# Rebuilds a bundle from a directory (python tarfile + zstd), for tampering.
repack() { # DIR OUT
  $PY - "$1" "$2.tar" <<'PY'
import os, sys, tarfile
root, out = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    names = ["MANIFEST.json", "MANIFEST.sig"] + sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
        if f not in ("MANIFEST.json", "MANIFEST.sig") or d != root)
    for n in names:
        t.add(os.path.join(root, n), arcname=n)
PY
  zstd -q -f "$2.tar" -o "$2" && rm "$2.tar"
}

case_tampering_detected() {
  published "$TMP/o"
  local b=$TMP/o/publish/75/2025-03/r1/esep-75-2025-03.r1.tar.zst pub=$TMP/o/publish/esep.pub
  mkdir -p "$TMP/x" && tar --zstd -xf "$b" -C "$TMP/x"
  # a flipped byte in one report file
  cp -r "$TMP/x" "$TMP/a" && sed -i '2s/,1,/,2,/' "$TMP/a/csv/APL-01.csv"
  repack "$TMP/a" "$TMP/a.tar.zst"; cp "$b.sig" "$TMP/a.tar.zst.sig"
  "$ESEP" verify "$TMP/a.tar.zst" --pubkey "$pub" > "$TMP/out" && fail "flipped byte accepted"
  grep -q "csv/APL-01.csv: SHA-256 .* differs from the manifest" "$TMP/out" || { cat "$TMP/out"; return 1; }
  # an edited manifest
  cp -r "$TMP/x" "$TMP/m" && sed -i 's/"revision": 1/"revision": 2/' "$TMP/m/MANIFEST.json"
  repack "$TMP/m" "$TMP/m.tar.zst"; cp "$b.sig" "$TMP/m.tar.zst.sig"
  "$ESEP" verify "$TMP/m.tar.zst" --pubkey "$pub" > "$TMP/out" && fail "edited manifest accepted"
  grep -q "MANIFEST.sig: not a signature of MANIFEST.json" "$TMP/out" || { cat "$TMP/out"; return 1; }
  # the (validly signed) manifest of another region swapped in
  mkdir -p "$TMP/y" && tar --zstd -xf "$TMP/o/publish/61/2025-03/r1/esep-61-2025-03.r1.tar.zst" -C "$TMP/y"
  cp -r "$TMP/x" "$TMP/s" && cp "$TMP/y/MANIFEST.json" "$TMP/y/MANIFEST.sig" "$TMP/s/"
  repack "$TMP/s" "$TMP/s.tar.zst"; cp "$b.sig" "$TMP/s.tar.zst.sig"
  "$ESEP" verify "$TMP/s.tar.zst" --pubkey "$pub" > "$TMP/out" && fail "swapped manifest accepted"
  grep -q "differs from the manifest" "$TMP/out" && grep -q "detached signature does not match" "$TMP/out" \
    || { cat "$TMP/out"; return 1; }
  # an extra file
  cp -r "$TMP/x" "$TMP/e" && echo hi > "$TMP/e/csv/EXTRA.csv"
  repack "$TMP/e" "$TMP/e.tar.zst"; cp "$b.sig" "$TMP/e.tar.zst.sig"
  "$ESEP" verify "$TMP/e.tar.zst" --pubkey "$pub" > "$TMP/out" && fail "extra file accepted"
  grep -q "csv/EXTRA.csv: in the bundle but not listed" "$TMP/out" || { cat "$TMP/out"; return 1; }
  # another key
  "$ESEP" keygen --key "$TMP/other" > /dev/null
  "$ESEP" verify "$b" --pubkey "$TMP/other.pub" > "$TMP/out" && fail "wrong key accepted"
  # a corrupted compressed file
  cp "$b" "$TMP/c.tar.zst" && cp "$b.sig" "$TMP/c.tar.zst.sig"
  printf '\xff\xff\xff\xff' | dd of="$TMP/c.tar.zst" bs=1 seek=200 conv=notrunc 2>/dev/null
  "$ESEP" verify "$TMP/c.tar.zst" --pubkey "$pub" > "$TMP/out" && fail "corrupt bundle accepted"
  return 0
}

case_revisions_kept() {
  published "$TMP/o"
  local d=$TMP/o/publish/75/2025-03
  sha256sum "$d/r1/esep-75-2025-03.r1.tar.zst" > "$TMP/r1.sum"
  # identical inputs: no new revision, and the run says so
  publish "$TMP/o"
  [ ! -e "$d/r2" ] || fail "identical inputs made revision 2"
  grep -q "0 new bundle revisions, 3 unchanged" "$TMP/o.log" || fail "the run does not say nothing changed"
  # other inputs (the same rows in a later snapshot): revision 2, r1 kept
  mkdir -p "$TMP/later" && cp -r "$SNAP" "$TMP/later/20250416"
  esep_np 1 run --snapshot "$TMP/later/20250416" --period 2025-03 --out "$TMP/o" --key "$TMP_ROOT/key" > "$TMP/o.log" 2>&1 \
    || { cat "$TMP/o.log"; return 1; }
  [ -f "$d/r2/esep-75-2025-03.r2.tar.zst" ] && [ -f "$d/r2/esep-75-2025-03.r2.tar.zst.sig" ] || fail "no revision 2"
  sha256sum -c --quiet "$TMP/r1.sum" || fail "revision 1 changed"
  [ "$(readlink "$d/latest")" = r2 ] || fail "latest is not r2"
  cmp "$d/latest/esep-75-2025-03.tar.zst" "$d/r2/esep-75-2025-03.r2.tar.zst" || fail "latest/ holds another bundle"
  [ -z "$(find "$TMP/o/publish" "$TMP/o/archive" -name '.*')" ] || fail "temporary files left"
  ls "$TMP/o/archive/2025-03/history/" | has_line '^POP-01\.[0-9a-f]\{16\}\.h5$' || fail "the earlier POP-01 table was not kept"
  "$ESEP" verify "$d/latest/esep-75-2025-03.tar.zst" --pubkey "$TMP/o/publish/esep.pub" > /dev/null
}

case_same_bundles_for_any_rank_count() {
  published "$TMP/n1"
  publish "$TMP/n3" 3
  diff -r "$TMP/n1/publish" "$TMP/n3/publish"
}

case_keys() {
  "$ESEP" keygen --key "$TMP/k" > /dev/null || return 1
  [ "$(stat -c %a "$TMP/k")" = 600 ] || fail "secret key mode $(stat -c %a "$TMP/k")"
  "$ESEP" keygen --key "$TMP/k" 2> "$TMP/err" && fail "overwrote a key"
  grep -q "already exists" "$TMP/err" || return 1
  chmod 644 "$TMP/k"
  esep_np 1 run --snapshot "$SNAP" --period 2025-03 --out "$TMP/o" --key "$TMP/k" > /dev/null 2> "$TMP/err" && fail "used a world-readable key"
  grep -q "readable by others" "$TMP/err"
}

run_case "publish: each bundle holds exactly the files of its manifest" case_contents_equal_manifest
run_case "publish: no IIN in any byte of any bundle" case_no_iin_in_any_byte
run_case "publish: suppression holds in every group of every bundle" case_suppression_property
run_case "publish: the archive keeps exact values" case_archive_keeps_exact_values
run_case "publish: tampering is detected and named" case_tampering_detected
run_case "publish: identical inputs make no revision; other inputs a new one, old ones stay" case_revisions_kept
run_case "publish: bundles identical for 1 and 3 ranks" case_same_bundles_for_any_rank_count
run_case "publish: keys are private and never overwritten" case_keys
