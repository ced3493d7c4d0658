#!/usr/bin/env python3
"""Copies a generated (plain) snapshot, breaking chosen rows, and writes the
rejects esep must report as "extract,line,column,reason" lines, worked out
here independently of esep: which rows were broken, how, and which rows of
other extracts lose their person as a consequence (job_seekers must refer
to an accepted person). One duplicated IIN is on an early row and on the
last, which are on different ranks for any split. A valid multi-line
record is also inserted, so the expected line numbers check that true
physical lines are reported.

usage: inject_bad_rows.py SRC_SNAPSHOT DST_SNAPSHOT EXPECTED_FILE
"""
import os
import shutil
import subprocess
import sys


def read_records(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", "file must end with a newline"
    lines = lines[:-1]
    assert all(l.count('"') % 2 == 0 for l in lines), "generator rows are one line each"
    return lines  # lines[0] is the header


def write_records(path, records):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(records) + "\n")


def physical_lines(records):
    """Line number of each record's first line (1-based, header = 1)."""
    out, line = [], 1
    for r in records:
        out.append(line)
        line += 1 + r.count("\n")
    return out


def compress_multiframe(path, frame=30000):
    data = open(path, "rb").read()
    with open(path + ".zst", "wb") as out:
        for i in range(0, len(data), frame):
            out.write(subprocess.run(["zstd", "-q", "-c"], input=data[i:i + frame],
                                     stdout=subprocess.PIPE, check=True).stdout)
    os.remove(path)


def main(src, dst, expected_path):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    expected = []  # (extract, record index, column, reason)

    persons = read_records(os.path.join(dst, "persons.csv"))
    seekers = read_records(os.path.join(dst, "job_seekers.csv"))
    hp, hs = persons[0].split(";"), seekers[0].split(";")
    seeker_iins = [r.split(";")[hs.index("iin")] for r in seekers[1:]]
    wanted = set(seeker_iins)
    cand = [i for i in range(60, len(persons)) if persons[i].split(";")[hp.index("iin")] in wanted]
    assert len(cand) >= 4, "need persons who are job seekers"
    broken_iins = set()

    def edit(i, column, value, reason, col_name=None):
        f = persons[i].split(";")
        broken_iins.add(f[hp.index("iin")])
        f[hp.index(column)] = value
        persons[i] = ";".join(f)
        expected.append(("persons", i, col_name if col_name is not None else column, reason))

    iin = persons[cand[0]].split(";")[hp.index("iin")]
    edit(cand[0], "iin", iin[:11] + str((int(iin[11]) + 1) % 10), "iin_checksum")
    edit(cand[1], "kato", "999999999", "unknown_kato")
    sex = persons[cand[2]].split(";")[hp.index("sex")]
    edit(cand[2], "sex", "F" if sex == "M" else "M", "iin_mismatch")
    broken_iins.add(persons[cand[3]].split(";")[hp.index("iin")])
    persons[cand[3]] += ";extra"
    expected.append(("persons", cand[3], "", "field_count"))
    persons[10] = persons[5]  # same IIN again, later line: the later row loses
    expected.append(("persons", 10, "iin", "duplicate_key"))
    last = len(persons) - 1
    assert last not in cand[:4]
    persons[last] = persons[20]  # the last row (on the last rank) repeats an early one (on rank 0)
    expected.append(("persons", last, "iin", "duplicate_key"))
    # the persons replaced at lines 10 and `last` no longer exist: their spells lose them
    write_records(os.path.join(dst, "persons.csv"), persons)

    original = read_records(os.path.join(src, "persons.csv"))
    lost = {original[10].split(";")[hp.index("iin")], original[last].split(";")[hp.index("iin")]} | broken_iins
    remaining = {p.split(";")[hp.index("iin")] for i, p in enumerate(persons[1:], 1)
                 if not any(e[0] == "persons" and e[1] == i for e in expected)}
    for i, s in enumerate(seeker_iins, 1):
        if s in lost and s not in remaining:
            expected.append(("job_seekers", i, "iin", "unknown_reference"))
    seekers.append("000303600016;2025-01-10;;;" + seekers[1].split(";")[hs.index("kato")])
    assert "000303600016" not in remaining
    expected.append(("job_seekers", len(seekers) - 1, "iin", "unknown_reference"))
    write_records(os.path.join(dst, "job_seekers.csv"), seekers)

    pay = read_records(os.path.join(dst, "social_payments.csv"))
    h = pay[0].split(";")
    f = pay[100].split(";"); f[h.index("amount")] = "12.345"; pay[100] = ";".join(f)
    expected.append(("social_payments", 100, "amount", "bad_money"))
    f = pay[200].split(";"); f[h.index("period")] = "2025-13"; pay[200] = ";".join(f)
    expected.append(("social_payments", 200, "period", "bad_month"))
    f = pay[300].split(";"); f[h.index("program")] = '"ASP"x'; pay[300] = ";".join(f)
    expected.append(("social_payments", 300, "", "bad_quoting"))
    write_records(os.path.join(dst, "social_payments.csv"), pay)
    compress_multiframe(os.path.join(dst, "social_payments.csv"))

    app = read_records(os.path.join(dst, "appeals.csv"))
    h = app[0].split(";")
    f = app[50].split(";")
    f[h.index("received_on")], f[h.index("answered_on")] = "2025-06-10", "2025-06-01"
    f[h.index("result")] = "EXPLAINED"
    app[50] = ";".join(f)
    f = app[2].split(";")
    f[h.index("category")] = '"roads;\nand ""bridges"""'
    app.insert(8, ";".join(f))  # valid, two physical lines
    expected.append(("appeals", 51, "answered_on", "date_order"))  # index after insert
    write_records(os.path.join(dst, "appeals.csv"), app)

    lines = {name: physical_lines(read_records_any(dst, name))
             for name in ("persons", "job_seekers", "appeals", "social_payments")}
    rows = sorted((e[0], lines[e[0]][e[1]], e[2], e[3]) for e in expected)
    with open(expected_path, "w") as out:
        for r in rows:
            out.write("%s,%d,%s,%s\n" % r)


def read_records_any(d, name):
    plain = os.path.join(d, name + ".csv")
    if os.path.exists(plain):
        with open(plain, encoding="utf-8", newline="") as f:
            text = f.read()
    else:
        text = subprocess.run(["zstd", "-q", "-d", "-c", plain + ".zst"], stdout=subprocess.PIPE,
                              check=True).stdout.decode()
    # records: split on newlines outside quotes
    recs, cur, quotes = [], [], 0
    for line in text.split("\n")[:-1]:
        cur.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            recs.append("\n".join(cur)); cur = []; quotes = 0
    return recs


if __name__ == "__main__":
    main(*sys.argv[1:4])
