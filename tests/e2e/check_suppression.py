#!/usr/bin/env python3
"""Checks the disclosure-control property of one unpacked bundle,
independently of esep's C code (reports.md "Disclosure control"):

- no person/household count of 1 or 2 is published;
- a measure that follows a suppressed source is suppressed in that row;
- no group whose total is published has exactly one suppressed member, for
  every count measure: (a) the children of a territory object at the same
  dimension values (parent = nearest ancestor by KATO prefix present in the
  table), (b) the values of one dimension with the others fixed (total `_T`).

Measure roles (person_count, follows) are read from reports.h5.
usage: check_suppression.py UNPACKED_BUNDLE_DIR
"""
import csv
import os
import sys

import h5py


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def ancestors(kato):
    return [kato[:4] + "00000", kato[:2] + "0000000", "000000000"]


def check_report(rid, rows, header, roles):
    ndims = header.index(next(m for m in header[2:] if m in roles))
    dims, measures = header[2:ndims], header[ndims:]
    cell = {(r[0],) + tuple(r[2:ndims]): r for r in rows}
    problems = []
    for r in rows:
        for j, m in enumerate(measures):
            v = r[ndims + j]
            pc, follows = roles[m]
            if pc and v in ("1", "2"):
                problems.append(f"{rid} {r[:ndims]} {m}={v} published")
            for src in follows:
                if r[ndims + measures.index(src)] == "x" and v != "x":
                    problems.append(f"{rid} {r[:ndims]} {m} published while {src} is suppressed")
    groups = {}
    present = {r[0] for r in rows}
    for r in rows:
        key = tuple(r[2:ndims])
        parent = next((a for a in ancestors(r[0]) if a != r[0] and a in present and
                       int(rows_level[rid][a]) < int(r[1])), None)
        if parent is not None:
            groups.setdefault(("T", parent, key), []).append(r)
        for d in range(len(dims)):
            if r[2 + d] != "_T":
                total = key[:d] + ("_T",) + key[d + 1:]
                groups.setdefault(("D", r[0], total, d), []).append(r)
    for g, members in groups.items():
        total_row = cell[(g[1],) + (g[2] if g[0] == "T" else g[2])]
        for j, m in enumerate(measures):
            if not roles[m][0] and not roles[m][1]:
                continue
            if total_row[ndims + j] == "x":
                continue
            hidden = [x for x in members if x[ndims + j] == "x"]
            if len(hidden) == 1:
                problems.append(f"{rid} {m}: group {g} has exactly one suppressed member {hidden[0][:ndims]}")
    return problems


rows_level = {}


def main(root):
    problems = []
    with h5py.File(os.path.join(root, "reports.h5"), "r") as f:
        for rid in f:
            roles = {}
            for rec in f[rid]["measures"][:]:
                follows = [x for x in text(rec["follows"]).split(",") if x]
                roles[text(rec["name"])] = (int(rec["person_count"]) == 1, follows)
            with open(os.path.join(root, "csv", rid + ".csv"), encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                rows = list(reader)
            rows_level[rid] = {r[0]: r[1] for r in rows}
            problems += check_report(rid, rows, header, roles)
    for p in problems[:20]:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
