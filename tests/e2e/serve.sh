# `esep serve`, the bundle download service, on loopback: tokens (401),
# regions (403, the same bytes whether or not the bundle exists), path
# tricks (400), ETag and If-None-Match, ranges and `curl -C -` resume,
# the catalog, parallel downloads, a new revision published while
# downloads run (each gets one whole revision), the audit log, `esep access
# add`, loopback binding and a clean SIGTERM. The bundles are random bytes
# laid out as src/publish/layout.h says; the service does not parse them.
# One server runs for the whole script (started below, always stopped by
# the EXIT trap); every curl has --max-time.
source "$(dirname "$0")/../lib.sh"

SRV=$TMP_ROOT/srv
OUT=$SRV/out
ACC=$SRV/access
mkdir -p "$SRV"

new_token() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
token_hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# publish REGION PERIOD REV BYTES: a random revision and its signature, the
# way the publisher does it (a revision directory filled under a temporary
# name and renamed into place, then the `latest` link swapped by rename).
publish() {
  local dir=$OUT/publish/$1/$2 base=esep-$1-$2
  mkdir -p "$dir/.r$3.tmp"
  head -c "$4" /dev/urandom > "$dir/.r$3.tmp/$base.r$3.tar.zst"
  printf '%0128x\n' "$3" > "$dir/.r$3.tmp/$base.r$3.tar.zst.sig"
  mv -T "$dir/.r$3.tmp" "$dir/r$3"
  ln -sfn "r$3" "$dir/.latest.tmp" && mv -T "$dir/.latest.tmp" "$dir/latest"
}
bundle() { echo "$OUT/publish/$1/$2/r$3/esep-$1-$2.r$3.tar.zst"; }

T75=$(new_token) T61=$(new_token) TALL=$(new_token) TAUD=$(new_token)
{
  echo "# test akimats"
  echo "akimat-75 $(token_hash "$T75") 75"
  echo "akimat-61 $(token_hash "$T61") 61,00"
  echo "republic $(token_hash "$TALL") *"
  echo "auditor $(token_hash "$TAUD") 75"
} > "$ACC"
publish 75 2026-10 1 200000
publish 75 2026-Q3 1 3000
publish 75 2026-Q3 2 4000
publish 00 2026-10 1 5000
publish 61 2026-10 1 6000
mkdir -p "$OUT/publish/47/2026-10"  # a region directory with nothing signed
mkdir -p "$OUT/publish/47/2026-10/r1" && printf 'half' > "$OUT/publish/47/2026-10/r1/esep-47-2026-10.r1.tar.zst"

# The server: server_start/server_stop (tests/lib.sh).
# A second server with small caps and short deadlines (started by the
# cases that need it; stopped by small_stop and by the EXIT trap).
small_start() {
  SPORT=$(free_port)
  "$ESEP" serve --out "$OUT" --access "$ACC" --listen "127.0.0.1:$SPORT" --max-connections 8 \
    --max-per-address 4 --head-timeout-ms 3000 --body-timeout-ms 3000 2>"$SRV/small.err" &
  echo $! > "$SRV/small.pid"
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$SPORT/v1/catalog")" = 401 ] && return 0
    sleep 0.1
  done
  cat "$SRV/small.err" >&2
  return 1
}
small_stop() {
  [ -s "$SRV/small.pid" ] || return 0
  local pid; pid=$(cat "$SRV/small.pid"); rm -f "$SRV/small.pid"
  kill -TERM "$pid" 2>/dev/null || return 0
  eventually 10 pid_gone "$pid" && return 0
  kill -KILL "$pid" 2>/dev/null || true
}
trap 'small_stop; server_stop; rm -rf "$TMP_ROOT"' EXIT
server_start || exit 1  # harness-lint: ok (not in a case: no server, no cases)
URL=http://127.0.0.1:$PORT

# get TOKEN PATH [curl options…]: the body on stdout.
get() {
  local tok=$1 path=$2; shift 2
  curl -s --max-time 20 --path-as-is ${tok:+-H "Authorization: Bearer $tok"} "$@" "$URL$path"
}
status() {
  local tok=$1 path=$2; shift 2
  get "$tok" "$path" -o /dev/null -w '%{http_code}' "$@"
}
# Whole response (status line, headers, body) without the Date header.
whole() { get "$@" -i | grep -v '^Date: '; }

