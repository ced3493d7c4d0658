#!/usr/bin/python3
"""series_expect.py — the test oracle of `esep series` (tests/e2e/series.sh),
written without looking at esep's output: it reads the archived tables with
h5py and rebuilds the series from the /rows datasets itself.

    expect OUT ID BOUNDARIES P…     the expected CSV of the periods P… (as-of,
                                    or a restated day YYYY-MM-DD)
    filter SERIES.csv KATO          the rows of one territory object of a full
                                    series, the period's break moved to its
                                    first kept row
    json-equals JSON CSV ID BOUNDARIES MISSING
                                    the JSON form holds the CSV form (MISSING:
                                    comma-separated periods, or "-")
    restate SRC DST DAY SNAPSHOT DELTA [SRC DST DAY SNAPSHOT DELTA …]
                                    a restated copy of an archived table: root
                                    attributes boundaries and
                                    classifier_snapshot, DELTA added to every
                                    non-empty value of the first measure
    rename-dim FILE OLD NEW         renames a dimension of an archived table
    drop-kato FILE KATO             removes the rows of one territory object
"""
import csv
import json
import os
import shutil
import sys

import h5py
import numpy as np

INT64_MIN = -(2 ** 63)
SCALE = {"money": (100, 2), "decimal1": (10, 1)}


def text(v):
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def fmt(v, form):
    """A measure as the CSV form writes it, from the exact integer."""
    v = int(v)
    if v == INT64_MIN:
        return ""
    if v == INT64_MIN + 1:
        return "x"
    if form == "count":
        return str(v)
    scale, places = SCALE[form]
    a = abs(v)
    return f"{'-' if v < 0 else ''}{a // scale}.{a % scale:0{places}d}"


def load(path):
    with h5py.File(path, "r") as f:
        rows = f["rows"][:]
        measures = [(text(m["name"]), text(m["format"])) for m in f["measures"][:]]
        names = list(rows.dtype.names)
        dims = names[2:len(names) - len(measures)]
        values = {d: [text(v) for v in f["dimensions"][d][:]] for d in dims}
        version = int(f.attrs["methodology_version"])
    lines = []
    for r in rows:
        cells = [text(r["kato"]), str(int(r["level"]))] + [text(r[d]) for d in dims]
        cells += [fmt(r[m], form) for m, form in measures]
        lines.append(cells)
    # the CSV order of reports.md: by kato, then each dimension value as bytes
    lines.sort(key=lambda c: [x.encode() for x in c[:2 + len(dims)]])
    return {
        "dims": dims, "measures": [m for m, _ in measures], "values": values, "version": version,
        "objects": sorted({(c[0], c[1]) for c in lines}), "lines": lines,
    }


def break_of(prev, cur):
    if prev is None:
        return ""
    what = []
    if prev["version"] != cur["version"]:
        what.append("methodology")
    if prev["objects"] != cur["objects"]:
        what.append("territory")
    if prev["values"] != cur["values"]:
        what.append("dimensions")
    return "+".join(what)


def expect(out, report, boundaries, periods):
    prev, header, body = None, None, []
    for p in periods:
        sub = os.path.join("restated", boundaries) if boundaries != "as-of" else ""
        path = os.path.join(out, "archive", p, sub, report + ".h5")
        if not os.path.exists(path):
            continue
        cur = load(path)
        if header is None:
            header = ["period", "kato", "level"] + cur["dims"] + cur["measures"] + ["methodology_version", "break"]
        brk = break_of(prev, cur)
        for i, cells in enumerate(cur["lines"]):
            body.append([p] + cells + [str(cur["version"]), brk if i == 0 else ""])
        prev = cur
    for row in [header] + body:
        assert not any(set(x) & set(',"\n') for x in row), row
        sys.stdout.write(",".join(row) + "\n")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def filter_series(path, kato):
    rows = read_csv(path)
    out, pending = [rows[0]], {}
    for r in rows[1:]:
        if r[-1]:
            pending[r[0]] = r[-1]  # the period's break, from its first row
        if r[1] != kato:
            continue
        r = r[:-1] + [pending.pop(r[0], "")]
        out.append(r)
    for r in out:
        sys.stdout.write(",".join(r) + "\n")


def json_equals(jpath, cpath, report, boundaries, missing):
    with open(jpath, encoding="utf-8") as fh:
        doc = json.load(fh)
    rows = read_csv(cpath)
    want_missing = [] if missing == "-" else missing.split(",")
    problems = []
    if sorted(doc) != ["boundaries", "columns", "missing", "report", "rows"]:
        problems.append(f"keys {sorted(doc)}")
    if doc.get("report") != report or doc.get("boundaries") != boundaries:
        problems.append(f"report/boundaries {doc.get('report')!r} {doc.get('boundaries')!r}")
    if doc.get("columns") != rows[0]:
        problems.append("columns differ from the CSV header")
    if doc.get("rows") != rows[1:]:
        problems.append("rows differ from the CSV rows")
    if doc.get("missing") != want_missing:
        problems.append(f"missing {doc.get('missing')!r}, want {want_missing!r}")
    if problems:
        sys.exit("; ".join(problems))


def restate(src, dst, day, snapshot, delta):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f.attrs.create("boundaries", np.bytes_(day))  # fixed-length strings, as the archive's
        f.attrs.create("classifier_snapshot", np.bytes_(snapshot))
        rows = f["rows"][:]
        first = text(f["measures"][0]["name"])
        col = rows[first]
        rows[first] = np.where(col == INT64_MIN, col, col + int(delta))
        f["rows"][...] = rows


def rename_dim(path, old, new):
    with h5py.File(path, "r+") as f:
        rows = f["rows"][:]
        rows.dtype.names = tuple(new if n == old else n for n in rows.dtype.names)
        del f["rows"]
        f.create_dataset("rows", data=rows)
        f.move(f"dimensions/{old}", f"dimensions/{new}")
        if f"listing/{old}" in f:
            f.move(f"listing/{old}", f"listing/{new}")


def drop_kato(path, kato):
    with h5py.File(path, "r+") as f:
        rows = f["rows"][:]
        kept = rows[rows["kato"] != kato.encode()]
        assert len(kept) < len(rows), f"{kato} has no row in {path}"
        del f["rows"]
        f.create_dataset("rows", data=kept)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "expect":
        expect(args[0], args[1], args[2], args[3:])
    elif cmd == "filter":
        filter_series(*args)
    elif cmd == "json-equals":
        json_equals(*args)
    elif cmd == "restate":
        for i in range(0, len(args), 5):
            restate(*args[i:i + 5])
    elif cmd == "rename-dim":
        rename_dim(*args)
    elif cmd == "drop-kato":
        drop_kato(*args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
