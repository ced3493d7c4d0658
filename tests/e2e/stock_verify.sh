# Verification with stock tools (outputs.md "What akimat staff open"): the
# two commands README gives an akimat — OpenSSL and minisign, no esep —
# accept every published bundle and refuse a tampered one, a swapped
# signature and another key.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415

publish() { # OUT KEY
  "$ESEP" run --snapshot "$SNAP" --period 2025-03 --out "$1" --key "$2" > "$1.log" 2>&1 || { cat "$1.log"; return 1; }
}
[ -f "$TMP_ROOT/key" ] || "$ESEP" keygen --key "$TMP_ROOT/key" > /dev/null 2>&1

# published OUT: a copy of the month published with the script's key once
# per script (each case used to publish it again); a failure fails the
# case, and the next one tries again.
PUB=$TMP_ROOT/published
publish_with_key() { publish "$1" "$TMP_ROOT/key"; }
published() { once_then_copy "$PUB" publish_with_key "$1"; }

bundles() { find "$1/publish" -name 'esep-*.tar.zst' | sort; }   # revisions and latest names

openssl_ok() { # PUBDIR BUNDLE [SIG]
  openssl pkeyutl -verify -pubin -inkey "$1/esep.pub.pem" -rawin -in "$2" -sigfile "${3:-$2.ed25519}" > /dev/null 2>&1
}
minisign_ok() { # PUBDIR BUNDLE [SIG]
  minisign -V -p "$1/esep.minisign.pub" -m "$2" -x "${3:-$2.minisig}" -q > /dev/null 2>&1
}

case_stock_tools_accept() {
  published "$TMP/o"
  local pub=$TMP/o/publish n=0
  # the PEM and minisign keys hold the same 32 bytes as esep.pub (hex)
  [ "$(openssl pkey -pubin -in "$pub/esep.pub.pem" -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')" = \
    "$(tr -d '\n' < "$pub/esep.pub")" ] || fail "esep.pub.pem is not the key of esep.pub"
  [ "$(sed -n 2p "$pub/esep.minisign.pub" | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')" = \
    "$(tr -d '\n' < "$pub/esep.pub")" ] || fail "esep.minisign.pub is not the key of esep.pub"
  for b in $(bundles "$TMP/o"); do
    openssl_ok "$pub" "$b" || fail "openssl refuses $b"
    minisign_ok "$pub" "$b" || fail "minisign refuses $b"
    local want; want=$(basename "$b")
    case $want in *.r1.tar.zst) ;; *) want=${want%.tar.zst}.r1.tar.zst ;; esac
    [ "$(minisign -V -p "$pub/esep.minisign.pub" -m "$b" -Q)" = "$want" ] \
      || fail "trusted comment of $b does not name its revision $want"
    n=$((n + 1))
  done
  [ "$n" -eq 6 ] || fail "expected 3 revisions and 3 latest names, got $n"
}

case_stock_tools_refuse() {
  published "$TMP/o"
  local pub=$TMP/o/publish
  local b; b=$(bundles "$TMP/o" | grep '/61/.*\.r1\.tar\.zst$')
  local c; c=$(bundles "$TMP/o" | grep '/75/.*\.r1\.tar\.zst$')
  cp "$b" "$TMP/t.tar.zst"
  printf '\x00' | dd of="$TMP/t.tar.zst" bs=1 seek=1000 conv=notrunc status=none
  cmp -s "$b" "$TMP/t.tar.zst" && printf '\x01' | dd of="$TMP/t.tar.zst" bs=1 seek=1000 conv=notrunc status=none
  openssl_ok "$pub" "$TMP/t.tar.zst" "$b.ed25519" && fail "openssl accepts a changed byte"
  minisign_ok "$pub" "$TMP/t.tar.zst" "$b.minisig" && fail "minisign accepts a changed byte"
  openssl_ok "$pub" "$b" "$c.ed25519" && fail "openssl accepts another bundle's signature"
  minisign_ok "$pub" "$b" "$c.minisig" && fail "minisign accepts another bundle's signature"
  "$ESEP" keygen --key "$TMP/other" > /dev/null 2>&1 || return 1
  publish "$TMP/p" "$TMP/other" || return 1
  openssl_ok "$TMP/p/publish" "$b" && fail "openssl accepts another key"
  minisign_ok "$TMP/p/publish" "$b" && fail "minisign accepts another key"
  openssl_ok "$pub" "$b" && minisign_ok "$pub" "$b" || fail "the untouched bundle is refused"
}

run_case "stock verify: openssl and minisign accept every bundle, with the key esep.pub holds" case_stock_tools_accept
run_case "stock verify: a changed byte, a swapped signature, another key are refused" case_stock_tools_refuse