case_unauthorized() {
  [ "$(status "" /v1/bundles/75/2026-10)" = 401 ] || fail "no token"
  [ "$(status "" /v1/catalog)" = 401 ] || fail "catalog without token"
  [ "$(status "$(new_token)" /v1/bundles/75/2026-10)" = 401 ] || fail "wrong token"
  [ "$(status "$(token_hash "$T75")" /v1/bundles/75/2026-10)" = 401 ] || fail "the stored hash as token"
  [ "$(status "${T75}x" /v1/bundles/75/2026-10)" = 401 ] || fail "token with a suffix"
  [ "$(get "" /v1/bundles/75/2026-10 -H "Authorization: Basic $T75" -o /dev/null -w '%{http_code}')" = 401 ] || fail "Basic"
  get "" /v1/catalog -D - -o /dev/null | has_line -i '^WWW-Authenticate: Bearer' || fail "no WWW-Authenticate"
}

case_forbidden_same_answer() {
  whole "$T75" /v1/bundles/61/2026-10 > "$TMP/exists"
  whole "$T75" /v1/bundles/62/2026-10 > "$TMP/absent"
  whole "$T75" /v1/bundles/61/2026-10/signature > "$TMP/sig_exists"
  whole "$T75" /v1/bundles/61/2031 > "$TMP/period_absent"
  head -1 "$TMP/exists" | has_line ' 403 ' || fail "not 403: $(head -1 "$TMP/exists")"
  cmp "$TMP/exists" "$TMP/absent" && cmp "$TMP/exists" "$TMP/sig_exists" && cmp "$TMP/exists" "$TMP/period_absent" ||
    fail "the 403 answers differ"
  [ "$(status "$T61" /v1/bundles/75/2026-10)" = 403 ] || fail "61 reading 75"
  [ "$(status "$T61" /v1/bundles/00/2026-10)" = 200 ] || fail "61 may read 00"
  [ "$(status "$T75" /v1/bundles/00/2026-10)" = 403 ] || fail "75 reading 00"
  [ "$(status "$T75" /v1/bundles/75/2031)" = 404 ] || fail "own region, no bundle"
  [ "$(status "$TALL" /v1/bundles/47/2026-10)" = 404 ] || fail "unsigned revision is not published"
}

case_star_reads_all() {
  for r in 75 61 00; do
    get "$TALL" "/v1/bundles/$r/2026-10" -o "$TMP/$r" -f || fail "* cannot read $r"
    cmp "$TMP/$r" "$(bundle $r 2026-10 1)" || fail "$r differs"
  done
}

case_catalog() {
  get "$T75" /v1/catalog -f > "$TMP/c75.json" || fail "75 catalog"
  get "$TALL" /v1/catalog -f > "$TMP/call.json" || fail "* catalog"
  get "$T61" /v1/catalog -f > "$TMP/c61.json" || fail "61 catalog"
  python3 - "$TMP" "$OUT" <<'PY'
import hashlib, json, os, sys
tmp, out = sys.argv[1:3]
def load(n): return json.load(open(f"{tmp}/{n}.json"))
def keys(c): return [(e["region"], e["period"], e["revision"]) for e in c]
assert keys(load("c75")) == [("75", "2026-10", 1), ("75", "2026-Q3", 2)], keys(load("c75"))
assert keys(load("c61")) == [("00", "2026-10", 1), ("61", "2026-10", 1)], keys(load("c61"))
assert keys(load("call")) == [("00", "2026-10", 1), ("61", "2026-10", 1), ("75", "2026-10", 1), ("75", "2026-Q3", 2)]
for e in load("call"):
    path = f"{out}/publish/{e['region']}/{e['period']}/r{e['revision']}/{e['bundle']}"
    data = open(path, "rb").read()
    assert e["bundle"] == f"esep-{e['region']}-{e['period']}.r{e['revision']}.tar.zst"
    assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
    assert e["bundle_url"] == f"/v1/bundles/{e['region']}/{e['period']}"
    assert e["signature_url"] == e["bundle_url"] + "/signature"
PY
  [ $? -eq 0 ] || fail "catalog contents"
}

