# The browser portal of `esep serve` (portal.h): driven in headless
# Chromium (tests/e2e/check_portal.py: login, list, download, dashboard in
# place, logout, another region refused, a wrong token refused, an expired
# session refused), and with curl for what a browser never sends: no or a
# wrong CSRF value, repeated failed logins (429), the Secure flag behind a
# TLS proxy; the Bearer API answers as before. The server runs in the
# background and is stopped by the EXIT trap.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
PY=/usr/bin/python3
OUT=$TMP_ROOT/out ACC=$TMP_ROOT/access SRV=$TMP_ROOT/srv TTL=3
mkdir -p "$SRV"

"$ESEP" keygen --key "$TMP_ROOT/key" > /dev/null 2>&1
for p in 2025-02 2025-03; do
  "$ESEP" run --snapshot "$SNAP" --period $p --out "$OUT" --key "$TMP_ROOT/key" > "$TMP_ROOT/run-$p.log" 2>&1 \
    || { cat "$TMP_ROOT/run-$p.log"; echo "not ok portal: publication failed"; exit 1; }
done
TOKEN=$("$ESEP" access add akimat61 61 --access "$ACC" 2>/dev/null | grep -o '[0-9a-f]\{64\}')
"$ESEP" access add akimat75 75 --access "$ACC" > /dev/null 2>&1

trap 'server_stop; rm -rf "$TMP_ROOT"' EXIT
server_start --portal-ttl $TTL || { echo "not ok portal: server did not start"; exit 1; }
URL=http://127.0.0.1:$PORT

# A fresh login form: its csrf value, its cookie in the jar $1.
form_csrf() { curl -s --max-time 10 -c "$1" "$URL/portal/login" | grep -o 'name="csrf" value="[0-9a-f]*' | cut -d'"' -f4; }

case_browser() {
  $PY "$ROOT/tests/e2e/check_portal.py" "$URL" "$TOKEN" "$OUT/publish/61/2025-03/latest/esep-61-2025-03.tar.zst" $TTL \
    || fail "portal in Chromium"
}

case_csrf() {
  local csrf; csrf=$(form_csrf "$TMP/jar")
  [ ${#csrf} -eq 64 ] || fail "no csrf in the form"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" --data "token=$TOKEN" "$URL/portal/login")" = 403 ] \
    || fail "a login without csrf was not 403"
  [ "$(curl -s -o /dev/null -w '%{http_code}' --data "token=$TOKEN&csrf=$csrf" "$URL/portal/login")" = 403 ] \
    || fail "a login without the csrf cookie was not 403"
  local other; other=$(form_csrf "$TMP/jar2")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" --data "token=$TOKEN&csrf=$other" "$URL/portal/login")" = 403 ] \
    || fail "a login with another form's csrf was not 403"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" -c "$TMP/jar" --data "token=$TOKEN&csrf=$csrf" "$URL/portal/login")" = 303 ] \
    || fail "the right login was not 303"
  grep -q esep_session "$TMP/jar" || fail "no session cookie"
  # logout needs the session's own csrf value
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" --data "csrf=$csrf" "$URL/portal/logout")" = 403 ] \
    || fail "a logout with a wrong csrf was not 403"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" "$URL/portal/bundles/61/2025-03")" = 200 ] \
    || fail "the refused logout ended the session"
}

case_secure_behind_tls() {
  local csrf; csrf=$(form_csrf "$TMP/jar")
  curl -s -D "$TMP/h" -o /dev/null -b "$TMP/jar" -H 'X-Forwarded-Proto: https' --data "token=$TOKEN&csrf=$csrf" \
    "$URL/portal/login"
  grep -i '^set-cookie: esep_session=' "$TMP/h" | has_line '; Secure' || fail "no Secure flag behind TLS: $(cat "$TMP/h")"
  curl -s -D "$TMP/h2" -o /dev/null "$URL/portal/login"
  grep -i '^set-cookie:' "$TMP/h2" | has_line Secure && fail "Secure on plain HTTP"
  grep -qi '^content-security-policy:' "$TMP/h2" || fail "no CSP on the login page"
  true
}

case_failed_logins_limited() {
  server_stop; server_start --portal-ttl $TTL || fail "cannot restart the server"   # no failures counted yet
  URL=http://127.0.0.1:$PORT
  local i code
  for i in 1 2 3 4 5; do
    local csrf; csrf=$(form_csrf "$TMP/jar")
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" --data "token=$(printf 'f%.0s' $(seq 64))&csrf=$csrf" \
      "$URL/portal/login")
    [ "$code" = 401 ] || fail "wrong token $i: $code, not 401"
  done
  local csrf; csrf=$(form_csrf "$TMP/jar")
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar" --data "token=$TOKEN&csrf=$csrf" "$URL/portal/login")
  [ "$code" = 429 ] || fail "the 6th login (right token) was $code, not 429"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/catalog")" = 200 ] \
    || fail "the Bearer API changed"
  grep -q 'path=/portal/login status=429' "$OUT/audit.log" || fail "429 not in the audit log"
}

run_case "portal: in Chromium — login, list, download, dashboard, logout; other region, wrong token, expired session refused" case_browser
run_case "portal: login and logout need the right csrf value" case_csrf
run_case "portal: Secure cookie behind a TLS proxy, CSP on pages" case_secure_behind_tls
run_case "portal: 5 failed logins from one address make the next one 429; the Bearer API is unchanged" case_failed_logins_limited
server_stop
! grep -q 'Sanitizer\|runtime error' "$SRV/err" && echo "ok portal: no sanitizer report" || { echo "not ok portal: sanitizer report"; cat "$SRV/err"; }
