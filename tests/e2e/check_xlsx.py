"""check_xlsx.py BUNDLE_DIR LO_DIR SNAPSHOT_DIR JOBS_DIR [ID…]

Checks the xlsx forms of one unpacked bundle against the bundle's own csv/
files, from LibreOffice's CSV export of every sheet (LO_DIR/<ID>-<sheet>.csv,
raw values, UTF-8) — an independent reader of the workbook:
  - every row and every value of csv/<ID>.csv is on the form (kato, level,
    dimension values as text, measures equal as decimals, `x`, empty);
  - names (kk, ru) equal the snapshot's kato.csv (the republic's are fixed);
  - rows go by kato, then by the dimension values in the order jobs/ lists
    them, `_T` last;
  - the title block holds both titles, the addressee, the period, the
    methodology version, the snapshot date and E + deadline_days;
  - footnotes explain `x` and empty cells when the table has them;
  - dimension cells are stored as text in the workbook XML (never dates).
Without IDs every form of the bundle is checked (at least 10). Prints the
number of forms checked; an AssertionError names the first difference."""
import calendar
import csv
import datetime
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import yaml

bundle, lo_dir, snap, jobs_dir = sys.argv[1:5]
only = sys.argv[5:]
REPUBLIC = ("Қазақстан Республикасы", "Республика Казахстан")

names = {}
with open(os.path.join(snap, "kato.csv"), encoding="utf-8") as fh:
    for row in csv.DictReader(fh, delimiter=";"):
        names[row["code"]] = (row["name_kk"], row["name_ru"])

jobs = {}
for path in glob.glob(os.path.join(jobs_dir, "*.yaml")):
    j = yaml.safe_load(open(path, encoding="utf-8"))
    jobs.setdefault(j["id"], []).append(j)


def period_end(p):
    if re.fullmatch(r"\d{4}-\d{2}", p):
        y, m = map(int, p.split("-"))
    elif re.fullmatch(r"\d{4}-Q\d", p):
        y, m = int(p[:4]), int(p[-1]) * 3
    else:
        y, m = int(p), 12
    return datetime.date(y, m, calendar.monthrange(y, m)[1])


def job_for(rid, version):
    return next(j for j in jobs[rid] if j["version"] == version)


def read_lo(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def check_form(rid):
    with open(os.path.join(bundle, "csv", rid + ".csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    sheet = read_lo(os.path.join(lo_dir, f"{rid}-{rid}.csv"))
    top = [c for r in sheet[:8] for c in r if c]
    head_at = next(i for i, r in enumerate(sheet) if r and r[0].startswith("КАТО"))
    form_head = sheet[head_at]
    assert all(h == n or h.endswith(" (" + n + ")") for h, n in zip(form_head[4:], header[2:])), (rid, form_head)
    assert len(form_head[4:len(header) + 2]) == len(header) - 2, (rid, form_head, header)
    form_rows = []
    for r in sheet[head_at + 1:]:
        if not r or not r[0]:
            break
        form_rows.append(r)
    assert len(form_rows) == len(body), (rid, len(form_rows), len(body))
    # values: the form's row for each csv row, by kato + dimension values
    with open(os.path.join(bundle, "MANIFEST.json"), encoding="utf-8") as fh:
        m = json.load(fh)
    rep = next(r for r in m["reports"] if r["id"] == rid)
    job = job_for(rid, rep["methodology_version"])
    dims = [d["name"] for d in job.get("dimensions", [])]
    key_len = 2 + len(dims)
    measures = header[key_len:]
    by_key = {}
    for r in form_rows:
        by_key[(r[0],) + tuple(r[4:4 + len(dims)])] = r
    saw_x = saw_empty = False
    for r in body:
        f = by_key[(r[0],) + tuple(r[2:key_len])]
        assert f[1] == r[1], (rid, r, f)
        want = REPUBLIC if r[0] == "000000000" else names[r[0]]
        assert (f[2], f[3]) == want, (rid, r[0], f[2:4], want)
        for k, name in enumerate(measures):
            a, b = r[key_len + k], f[4 + len(dims) + k]
            if a in ("x", ""):
                assert b == a, (rid, r[0], name, a, b)
                saw_x |= a == "x"
                saw_empty |= a == ""
            else:
                assert b != "" and Decimal(b) == Decimal(a), (rid, r[0], name, a, b)
    # order: kato, then the listed order of every dimension, _T last
    for h, item in zip(form_head[4:], job.get("dimensions", []) + job["measures"]):
        for key in ("label_kk", "label_ru"):
            assert key not in item or item[key] in h, (rid, h, item.get(key))
    listed = [[str(v) for v in d["values"]] + ["_T"] for d in job.get("dimensions", [])]

    def rank(r):
        return [r[0]] + [vals.index(r[4 + d]) for d, vals in enumerate(listed)]

    assert [rank(r) for r in form_rows] == sorted(rank(r) for r in form_rows), rid
    # title block
    e = period_end(m["period"])
    deadline = (e + datetime.timedelta(days=job["deadline_days"])).isoformat()
    sd = m["snapshot_date"]
    for want in (job["title_kk"], job["title_ru"], job["addressee"], m["period"], str(job["version"]),
                 f"{sd[:4]}-{sd[4:6]}-{sd[6:]}", deadline):
        assert want in top, (rid, want, top)
    notes = " ".join(c for r in sheet[head_at + 1 + len(form_rows):] for c in r)
    assert ("x —" in notes) == saw_x and ("Пустая ячейка" in notes) == saw_empty, (rid, notes)
    about = read_lo(os.path.join(lo_dir, f"{rid}-Түсіндірме-Пояснение.csv"))
    text = " ".join(c for r in about for c in r)
    for r in m["reports"]:
        assert r["id"] in text and r["title_kk"] in text and r["title_ru"] in text, (rid, r["id"])
    for i in m["inputs"]:
        assert i["sha256"] in text, (rid, i["extract"])
    assert "Контроль раскрытия" in text and "Құпиялылықты бақылау" in text
    return dims


def dims_are_text(rid, ndims):
    z = zipfile.ZipFile(os.path.join(bundle, "xlsx", rid + ".xlsx"))
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    sheet = ET.fromstring(z.read("xl/worksheets/sheet2.xml"))
    cols = {chr(ord("E") + d) for d in range(ndims)} | {"A"}
    seen = 0
    for c in sheet.iter("{%s}c" % ns["s"]):
        col = re.match(r"[A-Z]+", c.get("r")).group()
        row = int(re.search(r"\d+", c.get("r")).group())
        if row > 9 and col in cols and c.find("s:v", ns) is not None:
            assert c.get("t") == "s", (rid, c.get("r"), c.attrib)
            seen += 1
    return seen


checked = 0
ids = only or [os.path.basename(p)[:-4] for p in sorted(glob.glob(os.path.join(bundle, "csv", "*.csv")))]
for rid in ids:
    dims = check_form(rid)
    assert dims_are_text(rid, len(dims)) > 0, rid
    checked += 1
assert checked >= (len(only) or 10), checked
print(checked)
