"""check_portal.py BASE_URL TOKEN BUNDLE_FILE TTL

Drives the browser portal of `esep serve` in headless Chromium (DevTools
over a pipe) as an akimat of region 61 would:
  - /portal/ sends an anonymous visitor to the login form;
  - a wrong token is refused (401, an error shown, no session cookie);
  - the right token logs in: the session cookie is HttpOnly,
    SameSite=Strict and expiring; the list shows region 61's bundles only;
  - the download (fetched by the page, cookie sent) has the SHA-256 of the
    published file; region 75's bundle is 403;
  - the dashboard opens in place and draws its charts;
  - logout ends the session on the server (a download is then 401);
  - after logging in again, the session cookie replayed after TTL seconds
    (as a browser that ignores Max-Age would) is refused.
Prints "ok" and the number of bundles listed."""
import hashlib
import os
import sys
import tempfile
import time

from cdp import Browser, evaluate, wait_ready

base, token, bundle_file, ttl = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
want_sha = hashlib.sha256(open(bundle_file, "rb").read()).hexdigest()


def goto(br, s, url):
    br.call("Page.navigate", {"url": url}, s)
    br.wait_event("Page.loadEventFired")


def path(br, s):
    return evaluate(br, s, "location.pathname")


def login(br, s, tok):
    goto(br, s, base + "/portal/login")
    evaluate(br, s, "document.getElementById('token').value = %r; document.getElementById('login').click()" % tok)
    br.wait_event("Page.loadEventFired")


def fetch(br, s, url, digest=False):
    expr = ("fetch(%r).then(function (r) { return r.arrayBuffer().then(function (b) { return "
            "crypto.subtle.digest('SHA-256', b).then(function (d) { return r.status + ' ' + "
            "Array.from(new Uint8Array(d)).map(function (x) { return x.toString(16).padStart(2, '0'); }).join('');"
            " }); }); })") % url
    r = br.call("Runtime.evaluate", {"expression": expr, "awaitPromise": True, "returnByValue": True}, s)
    assert "exceptionDetails" not in r, r
    status, sha = r["result"]["value"].split(" ")
    return (int(status), sha) if digest else int(status)


def session_cookie(br, s):
    cookies = br.call("Network.getCookies", {"urls": [base + "/portal/"]}, s)["cookies"]
    return next((c for c in cookies if c["name"] == "esep_session"), None)


with tempfile.TemporaryDirectory() as profile:
    br = Browser(profile, isolated=False, deadline=time.time() + 120)
    try:
        t = br.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = br.call("Target.attachToTarget", {"targetId": t, "flatten": True})["sessionId"]
        for d in ("Page", "Runtime", "Network"):
            br.call(d + ".enable", {}, s)
        # the pages forbid scripts from fetching (connect-src 'none'); the
        # test's own fetch() calls are let through, nothing else changes
        br.call("Page.setBypassCSP", {"enabled": True}, s)
        downloads = tempfile.mkdtemp(dir=profile)
        br.call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads, "eventsEnabled": True})
        goto(br, s, base + "/portal/")
        assert path(br, s) == "/portal/login", path(br, s)
        login(br, s, "0" * 64)
        assert evaluate(br, s, "!!document.getElementById('error')"), "no error shown for a wrong token"
        assert session_cookie(br, s) is None, "a wrong token got a session"
        assert fetch(br, s, "/portal/bundles/61/2025-03") == 401
        login(br, s, token)
        assert path(br, s) == "/portal/", path(br, s)
        c = session_cookie(br, s)
        assert c and c["httpOnly"] and c["sameSite"] == "Strict" and c["expires"] > time.time(), c
        assert c["path"] == "/portal", c
        rows = evaluate(br, s, "Array.from(document.querySelectorAll('tr.bundle')).map(function (r) {"
                               " return r.dataset.region + '/' + r.dataset.period; })")
        assert rows and all(r.startswith("61/") for r in rows) and "61/2025-03" in rows, rows
        status, sha = fetch(br, s, "/portal/bundles/61/2025-03", digest=True)
        assert status == 200 and sha == want_sha, (status, sha, want_sha)
        # and as a download: a click on the link, the file saved by the browser
        evaluate(br, s, "document.querySelector('tr.bundle[data-period=\"2025-03\"] a.download').click()")
        while True:
            e = br.wait_event("Browser.downloadProgress")
            if e["params"]["state"] != "inProgress":
                break
        assert e["params"]["state"] == "completed", e
        saved = [os.path.join(downloads, f) for f in os.listdir(downloads)]
        assert len(saved) == 1 and hashlib.sha256(open(saved[0], "rb").read()).hexdigest() == want_sha, saved
        assert fetch(br, s, "/portal/bundles/75/2025-03") == 403
        assert fetch(br, s, "/portal/bundles/75/2025-03/index.html") == 403
        evaluate(br, s, "document.querySelector('tr.bundle[data-period=\"2025-03\"] a.dashboard').click()")
        br.wait_event("Page.loadEventFired")
        assert path(br, s) == "/portal/bundles/61/2025-03/index.html", path(br, s)
        first = evaluate(br, s, "JSON.parse(document.getElementById('esep-data').textContent).territories[0].kato")
        wait_ready(br, s, "kk:" + first)
        assert evaluate(br, s, "document.querySelectorAll('canvas').length") >= 10
        goto(br, s, base + "/portal/")
        evaluate(br, s, "document.getElementById('logout').click()")
        br.wait_event("Page.loadEventFired")
        assert path(br, s) == "/portal/login", path(br, s)
        assert fetch(br, s, "/portal/bundles/61/2025-03") == 401, "logout left the session alive"
        login(br, s, token)
        c = session_cookie(br, s)
        assert c and path(br, s) == "/portal/", c
        time.sleep(ttl + 1.5)
        br.call("Network.setCookie", {"name": c["name"], "value": c["value"], "url": base + "/portal/",
                                      "path": "/portal", "httpOnly": True, "sameSite": "Strict"}, s)
        assert session_cookie(br, s), "the replayed cookie was not set"
        assert fetch(br, s, "/portal/bundles/61/2025-03") == 401, "an expired session was accepted"
        goto(br, s, base + "/portal/")
        assert path(br, s) == "/portal/login", path(br, s)
        errors = [e for e in br.events if e.get("method") == "Runtime.exceptionThrown"]
        assert not errors, errors
        print("ok", len(rows))
    finally:
        br.close()
