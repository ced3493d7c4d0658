"""check_dashboard.py SCREENSHOT_DIR PAGE:CSV_DIR:PREV_CSV_DIR …

Loads each unpacked bundle's index.html in headless Chromium inside a
network namespace with no network (`unshare -n`), driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: no port, no socket), and checks:
  - no console error, no uncaught exception, no error logged by the browser
    (a CSP violation is one), and no request other than the page itself;
  - every report's chart holds the key indicator (first measure, `_T` row)
    of the region for each period: the bundle's own csv/ for its period and,
    for the period before, the csv/ of that period's bundle (PREV_CSV_DIR) —
    `x` and empty values are gaps (null), never 0;
  - every value the page holds for its period and the previous one equals
    the published `_T` rows of those bundles' csv/ (x, empty, numbers);
  - the Kazakh/Russian switch shows the titles of MANIFEST.json in each
    language;
  - a PNG screenshot is written to SCREENSHOT_DIR/<region>.png.
Prints one line per page."""
import base64
import csv
import json
import os
import sys
import tempfile
import time
from decimal import Decimal

from cdp import Browser, evaluate, wait_ready

shots = sys.argv[1]
pages = [a.split(":") for a in sys.argv[2:]]


def expected_point(csv_dir, rid, kato, ndims):
    path = os.path.join(csv_dir, rid + ".csv")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.reader(fh):
            if r[0] == kato and all(v == "_T" for v in r[2:2 + ndims]):
                v = r[2 + ndims]
                return None if v in ("x", "") else float(v)
    return None


def csv_totals(csv_dir, rid, ndims):
    """{kato: [measure values]} of the `_T` rows: "x", None (empty) or Decimal."""
    path = os.path.join(csv_dir, rid + ".csv")
    if not os.path.exists(path):
        return None
    out = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for r in list(csv.reader(fh))[1:]:
            if all(v == "_T" for v in r[2:2 + ndims]):
                out[r[0]] = [v if v == "x" else None if v == "" else Decimal(v) for v in r[2 + ndims:]]
    return out


def same_values(page_values, want):
    got = [v if v == "x" or v is None else Decimal(str(v)) for v in page_values]
    return got == want


def check_all_values(data, csv_dir, prev_dir):
    """Every value the page holds for this period and the previous one is
    the published one (the bundles' csv/): nothing unpublished is inside."""
    checked = 0
    for rep in data["reports"]:
        ndims = len(next(csv.reader(open(os.path.join(csv_dir, rep["id"] + ".csv"), encoding="utf-8")))) - 2
        ndims -= len(rep["measures"])
        now, prev = csv_totals(csv_dir, rep["id"], ndims), csv_totals(prev_dir, rep["id"], ndims)
        for kato, series in rep["values"].items():
            assert series[-1] is not None and same_values(series[-1], now[kato]), (rep["id"], kato, series[-1])
            checked += 1
            if len(series) > 1:
                want = prev.get(kato) if prev else None
                assert (series[-2] is None and want is None) or same_values(series[-2], want), (rep["id"], kato)
    return checked


def check_page(br, page, csv_dir, prev_dir):
    bundle = os.path.dirname(page)
    manifest = json.load(open(os.path.join(bundle, "MANIFEST.json"), encoding="utf-8"))
    target = br.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = br.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        br.call(domain + ".enable", {}, session)
    url = "file://" + os.path.abspath(page)
    br.call("Page.navigate", {"url": url}, session)
    br.wait_event("Page.loadEventFired")
    data = evaluate(br, session, "JSON.parse(document.getElementById('esep-data').textContent)")
    check_all_values(data, csv_dir, prev_dir)
    first = data["territories"][0]["kato"]
    wait_ready(br, session, "kk:" + first)
    charts = evaluate(br, session, """Array.from(document.querySelectorAll('section')).map(function (s) {
        var c = Chart.getChart(s.querySelector('canvas'));
        return {id: s.id.slice(7), h2: s.querySelector('h2').textContent,
                labels: c.data.labels, data: c.data.datasets[0].data}; })""")
    assert [c["id"] for c in charts] == [r["id"] for r in manifest["reports"]], charts
    gaps = 0
    for c, rep in zip(charts, manifest["reports"]):
        assert rep["title_kk"] in c["h2"], (c["h2"], rep["title_kk"])
        ndims = len([h for h in csv.reader(open(os.path.join(csv_dir, rep["id"] + ".csv"), encoding="utf-8"))][0]) - 2
        ndims -= len(next(r for r in data["reports"] if r["id"] == rep["id"])["measures"])
        assert c["labels"][-1] == manifest["period"], c
        assert c["data"][-1] == expected_point(csv_dir, rep["id"], first, ndims), (rep["id"], c["data"])
        if len(c["labels"]) > 1:
            assert c["data"][-2] == expected_point(prev_dir, rep["id"], first, ndims), (rep["id"], c["data"])
        gaps += sum(v is None for v in c["data"])
        assert all(v is None or isinstance(v, (int, float)) for v in c["data"]), c
    evaluate(br, session, "document.getElementById('lang-ru').click()")
    wait_ready(br, session, "ru:" + first)
    titles = evaluate(br, session, "Array.from(document.querySelectorAll('section h2')).map(function (h) { return h.textContent; })")
    for t, rep in zip(titles, manifest["reports"]):
        assert rep["title_ru"] in t, (t, rep["title_ru"])
    evaluate(br, session, "document.getElementById('lang-kk').click()")
    wait_ready(br, session, "kk:" + first)
    shot = br.call("Page.captureScreenshot", {"format": "png"}, session)
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, len(png)
    with open(os.path.join(shots, manifest["region"] + ".png"), "wb") as fh:
        fh.write(png)
    # what happened on the way
    problems = []
    for e in br.events:
        if e.get("sessionId") != session:
            continue
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            problems.append(("exception", p["exceptionDetails"].get("text")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append(("console", p.get("args")))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            problems.append(("log", p["entry"].get("text")))
        elif m == "Network.requestWillBeSent" and p["request"]["url"] != url:
            problems.append(("request", p["request"]["url"]))
    br.events = [e for e in br.events if e.get("sessionId") != session]
    assert not problems, problems
    br.call("Target.closeTarget", {"targetId": target})
    return gaps


with tempfile.TemporaryDirectory() as profile:
    br = Browser(profile, isolated=True, deadline=time.time() + 120)
    try:
        for page, csv_dir, prev_dir in pages:
            gaps = check_page(br, page, csv_dir, prev_dir)
            print(f"{page}: ok ({gaps} gaps)")
    finally:
        br.close()