case_etag_and_signature() {
  local want; want=$(sha256sum "$(bundle 75 2026-10 1)" | cut -d' ' -f1)
  get "$T75" /v1/bundles/75/2026-10 -D "$TMP/h" -o "$TMP/b" -f || fail "download"
  grep -qi "^ETag: \"$want\"" "$TMP/h" || fail "ETag: $(grep -i etag "$TMP/h")"
  grep -qi '^X-Esep-Revision: 1' "$TMP/h" && grep -qi '^Accept-Ranges: bytes' "$TMP/h" || fail "headers"
  grep -qi '^Content-Disposition: attachment; filename="esep-75-2026-10.r1.tar.zst"' "$TMP/h" || fail "disposition"
  [ "$(status "$T75" /v1/bundles/75/2026-10 -H "If-None-Match: \"$want\"")" = 304 ] || fail "If-None-Match"
  [ "$(status "$T75" /v1/bundles/75/2026-10 -H 'If-None-Match: "0000"')" = 200 ] || fail "other ETag"
  get "$T75" /v1/bundles/75/2026-Q3/signature -D "$TMP/sh" -o "$TMP/sig" -f || fail "signature"
  cmp "$TMP/sig" "$OUT/publish/75/2026-Q3/r2/esep-75-2026-Q3.r2.tar.zst.sig" || fail "signature of the latest revision"
  grep -qi '^X-Esep-Revision: 2' "$TMP/sh" || fail "signature revision"
}

case_range_resume() {
  local f; f=$(bundle 75 2026-10 1)
  get "$T75" /v1/bundles/75/2026-10 -r 0-999 -D "$TMP/h" -o "$TMP/part" || fail "range"
  head -1 "$TMP/h" | has_line ' 206 ' || fail "not 206"
  grep -qi '^Content-Range: bytes 0-999/200000' "$TMP/h" || fail "Content-Range"
  [ "$(stat -c %s "$TMP/part")" = 1000 ] || fail "partial size"
  get "$T75" /v1/bundles/75/2026-10 -C - -o "$TMP/part" -f || fail "resume"
  cmp "$TMP/part" "$f" || fail "resumed file differs"
}

