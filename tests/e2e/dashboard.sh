# The offline dashboard (outputs.md "What akimat staff open"): each
# bundle's index.html in headless Chromium with no network (unshare -n):
# no console error, no request outside the page, charts equal to the
# published values of this period and of the previous one (its bundle),
# suppressed values as gaps, the language switch, a screenshot written as
# an artifact (tests/e2e/check_dashboard.py). Two periods of the fixture
# are published so the page has history.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
PY=/usr/bin/python3
ARTIFACTS=${ESEP_ARTIFACTS:-$TMP_ROOT/artifacts}

publish() { # OUT PERIOD
  "$ESEP" run --snapshot "$SNAP" --period "$2" --out "$1" --key "$TMP_ROOT/key" > "$1.$2.log" 2>&1 \
    || { cat "$1.$2.log"; return 1; }
}
[ -f "$TMP_ROOT/key" ] || "$ESEP" keygen --key "$TMP_ROOT/key" > /dev/null 2>&1

unpack() { rm -rf "$2" && mkdir -p "$2" && tar --zstd -xf "$1" -C "$2"; }

# published OUT: a copy of both months, published once per script (each
# case used to publish them again); a failure fails the case, and the next
# one tries again.
PUB=$TMP_ROOT/published
publish_both() { publish "$1" 2025-02; publish "$1" 2025-03; }
published() { once_then_copy "$PUB" publish_both "$1"; }

# OUT → arguments for check_dashboard.py: every region's 2025-03 page with
# its csv/ and the 2025-02 bundle's csv/.
pages() {
  for d in "$1"/publish/*/2025-03; do
    local ab; ab=$(basename "$(dirname "$d")")
    unpack "$d/latest/esep-$ab-2025-03.tar.zst" "$TMP/now-$ab" && unpack "$1/publish/$ab/2025-02/latest/esep-$ab-2025-02.tar.zst" "$TMP/prev-$ab" \
      || return 1
    printf '%s ' "$TMP/now-$ab/index.html:$TMP/now-$ab/csv:$TMP/prev-$ab/csv"
  done
}

case_dashboard_offline() {
  published "$TMP/o"
  local args; args=$(pages "$TMP/o") || fail "cannot unpack the bundles"
  mkdir -p "$ARTIFACTS"
  # shellcheck disable=SC2086
  $PY "$ROOT/tests/e2e/check_dashboard.py" "$ARTIFACTS" $args || fail "dashboard check failed"
  for ab in 00 61 75; do [ -s "$ARTIFACTS/$ab.png" ] || fail "no screenshot $ab.png"; done
  for p in "$TMP"/now-*/index.html; do
    [ "$(stat -c %s "$p")" -lt 2000000 ] || fail "$p is over 2 MB"
  done
}

# The checker is not vacuous: a page that asks for something outside
# itself, or throws, is refused.
case_dashboard_checker_refuses() {
  published "$TMP/o"
  local args; args=$(pages "$TMP/o") || return 1
  local one=${args%% *} page=${args%%:*}
  cp "$page" "$page.orig"
  sed -i 's|<main id="reports"></main>|<main id="reports"></main><img src="http://192.0.2.1/x.png">|' "$page"
  $PY "$ROOT/tests/e2e/check_dashboard.py" "$TMP" "$one" > "$TMP/a.log" 2>&1 && fail "a request outside the page passed"
  cp "$page.orig" "$page"
  sed -i 's|^render();$|render(); undefinedFunction();|' "$page"
  grep -q undefinedFunction "$page" || fail "the edit did not apply"
  $PY "$ROOT/tests/e2e/check_dashboard.py" "$TMP" "$one" > "$TMP/b.log" 2>&1 && fail "an exception passed"
  cp "$page.orig" "$page"
  $PY "$ROOT/tests/e2e/check_dashboard.py" "$TMP" "$one" > /dev/null || fail "the untouched page fails"
}

run_case "dashboard: every index.html offline in Chromium: no error, no request, charts = published values" case_dashboard_offline
run_case "dashboard: the checker refuses an outside request and an exception" case_dashboard_checker_refuses