case_suffix_multi_and_416() {
  local f; f=$(bundle 75 2026-10 1)
  get "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=-500' -o "$TMP/tail" -f || fail "suffix"
  tail -c 500 "$f" | cmp - "$TMP/tail" || fail "suffix bytes"
  get "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=199990-' -o "$TMP/end" -f || fail "open range request"
  tail -c 10 "$f" | cmp - "$TMP/end" || fail "open range"
  get "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=200000-' -D "$TMP/h" -o /dev/null
  head -1 "$TMP/h" | has_line ' 416 ' && grep -qi '^Content-Range: bytes \*/200000' "$TMP/h" || fail "416"
  [ "$(status "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=5-2')" = 416 ] || fail "reversed range"
  [ "$(status "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=0-1,5-6')" = 200 ] || fail "multi-range"
  [ "$(status "$T75" /v1/bundles/75/2026-10 -H 'Range: bytes=0-9' -H 'If-Range: "x"')" = 200 ] || fail "If-Range"
}

case_path_tricks() {
  local long; long=/v1/bundles/75/$(printf 'a%.0s' $(seq 290))
  for p in /v1/bundles/75/../61/2026-10 /v1/bundles/75/%2e%2e/61/2026-10 /v1/bundles/75%2F2026-10 \
           /v1/bundles/75/2026-10%2Fsignature //v1/catalog /v1//bundles/75/2026-10 /v1/catalog/ \
           /v1/bundles/75/2026-10/./signature /v1/bundles/7/2026-10 /v1/bundles/75/2026-13 \
           '/v1/catalog?x=1' /v1/bundles/%37%35/2026-10 "$long"; do
    [ "$(status "$TALL" "$p")" = 400 ] || fail "$p: $(status "$TALL" "$p")"
  done
  [ "$(status "$TALL" /v2/catalog)" = 404 ] || fail "unknown endpoint"
  [ "$(status "$TALL" /v1/catalog -X POST)" = 405 ] || fail "POST"
}

case_parallel_downloads() {
  local f; f=$(bundle 75 2026-10 1)
  seq 40 | xargs -P 20 -I{} curl -s -f --max-time 30 -H "Authorization: Bearer $T75" \
    -o "$TMP/d{}" "$URL/v1/bundles/75/2026-10" || fail "a download failed"
  for i in $(seq 40); do cmp -s "$TMP/d$i" "$f" || fail "download $i differs"; done
}

# lines_at_least N FILE PATTERN: FILE has N lines or more that match.
lines_at_least() { [ "$(grep -c -e "$3" "$2")" -ge "$1" ]; }

# slow_downloads PATH TOKEN N BYTES_PER_S DIR: N parallel GETs, each on a
# socket with a small fixed receive buffer (so the kernel cannot swallow
# the file and the server really is still sending), read at BYTES_PER_S.
# Writes DIR/h<i> (the header, when it has arrived) and DIR/s<i> (the
# body's SHA-256). Bounded: socket timeouts and an overall deadline.
slow_downloads() {
  timeout 60 python3 - "$PORT" "$@" <<'PY'
import hashlib, os, socket, sys, threading, time
port, path, token, n, rate, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def one(i):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d: return
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    with open(f"{out}/h{i}.tmp", "wb") as f: f.write(head + b"\r\n")
    os.rename(f"{out}/h{i}.tmp", f"{out}/h{i}")
    h, got, t0 = hashlib.sha256(body), len(body), time.monotonic()
    while True:
        d = s.recv(65536)
        if not d: break
        h.update(d); got += len(d)
        ahead = got / rate - (time.monotonic() - t0)
        if ahead > 0: time.sleep(ahead)
    with open(f"{out}/s{i}", "w") as f: f.write(h.hexdigest() + "\n")
ts = [threading.Thread(target=one, args=(i,)) for i in range(1, n + 1)]
for t in ts: t.start()
for t in ts: t.join()
PY
}

# 20 slow downloads of r1 are in flight (headers arrived) when r2 is
# published; 5 start afterwards. Each must be one whole revision: the
# in-flight ones r1, the later ones r2. The audit log shows the server was
# still sending every in-flight one when r2 appeared.
case_replaced_during_downloads() {
  publish 75 2026 1 $((12 * 1024 * 1024))
  local s1 s2 i n pid t_pub
  s1=$(sha256sum "$(bundle 75 2026 1)" | cut -d' ' -f1)
  get "$T75" /v1/bundles/75/2026 -o /dev/null -f   # hashed once, before the rush
  slow_downloads /v1/bundles/75/2026 "$T75" 20 $((4 * 1024 * 1024)) "$TMP" &
  pid=$!
  for _ in $(seq 200); do
    n=0; for i in $(seq 20); do grep -qs ' 200 ' "$TMP/h$i" && n=$((n + 1)); done
    [ $n -eq 20 ] && break; sleep 0.05
  done
  [ $n -eq 20 ] || fail "downloads did not start"
  t_pub=$(date +%s.%N)
  publish 75 2026 2 $((12 * 1024 * 1024 + 7))
  s2=$(sha256sum "$(bundle 75 2026 2)" | cut -d' ' -f1)
  for i in $(seq 21 25); do
    ( curl -s -f --max-time 40 -H "Authorization: Bearer $T75" -D "$TMP/h$i" \
        "$URL/v1/bundles/75/2026" | sha256sum | cut -d' ' -f1 > "$TMP/s$i" ) &
  done
  wait "$pid" || fail "slow downloads failed"
  wait
  for i in $(seq 20); do
    [ "$(cat "$TMP/s$i" 2>/dev/null)" = "$s1" ] || fail "in-flight download $i is not r1: $(cat "$TMP/s$i")"
    grep -qi '^X-Esep-Revision: 1' "$TMP/h$i" || fail "in-flight download $i header"
  done
  for i in $(seq 21 25); do
    [ "$(cat "$TMP/s$i")" = "$s2" ] && grep -qi '^X-Esep-Revision: 2' "$TMP/h$i" || fail "later download $i is not r2"
  done
  # the server writes a download's line once it has sent the last byte
  eventually 10 lines_at_least 21 "$OUT/audit.log" " path=/v1/bundles/75/2026 status=200 revision=1 bytes=12582912 " ||
    fail "the complete r1 downloads are not all in the audit log"
  python3 - "$OUT/audit.log" "$t_pub" <<'PY'
import datetime, re, sys
log, t_pub = sys.argv[1], float(sys.argv[2])
ends = []
for line in open(log):
    if " path=/v1/bundles/75/2026 status=200 revision=1 " in line and "bytes=12582912 " in line:
        t0 = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        ends.append(t0.timestamp() + int(re.search(r" ms=(\d+)", line).group(1)) / 1000)
late = [e for e in ends if e > t_pub]
assert len(ends) == 21, f"{len(ends)} complete r1 downloads in the audit log"
assert len(late) == 20, f"only {len(late)} r1 downloads were still being sent when r2 appeared"
PY
  [ $? -eq 0 ] || fail "audit timing"
}

case_audit_log() {
  local f size; f=$(bundle 75 2026-Q3 2); size=$(stat -c %s "$f")
  for i in 1 2 3; do get "$TAUD" /v1/bundles/75/2026-Q3 -o /dev/null -f || fail "download $i"; done
  get "$TAUD" /v1/bundles/75/2026-Q3 -r 0-99 -o /dev/null
  get "$TAUD" /v1/bundles/61/2026-10 -o /dev/null
  publish 75 2025 1 $((8 * 1024 * 1024))
  timeout 20 python3 - "$PORT" "$TAUD" <<'PY' || fail "partial download"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(f"GET /v1/bundles/75/2025 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sys.argv[2]}\r\n\r\n".encode())
got = 0
while got < 100000:
    d = s.recv(65536)
    if not d: sys.exit(1)
    got += len(d)
s.close()
PY
  local log=$OUT/audit.log
  # an aborted download's line comes when the server's next send fails
  eventually 10 lines_at_least 1 "$log" "client=auditor .*path=/v1/bundles/75/2025 status=200 revision=1 bytes=[0-9]* result=aborted" ||
    fail "no line for the interrupted download: $(grep auditor "$log")"
  eventually 10 lines_at_least 3 "$log" "client=auditor .*path=/v1/bundles/75/2026-Q3 status=200 .*result=complete" ||
    fail "the complete downloads are not all in the audit log: $(grep auditor "$log")"
  [ "$(grep -c "client=auditor addr=127.0.0.1 method=GET path=/v1/bundles/75/2026-Q3 status=200 revision=2 bytes=$size result=complete" "$log")" = 3 ] ||
    fail "three complete downloads: $(grep auditor "$log")"
  grep -q "client=auditor .* status=206 revision=2 bytes=100 result=complete" "$log" || fail "range line"
  grep -q "client=auditor .*path=/v1/bundles/61/2026-10 status=403 revision=- bytes=" "$log" || fail "denied line"
  grep "client=auditor .*path=/v1/bundles/75/2025 status=200 revision=1 bytes=" "$log" > "$TMP/cut"
  [[ $(cat "$TMP/cut") =~ bytes=([0-9]+)\ result=aborted ]] && [ "${BASH_REMATCH[1]}" -lt $((1024 * 1024)) ] ||
    fail "interrupted download: $(cat "$TMP/cut")"
  grep -q '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]\{3\}Z client=' "$log" || fail "time"
  grep -q "client=- .*status=401" "$log" || fail "unauthenticated attempts"
  for t in "$T75" "$T61" "$TALL" "$TAUD"; do ! grep -q "$t" "$log" || fail "a token is in the audit log"; done
}

case_access_add() {
  "$ESEP" access add akimat-33 33,75 --access "$ACC" > "$TMP/token" 2> "$TMP/err" || fail "add: $(cat "$TMP/err")"
  local tok; tok=$(cat "$TMP/token")
  [[ $tok =~ ^[0-9a-f]{64}$ ]] || fail "token '$tok'"
  ! grep -q "$tok" "$ACC" || fail "token stored"
  grep -q "^akimat-33 $(token_hash "$tok") 33,75$" "$ACC" || fail "line"
  [ "$(status "$tok" /v1/bundles/75/2026-Q3)" = 200 ] || fail "new token refused (reload)"
  [ "$(status "$tok" /v1/bundles/61/2026-10)" = 403 ] || fail "new token region"
  "$ESEP" access add akimat-33 61 --access "$ACC" > "$TMP/dup" 2> "$TMP/err" && fail "duplicate accepted"
  grep -q "akimat-33' is already in the access file" "$TMP/err" && [ ! -s "$TMP/dup" ] || fail "duplicate message"
  expect_status 2 "$ESEP" access add new "$TMP/x" > /dev/null 2>&1
  "$ESEP" access add fresh '*' --access "$TMP/new" > /dev/null 2>&1 || fail "create"
  [ "$(stat -c %a "$TMP/new")" = 600 ] || fail "mode $(stat -c %a "$TMP/new")"
}

# The access file fails closed: a malformed line or a deleted file refuses
# every token (503), with an ERROR line, until a valid file is back.
case_bad_access_file_fails_closed() {
  cp "$ACC" "$TMP/acc.bak"
  trap 'cp "$TMP/acc.bak" "$ACC"' EXIT   # the other cases need it back
  echo "broken line" >> "$ACC"
  [ "$(status "$T75" /v1/bundles/75/2026-10)" = 503 ] || fail "malformed: old tokens still valid"
  [ "$(status "$TALL" /v1/catalog)" = 503 ] || fail "malformed: catalog served"
  [ "$(status "" /v1/catalog)" = 503 ] || fail "malformed: no token"
  grep -q "$ACC:[0-9]*: expected 3 fields.*REFUSING EVERY REQUEST" "$SRV/err" || fail "no loud error for a malformed file"
  cp "$TMP/acc.bak" "$ACC"
  [ "$(status "$T75" /v1/bundles/75/2026-10)" = 200 ] || fail "fixed file not taken back"
  mv "$ACC" "$TMP/acc.moved"
  [ "$(status "$T75" /v1/bundles/75/2026-10)" = 503 ] || fail "deleted: old tokens still valid"
  grep -q "access file $ACC: No such file or directory; REFUSING EVERY REQUEST" "$SRV/err" || fail "no loud error for a deleted file"
  mv "$TMP/acc.moved" "$ACC"
  [ "$(status "$T75" /v1/bundles/75/2026-10)" = 200 ] || fail "restored file not taken back"
  [ "$(status "$T75" /v1/bundles/61/2026-10)" = 403 ] || fail "restored file: regions"
}

case_loopback_only() {
  ss -ltn | has_line "127.0.0.1:$PORT " || fail "not on 127.0.0.1:$PORT"
  ! ss -ltn | has_line "0.0.0.0:$PORT \|\*:$PORT " || fail "on every address"
  expect_status 1 "$ESEP" serve --out "$OUT" --access "$ACC" --listen "0.0.0.0:$PORT" 2> "$TMP/err"
  grep -q 'not a loopback address; add --allow-remote' "$TMP/err" || fail "remote message"
  expect_status 1 "$ESEP" serve --out "$OUT" --access "$ACC" --listen "127.0.0.1:$PORT" 2> "$TMP/err"
  grep -q 'cannot listen on 127.0.0.1:'"$PORT"': Address already in use' "$TMP/err" || fail "in-use message: $(cat "$TMP/err")"
  printf 'x y z\n' > "$TMP/badacc"
  expect_status 1 "$ESEP" serve --out "$OUT" --access "$TMP/badacc" --listen "127.0.0.1:1" 2> "$TMP/err"
  grep -q "badacc:1: name\|badacc:1: token hash" "$TMP/err" || fail "access message: $(cat "$TMP/err")"
}

case_clean_shutdown() {
  server_stop
  [ "$(cat "$SRV/rc" 2>/dev/null)" = 0 ] || fail "exit status $(cat "$SRV/rc" 2>/dev/null)"
  ! grep -q 'Sanitizer\|runtime error' "$SRV/err" || { cat "$SRV/err"; fail "sanitizer report"; }
}

SOCK=$ROOT/tests/e2e/serve_sockets.py

# A NUL or control byte in the path, the token or any header is 400; it
# used to be cut by libmicrohttpd and the request served.
case_control_bytes_400() {
  python3 "$SOCK" bytes "$PORT" "$TALL" > "$TMP/out"
  cat > "$TMP/want" <<'TXT'
clean 200
nul-in-path 400
nul-in-token 400
ctl-in-token 400
del-in-token 400
nul-in-range 400
ctl-in-header 400
nul-in-name 400
TXT
  diff "$TMP/want" "$TMP/out" || fail "statuses differ"
}

# The reported attack at the default caps: 129 idle connections from three
# addresses. A new request is answered at once; the two oldest idle
# connections were dropped to make room (the 129th and the request).
case_idle_flood_default_caps() {
  python3 "$SOCK" flood "$PORT" "$TALL" 43 127.0.0.2 127.0.0.3 127.0.0.4 > "$TMP/out"
  cat "$TMP/out"
  grep -q '^request 200 ' "$TMP/out" || fail "the new request was not served"
  grep -qx 'closed 0 1' "$TMP/out" || fail "not exactly the two oldest idle connections dropped"
}

case_small_caps() {
  small_start
  # total cap 8: 4 + 4 idle, then a request from a third address
  python3 "$SOCK" flood "$SPORT" "$TALL" 4 127.0.0.2 127.0.0.3 > "$TMP/total"
  grep -q '^request 200 ' "$TMP/total" || fail "total cap: request not served"
  grep -qx 'closed 0' "$TMP/total" || fail "total cap: $(cat "$TMP/total")"
  # per-address cap 4: a fifth idle connection from one address drops that
  # address's oldest; the request from another address needs no room
  python3 "$SOCK" flood "$SPORT" "$TALL" 5 127.0.0.5 > "$TMP/per"
  grep -q '^request 200 ' "$TMP/per" || fail "per-address cap: request not served"
  grep -qx 'closed 0' "$TMP/per" || fail "per-address cap: $(cat "$TMP/per")"
  small_stop
}

# A head or body trickled one byte per 0.3 s (which resets any inactivity
# timeout) is cut off at the 3 s deadline, long before it would end.
case_trickle_cut_off() {
  small_start
  python3 "$SOCK" trickle "$SPORT" "$TALL" > "$TMP/head"
  python3 "$SOCK" body "$SPORT" "$TALL" > "$TMP/body"
  small_stop
  for f in head body; do
    python3 - "$TMP/$f" <<'PY' || fail "$f: $(cat "$TMP/$f")"
import sys
words = open(sys.argv[1]).read().split()
assert words[:2] == ["closed", "after"], words
assert 2.5 <= float(words[2]) <= 8, words
PY
  done
  grep -q 'cut off: request not read within 3000 ms' "$SRV/small.err" || fail "no log line"
}

run_case "serve: no token or a wrong token is 401" case_unauthorized
run_case "serve: another region is 403, the same bytes whether or not it exists" case_forbidden_same_answer
run_case "serve: a * token reads every region" case_star_reads_all
run_case "serve: the catalog lists only permitted regions, sizes and digests right" case_catalog
run_case "serve: ETag is the SHA-256, If-None-Match 304, signature of the same revision" case_etag_and_signature
run_case "serve: a range, then curl -C - resumes to the whole file" case_range_resume
run_case "serve: suffix and open ranges, 416, multi-range and If-Range give 200" case_suffix_multi_and_416
run_case "serve: path tricks are 400" case_path_tricks
run_case "serve: 40 parallel downloads are all whole" case_parallel_downloads
run_case "serve: a revision published during downloads never mixes" case_replaced_during_downloads
run_case "serve: the audit log has who, what, status and bytes, never a token" case_audit_log
run_case "serve: a NUL or control byte in path, token or header is 400" case_control_bytes_400
run_case "serve: 129 idle connections from 3 addresses do not block a new request" case_idle_flood_default_caps
run_case "serve: total and per-address caps drop the oldest idle connection" case_small_caps
run_case "serve: a trickled head or body is cut off at its deadline" case_trickle_cut_off
run_case "serve: access add prints a working token once, stores its hash, 0600" case_access_add
run_case "serve: a malformed or deleted access file refuses every token, loudly, until fixed" case_bad_access_file_fails_closed
run_case "serve: loopback only unless --allow-remote; start-up errors exit 1" case_loopback_only
run_case "serve: SIGTERM stops it cleanly, exit 0, sanitizers quiet" case_clean_shutdown
