#!/usr/bin/env python3
"""reports_oracle.py — independent test oracle for esep's 12 regulated reports.

Implements spec/reports.md (methodology v1) over one snapshot directory laid
out as in spec/extracts.md, with exact internal values (no disclosure control).
Python 3 standard library only. Written for clarity, not speed: every cell of
every cube is computed by filtering the rows again.

    reports_oracle.py SNAPSHOT_DIR --period P --report ID      # CSV on stdout
    reports_oracle.py SNAPSHOT_DIR --period P --all --out DIR  # DIR/<ID>-<P>.csv

--all writes every report whose periodicity matches P (monthly reports for
YYYY-MM, quarterly for YYYY-Qn). Rows rejected at ingest and rows rejected by
a report are listed on stderr with --verbose (counts are always printed).
The interpretations of the spec this oracle follows are written down in
tests/fixtures/reports/README.md.
"""

import argparse
import csv
import datetime
import functools
import io
import itertools
import os
import re
import subprocess
import sys

TOTAL = "_T"
REPUBLIC = "000000000"

# ----------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------


class Period:
    """A report period: text, kind (month/quarter/year), S, E and its months."""

    def __init__(self, text):
        self.text = text
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)
        q = re.fullmatch(r"(\d{4})-Q([1-4])", text)
        y = re.fullmatch(r"(\d{4})", text)
        if m and 1 <= int(m.group(2)) <= 12:
            self.kind, self.year = "month", int(m.group(1))
            first, last = int(m.group(2)), int(m.group(2))
        elif q:
            self.kind, self.year = "quarter", int(q.group(1))
            first = 3 * int(q.group(2)) - 2
            last = first + 2
        elif y:
            self.kind, self.year = "year", int(y.group(1))
            first, last = 1, 12
        else:
            raise ValueError("bad period %r (want YYYY-MM, YYYY-Qn or YYYY)" % text)
        self.S = datetime.date(self.year, first, 1)
        self.E = last_day_of_month(self.year, last)
        self.months = ["%04d-%02d" % (self.year, mo) for mo in range(first, last + 1)]
        self.last_month = self.months[-1]


def last_day_of_month(year, month):
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


# ----------------------------------------------------------------------------
# Ages, rounding and number formats
# ----------------------------------------------------------------------------


def age_at(birth, day):
    """Completed years at `day` (the birthday itself counts as completed)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def alive_at(person, day):
    return person["birth_date"] <= day and (person["death_date"] is None or person["death_date"] > day)


def band_of(age, bands):
    """bands: list of (label, lowest age, highest age or None)."""
    for label, lo, hi in bands:
        if age >= lo and (hi is None or age <= hi):
            return label
    return None


def div_round(num, den, decimals):
    """num/den rounded half away from zero, as an integer count of 10**-decimals."""
    assert den > 0
    scaled = num * 10 ** decimals
    q, r = divmod(abs(scaled), den)
    if 2 * r >= den:
        q += 1
    return q if scaled >= 0 else -q


def fixed(units, decimals):
    """An integer count of 10**-decimals written as a decimal number."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10 ** decimals)
    return "%s%d.%0*d" % (sign, whole, decimals, frac)


def ratio1(num, den):
    """A 1-decimal ratio (_pct, _per_1000 callers pre-multiply); empty if den = 0."""
    return "" if den == 0 else fixed(div_round(num, den, 1), 1)


def pct(part, whole):
    return ratio1(part * 100, whole)


def per_1000(count, population):
    return ratio1(count * 1000, population)


def money(tiyn):
    return fixed(tiyn, 2)


def money_avg(tiyn, n):
    return "" if n == 0 else fixed(div_round(tiyn, n, 0), 2)


# ----------------------------------------------------------------------------
# Reading and validating a snapshot (extracts.md)
# ----------------------------------------------------------------------------

# column -> (type, nullable). Types: iin, kato, date, money, int, enum:A|B, text,
# code9 (text of 9 digits), letters3 (text of 3 letters), period (YYYY-MM).
SCHEMAS = {
    "kato": [("code", "code9", False), ("parent", "code9", False), ("level", "int:1-4", False),
             ("name_kk", "text", False), ("name_ru", "text", False), ("valid_from", "date", False),
             ("valid_to", "date", True), ("successor", "code9", True)],
    "persons": [("iin", "iin", False), ("birth_date", "date", False), ("sex", "enum:M|F", False),
                ("kato", "kato", False), ("household_id", "int", False), ("death_date", "date", True),
                ("disability_group", "enum:1|2|3", True), ("citizenship", "letters3", False)],
    "civil_events": [("event_id", "int", False), ("event_type", "enum:BIRTH|DEATH|MARRIAGE|DIVORCE", False),
                     ("event_date", "date", False), ("iin", "iin", False), ("kato", "kato", False),
                     ("cause", "text", True)],
    "social_payments": [("payment_id", "int", False), ("iin", "iin", False),
                        ("program", "enum:ASP|CHILD|HOUSING|SPECIAL", False), ("period", "period", False),
                        ("amount", "money", False), ("kato", "kato", False)],
    "job_seekers": [("iin", "iin", False), ("registered_on", "date", False), ("deregistered_on", "date", True),
                    ("dereg_reason", "enum:EMPLOYED|PROGRAM|REMOVED|OTHER", True), ("kato", "kato", False)],
    "education": [("iin", "iin", False), ("org_id", "int", False), ("org_kato", "kato", False),
                  ("level", "enum:PRESCHOOL|PRIMARY|BASIC|SECONDARY|TVET", False),
                  ("language", "enum:KK|RU|OTHER", False), ("enrolled_on", "date", False),
                  ("left_on", "date", True)],
    "preschool_queue": [("iin", "iin", False), ("kato", "kato", False), ("queued_on", "date", False),
                        ("placed_on", "date", True),
                        ("priority", "enum:NONE|LARGE_FAMILY|DISABLED_PARENT|ORPHAN|SPECIAL_NEEDS|MILITARY",
                         False)],
    "schools": [("org_id", "int", False), ("kato", "kato", False), ("design_capacity", "int:1-", False),
                ("built_year", "int", False), ("shifts", "int:1-3", False)],
    "appeals": [("appeal_id", "int", False), ("received_on", "date", False), ("answered_on", "date", True),
                ("extended", "enum:0|1", False),
                ("channel", "enum:PORTAL|CALL_1414|FRONT_OFFICE|SOCIAL|MOBILE|WRITTEN", False),
                ("category", "text", False), ("kato", "kato", False),
                ("result", "enum:SATISFIED|EXPLAINED|REJECTED", True)],
}


KEYS = {"kato": "code", "persons": "iin", "schools": "org_id"}


class Reject(Exception):
    def __init__(self, column, reason):
        super().__init__(reason)
        self.column, self.reason = column, reason


def iin_check_digit(first11):
    d = [int(c) for c in first11]
    s = sum(w * x for w, x in zip(range(1, 12), d)) % 11
    if s == 10:
        s = sum(w * x for w, x in zip([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2], d)) % 11
        if s == 10:
            return None
    return s


def iin_birth_sex(iin):
    """(birth date, sex) encoded in an IIN, or None when the IIN is invalid."""
    if not re.fullmatch(r"\d{12}", iin) or iin[6] not in "123456":
        return None
    c = iin_check_digit(iin[:11])
    if c is None or c != int(iin[11]):
        return None
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[iin[6]]
    try:
        birth = datetime.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None
    return birth, ("M" if iin[6] in "135" else "F")


def parse_date(text):
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError
    return datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))


def convert(value, typ, kato_codes):
    """Typed value of one non-empty field, or ValueError with a reason."""
    if typ == "iin":
        if iin_birth_sex(value) is None:
            raise ValueError("invalid IIN")
        return value
    if typ == "kato":
        if not re.fullmatch(r"\d{9}", value) or value not in kato_codes:
            raise ValueError("unknown KATO")
        return value
    if typ == "code9":
        if not re.fullmatch(r"\d{9}", value):
            raise ValueError("not 9 digits")
        return value
    if typ == "date":
        try:
            return parse_date(value)
        except ValueError:
            raise ValueError("bad date")
    if typ == "money":
        if not re.fullmatch(r"\d+(\.\d{1,2})?", value):
            raise ValueError("bad money")
        whole, _, frac = value.partition(".")
        tiyn = int(whole) * 100 + int((frac + "00")[:2])
        if tiyn <= 0:
            raise ValueError("amount not > 0")
        return tiyn
    if typ.startswith("int"):
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError("bad int")
        n = int(value)
        if ":" in typ:
            lo, _, hi = typ.split(":")[1].partition("-")
            if n < int(lo) or (hi and n > int(hi)):
                raise ValueError("int out of range")
        return n
    if typ.startswith("enum:"):
        if value not in typ[5:].split("|"):
            raise ValueError("not in enum")
        return value
    if typ == "letters3":
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError("not 3 letters")
        return value
    if typ == "period":
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise ValueError("bad period")
        return value
    return value  # text


def open_extract(snapdir, name):
    """Text of <name>.csv, or of <name>.csv.zst through the zstd tool."""
    plain = os.path.join(snapdir, name + ".csv")
    if os.path.exists(plain):
        with open(plain, "rb") as f:
            data = f.read()
    elif os.path.exists(plain + ".zst"):
        data = subprocess.run(["zstd", "-dcq", plain + ".zst"], check=True, stdout=subprocess.PIPE).stdout
    else:
        raise SystemExit("extract %s: missing file in %s" % (name, snapdir))
    return data.decode("utf-8-sig")


def read_extract(snapdir, name, kato_codes, rejects):
    """Accepted rows of one extract as dicts of typed values (+ '_line')."""
    text = open_extract(snapdir, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    header = next(reader)
    index = {col: i for i, col in enumerate(header)}
    for col, _, _ in SCHEMAS[name]:
        if col not in index:
            raise SystemExit("extract %s: missing column %s" % (name, col))
    rows = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        line = reader.line_num
        if raw == []:
            continue
        try:
            if len(raw) != len(header):
                raise Reject("", "wrong field count")
            row = {"_line": start}
            for col, typ, nullable in SCHEMAS[name]:
                value = raw[index[col]]
                if value == "":
                    if not nullable:
                        raise Reject(col, "empty required field")
                    row[col] = None
                    continue
                try:
                    row[col] = convert(value, typ, kato_codes)
                except ValueError as e:
                    raise Reject(col, str(e))
            check_row_rules(name, row)
            rows.append(row)
        except Reject as r:
            rejects.append((name, start, r.column, r.reason, ";".join(raw)))
    key = KEYS.get(name)
    if key:  # a duplicate key rejects the later row
        seen, kept = set(), []
        for row in rows:
            if row[key] in seen:
                rejects.append((name, row["_line"], key, "duplicate key", ""))
            else:
                seen.add(row[key])
                kept.append(row)
        rows = kept
    return rows


# (earlier, later) date columns; a later date before the earlier one rejects the row
DATE_ORDER = {
    "kato": ("valid_from", "valid_to"),
    "persons": ("birth_date", "death_date"),
    "job_seekers": ("registered_on", "deregistered_on"),
    "education": ("enrolled_on", "left_on"),
    "preschool_queue": ("queued_on", "placed_on"),
    "appeals": ("received_on", "answered_on"),
}


def check_row_rules(name, row):
    """Per-extract rules beyond field types (extracts.md)."""
    if name == "persons":
        birth, sex = iin_birth_sex(row["iin"])
        if birth != row["birth_date"]:
            raise Reject("birth_date", "birth_date disagrees with IIN")
        if sex != row["sex"]:
            raise Reject("sex", "sex disagrees with IIN")
    if name in DATE_ORDER:
        earlier, later = DATE_ORDER[name]
        if row[later] is not None and row[later] < row[earlier]:
            raise Reject(later, "date order violated")


class Snapshot:
    def __init__(self, snapdir):
        self.dir = snapdir
        self.rejects = []  # ingest rejects: (extract, line, column, reason, raw)
        self.kato = {row["code"]: row for row in read_extract(snapdir, "kato", set(), self.rejects)}
        for name in SCHEMAS:
            if name != "kato":
                setattr(self, name, read_extract(snapdir, name, set(self.kato), self.rejects))
        self.person_by_iin = {p["iin"]: p for p in self.persons}


# ----------------------------------------------------------------------------
# Territory objects and KATO resolution
# ----------------------------------------------------------------------------

PREFIX = {1: 2, 2: 4, 3: 6}  # significant digits of a region / district / okrug code


class Territory:
    """The KATO objects valid at E, and resolution of row codes onto them."""

    def __init__(self, kato_rows, E):
        self.rows, self.E = kato_rows, E

    def valid(self, code):
        row = self.rows.get(code)
        return (row is not None and row["valid_from"] <= self.E
                and (row["valid_to"] is None or row["valid_to"] >= self.E))

    def resolve(self, code):
        """The code itself if valid at E, else the first valid code along its successor chain, else None."""
        seen = set()
        while code is not None and code not in seen:
            if self.valid(code):
                return code
            seen.add(code)
            row = self.rows.get(code)
            code = row["successor"] if row else None
        return None

    def objects(self, levels):
        """(code, level) of every object valid at E at the listed levels, republic included for level 0."""
        out = [(REPUBLIC, 0)] if 0 in levels else []
        for code, row in self.rows.items():
            if row["level"] in levels and row["level"] in PREFIX and self.valid(code):
                out.append((code, row["level"]))
        return sorted(out)

    @staticmethod
    def contains(obj, code):
        """Roll-up by prefix: does object (code, level) contain the resolved code?"""
        obj_code, level = obj
        if level == 0:
            return True
        n = PREFIX[level]
        return code[:n] == obj_code[:n]


# ----------------------------------------------------------------------------
# Report context and the cube
# ----------------------------------------------------------------------------


class Context:
    def __init__(self, snap, period):
        self.snap, self.period = snap, period
        self.S, self.E = period.S, period.E
        self.terr = Territory(snap.kato, period.E)
        self.report_rejects = []  # (report, extract, line, reason)
        self._alive = None  # located persons alive at E, built on first use

    def located(self, report, extract, rows, field="kato"):
        """(resolved kato, row) for rows whose code resolves at E; the others are rejected for `report`."""
        out = []
        for row in rows:
            code = self.terr.resolve(row[field])
            if code is None:
                self.report_rejects.append((report, extract, row["_line"], "KATO not valid at period end"))
            else:
                out.append((code, row))
        return out

    def population(self, obj):
        """POP-01 population `_T,_T` at the object (persons alive at E, by their resolved kato)."""
        if self._alive is None:
            alive = [p for p in self.snap.persons if alive_at(p, self.E)]
            self._alive = self.located("POP-01", "persons", alive)
        return sum(1 for code, _ in self._alive if Territory.contains(obj, code))


def inside(obj, located_rows):
    """The rows (of (resolved kato, row) pairs) that roll up into obj."""
    return [row for code, row in located_rows if Territory.contains(obj, code)]


def matches(sel, dim, value):
    return sel[dim] == TOTAL or sel[dim] == value


def cube(ctx, levels, dims, measures, compute):
    """Dense cube: one row per object x dimension value (plus _T), sorted as bytes.

    dims: list of (name, values); compute(obj, sel) -> list of formatted measures,
    where sel maps each dimension name to a value or _T.
    """
    names = [d for d, _ in dims]
    header = ["kato", "level"] + names + measures
    rows = []
    for obj in ctx.terr.objects(levels):
        for combo in itertools.product(*[values + [TOTAL] for _, values in dims]):
            sel = dict(zip(names, combo))
            values = compute(obj, sel)
            assert len(values) == len(measures)
            rows.append([obj[0], str(obj[1])] + list(combo) + [str(v) for v in values])
    rows.sort(key=lambda r: [r[0].encode()] + [v.encode() for v in r[2:2 + len(dims)]])
    return header, rows


def open_at(start, end, day):
    """A spell [start, end) open on `day`: start <= day and (end null or end > day)."""
    return start <= day and (end is None or end > day)


def in_period(ctx, day):
    return day is not None and ctx.S <= day <= ctx.E


# ----------------------------------------------------------------------------
# The reports
# ----------------------------------------------------------------------------

SEXES = ["M", "F"]
AGE_GROUPS = [("0-2", 0, 2), ("3-6", 3, 6), ("7-17", 7, 17), ("18-29", 18, 29), ("30-62", 30, 62), ("63+", 63, None)]
AGE_BANDS = [("0-17", 0, 17), ("18-62", 18, 62), ("63+", 63, None)]
PROGRAMS = ["ASP", "CHILD", "HOUSING", "SPECIAL"]
CHANNELS = ["PORTAL", "CALL_1414", "FRONT_OFFICE", "SOCIAL", "MOBILE", "WRITTEN"]


def pop_01(ctx):
    alive = [p for p in ctx.snap.persons if alive_at(p, ctx.E)]
    located = ctx.located("POP-01", "persons", alive)
    # the persons of each object, found once for its 21 cells (not once per
    # cell: that was 90% of the oracle's time)
    here = functools.lru_cache(maxsize=None)(lambda obj: inside(obj, located))

    def compute(obj, sel):
        n = sum(1 for p in here(obj)
                if matches(sel, "sex", p["sex"])
                and matches(sel, "age_group", band_of(age_at(p["birth_date"], ctx.E), AGE_GROUPS)))
        return [n]

    dims = [("sex", SEXES), ("age_group", [g for g, _, _ in AGE_GROUPS])]
    return cube(ctx, [0, 1, 2, 3], dims, ["population"], compute)


def icd_in(cause, first, last):
    """ICD-10 code within a block of 3-character categories, e.g. X59.9 in V01-Y98."""
    if cause is None:
        return False
    category = cause.strip().upper()[:3]
    if not re.fullmatch(r"[A-Z]\d\d", category):
        return False
    return first <= category <= last


def pop_02(ctx):
    events = [e for e in ctx.snap.civil_events if in_period(ctx, e["event_date"])]
    located = ctx.located("POP-02", "civil_events", events)

    def compute(obj, sel):
        ev = inside(obj, located)
        kind = lambda t: [e for e in ev if e["event_type"] == t]
        births, deaths = len(kind("BIRTH")), kind("DEATH")
        pop = ctx.population(obj)
        return [births, len(deaths), len(kind("MARRIAGE")), len(kind("DIVORCE")),
                sum(1 for e in deaths if icd_in(e["cause"], "I00", "I99")),
                sum(1 for e in deaths if icd_in(e["cause"], "C00", "D48")),
                sum(1 for e in deaths if icd_in(e["cause"], "V01", "Y98")),
                births - len(deaths),
                per_1000(births, pop), per_1000(len(deaths), pop)]

    measures = ["births", "deaths", "marriages", "divorces", "deaths_circulatory", "deaths_neoplasm",
                "deaths_external", "natural_increase", "births_per_1000", "deaths_per_1000"]
    return cube(ctx, [0, 1, 2], [], measures, compute)


def social_measures(payments, with_per_1000, population):
    recipients = len({p["iin"] for p in payments})
    amount = sum(p["amount"] for p in payments)
    out = [recipients, len(payments), money(amount), money_avg(amount, recipients)]
    if with_per_1000:
        out.append(per_1000(recipients, population))
    return out


def soc_01(ctx):
    paid = [p for p in ctx.snap.social_payments if p["period"] == ctx.period.text]
    located = ctx.located("SOC-01", "social_payments", paid)

    def compute(obj, sel):
        rows = [p for p in inside(obj, located) if matches(sel, "program", p["program"])]
        return social_measures(rows, True, ctx.population(obj))

    measures = ["recipients", "payments", "amount", "avg_per_recipient", "recipients_per_1000"]
    return cube(ctx, [0, 1, 2], [("program", PROGRAMS)], measures, compute)


def soc_02(ctx):
    first = "%04d-01" % ctx.period.year
    paid = [p for p in ctx.snap.social_payments if first <= p["period"] <= ctx.period.last_month]
    located = ctx.located("SOC-02", "social_payments", paid)

    def compute(obj, sel):
        rows = [p for p in inside(obj, located) if matches(sel, "program", p["program"])]
        return social_measures(rows, False, None)

    measures = ["recipients", "payments", "amount", "avg_per_recipient"]
    return cube(ctx, [0, 1], [("program", PROGRAMS)], measures, compute)


def lab_01(ctx):
    known = []
    for s in ctx.snap.job_seekers:
        if s["iin"] in ctx.snap.person_by_iin:
            known.append(s)
        else:
            ctx.report_rejects.append(("LAB-01", "job_seekers", s["_line"], "iin not in persons"))
    located = ctx.located("LAB-01", "job_seekers", known)
    long_term_limit = ctx.E - datetime.timedelta(days=365)

    def compute(obj, sel):
        spells = [s for s in inside(obj, located)
                  if matches(sel, "sex", ctx.snap.person_by_iin[s["iin"]]["sex"])]
        open_end = [s for s in spells if open_at(s["registered_on"], s["deregistered_on"], ctx.E)]
        age = lambda s: age_at(ctx.snap.person_by_iin[s["iin"]]["birth_date"], ctx.E)
        return [len(open_end),
                sum(1 for s in open_end if s["registered_on"] <= long_term_limit),
                sum(1 for s in open_end if 15 <= age(s) <= 28),
                sum(1 for s in spells if in_period(ctx, s["registered_on"])),
                sum(1 for s in spells if in_period(ctx, s["deregistered_on"]) and s["dereg_reason"] == "EMPLOYED")]

    measures = ["registered_end", "long_term", "youth", "new_in_period", "employed_in_period"]
    return cube(ctx, [0, 1, 2, 3], [("sex", SEXES)], measures, compute)


def edu_01(ctx):
    children = [p for p in ctx.snap.persons
                if alive_at(p, ctx.E) and 1 <= age_at(p["birth_date"], ctx.E) <= 6]
    children = ctx.located("EDU-01", "persons", children)
    enrolled = [r for r in ctx.snap.education
                if r["level"] == "PRESCHOOL" and open_at(r["enrolled_on"], r["left_on"], ctx.E)]
    enrolled = ctx.located("EDU-01", "education", enrolled, field="org_kato")
    waiting = [q for q in ctx.snap.preschool_queue if open_at(q["queued_on"], q["placed_on"], ctx.E)]
    waiting = ctx.located("EDU-01", "preschool_queue", waiting)

    def compute(obj, sel):
        n_children = len(inside(obj, children))
        n_enrolled = len({r["iin"] for r in inside(obj, enrolled)})
        queue = inside(obj, waiting)
        return [n_children, n_enrolled, pct(n_enrolled, n_children),
                len(queue), sum(1 for q in queue if q["priority"] != "NONE")]

    measures = ["children_1_6", "enrolled_preschool", "coverage_pct", "queue_waiting", "queue_priority"]
    return cube(ctx, [0, 1, 2], [], measures, compute)


def edu_02(ctx):
    school_levels = ("PRIMARY", "BASIC", "SECONDARY")
    schools = []
    for s in ctx.snap.schools:
        pupils = {r["iin"] for r in ctx.snap.education
                  if r["org_id"] == s["org_id"] and r["level"] in school_levels
                  and open_at(r["enrolled_on"], r["left_on"], ctx.E)}
        schools.append(dict(s, pupils=len(pupils)))
    located = ctx.located("EDU-02", "schools", schools)

    def compute(obj, sel):
        here = inside(obj, located)
        return [len(here),
                sum(s["design_capacity"] for s in here),
                sum(s["pupils"] for s in here),
                sum(max(0, s["pupils"] - s["design_capacity"]) for s in here),
                sum(max(0, s["design_capacity"] - s["pupils"]) for s in here),
                sum(1 for s in here if s["pupils"] > s["design_capacity"]),
                sum(1 for s in here if s["shifts"] == 3)]

    measures = ["schools", "capacity", "pupils", "deficit", "surplus", "over_capacity", "three_shift"]
    return cube(ctx, [0, 1, 2], [], measures, compute)


def fam_01(ctx):
    asp_iins = {p["iin"] for p in ctx.snap.social_payments
                if p["program"] == "ASP" and p["period"] == ctx.period.last_month}
    households = {}
    for p in ctx.snap.persons:
        households.setdefault(p["household_id"], []).append(p)
    large = []
    for hid, members in sorted(households.items()):
        alive = [p for p in members if alive_at(p, ctx.E)]
        children = [p for p in alive if age_at(p["birth_date"], ctx.E) < 18]
        if len(children) < 4:
            continue
        head = min(alive, key=lambda p: (p["birth_date"], p["iin"]))  # oldest alive; tie: smallest iin
        large.append({"_line": head["_line"], "household_id": hid, "kato": head["kato"],
                      "children": len(children),
                      "asp": any(p["iin"] in asp_iins for p in members)})
    located = ctx.located("FAM-01", "persons", large)

    def compute(obj, sel):
        here = inside(obj, located)
        return [len(here), sum(h["children"] for h in here), sum(1 for h in here if h["asp"])]

    measures = ["large_families", "children_in_large_families", "large_families_with_asp"]
    return cube(ctx, [0, 1, 2, 3], [], measures, compute)


def dis_01(ctx):
    disabled = [p for p in ctx.snap.persons if alive_at(p, ctx.E) and p["disability_group"] is not None]
    located = ctx.located("DIS-01", "persons", disabled)

    def compute(obj, sel):
        return [sum(1 for p in inside(obj, located)
                    if matches(sel, "disability_group", p["disability_group"])
                    and matches(sel, "age_band", band_of(age_at(p["birth_date"], ctx.E), AGE_BANDS)))]

    dims = [("disability_group", ["1", "2", "3"]), ("age_band", [b for b, _, _ in AGE_BANDS])]
    return cube(ctx, [0, 1, 2], dims, ["persons"], compute)


def apl_01(ctx):
    located = ctx.located("APL-01", "appeals", ctx.snap.appeals)
    limit = lambda a: 30 if a["extended"] == "1" else 15
    days = lambda a: (a["answered_on"] - a["received_on"]).days

    def compute(obj, sel):
        rows = [a for a in inside(obj, located) if matches(sel, "channel", a["channel"])]
        answered = [a for a in rows if in_period(ctx, a["answered_on"])]
        on_time = [a for a in answered if days(a) <= limit(a)]
        pending_overdue = [a for a in rows
                           if a["received_on"] <= ctx.E
                           and (a["answered_on"] is None or a["answered_on"] > ctx.E)
                           and (ctx.E - a["received_on"]).days > limit(a)]
        all_days = sorted(days(a) for a in answered)
        n = len(all_days)
        median = all_days[(n + 1) // 2 - 1] if n else ""  # the ceil(n/2)-th smallest
        return [sum(1 for a in rows if in_period(ctx, a["received_on"])),
                n, len(on_time), n - len(on_time), len(pending_overdue),
                pct(len(on_time), n), median]

    measures = ["received", "answered", "answered_on_time", "answered_late", "pending_overdue",
                "on_time_pct", "median_days"]
    return cube(ctx, [0, 1, 2], [("channel", CHANNELS)], measures, compute)


def xr_01(ctx):
    paid = [p for p in ctx.snap.social_payments if p["program"] == "ASP" and p["period"] == ctx.period.text]
    located = ctx.located("XR-01", "social_payments", paid)
    seekers = {s["iin"] for s in ctx.snap.job_seekers
               if open_at(s["registered_on"], s["deregistered_on"], ctx.E)}

    def compute(obj, sel):
        recipients = {p["iin"] for p in inside(obj, located)}
        seeking = recipients & seekers
        return [len(recipients), len(seeking), pct(len(seeking), len(recipients))]

    return cube(ctx, [0, 1, 2], [], ["asp_recipients", "asp_job_seekers", "asp_job_seekers_pct"], compute)


def rec_01(ctx):
    civil = [e for e in ctx.snap.civil_events if e["event_type"] == "DEATH" and in_period(ctx, e["event_date"])]
    register = [p for p in ctx.snap.persons if in_period(ctx, p["death_date"])]
    register_iins = {p["iin"] for p in register}
    civil_iins = {e["iin"] for e in civil}
    civil_loc = ctx.located("REC-01", "civil_events", civil)
    register_loc = ctx.located("REC-01", "persons", register)

    def compute(obj, sel):
        ev = inside(obj, civil_loc)
        dead = inside(obj, register_loc)
        matched = sum(1 for e in ev if e["iin"] in register_iins)
        return [len(ev), len(dead), matched, len(ev) - matched,
                sum(1 for p in dead if p["iin"] not in civil_iins)]

    measures = ["deaths_civil", "deaths_register", "matched", "civil_only", "register_only"]
    return cube(ctx, [0, 1], [], measures, compute)


# id -> (function, periodicity)
REPORTS = {
    "POP-01": (pop_01, "month"),
    "POP-02": (pop_02, "month"),
    "SOC-01": (soc_01, "month"),
    "SOC-02": (soc_02, "month"),
    "LAB-01": (lab_01, "month"),
    "EDU-01": (edu_01, "month"),
    "EDU-02": (edu_02, "month"),
    "FAM-01": (fam_01, "quarter"),
    "DIS-01": (dis_01, "quarter"),
    "APL-01": (apl_01, "month"),
    "XR-01": (xr_01, "month"),
    "REC-01": (rec_01, "month"),
}


def to_csv(header, rows):
    for r in [header] + rows:
        assert all("," not in v and '"' not in v and "\n" not in v for v in r), r
    return "".join(",".join(r) + "\n" for r in [header] + rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent oracle for esep's regulated reports (reports.md v1).")
    ap.add_argument("snapshot", help="snapshot directory (YYYYMMDD) with the 9 extracts")
    ap.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY")
    ap.add_argument("--report", help="one report id, CSV on stdout")
    ap.add_argument("--all", action="store_true", help="every report valid for the period, into --out")
    ap.add_argument("--out", help="output directory for --all")
    ap.add_argument("--verbose", action="store_true", help="list every rejected row on stderr")
    args = ap.parse_args(argv)

    period = Period(args.period)
    if args.all == bool(args.report) or (args.all and not args.out):
        ap.error("give either --report ID or --all --out DIR")
    if args.report:
        if args.report not in REPORTS:
            ap.error("unknown report %s (known: %s)" % (args.report, ", ".join(REPORTS)))
        if REPORTS[args.report][1] != period.kind:
            ap.error("%s is a %sly report; period %s is a %s" % (args.report, REPORTS[args.report][1],
                                                                period.text, period.kind))
        wanted = [args.report]
    else:
        wanted = [rid for rid, (_, kind) in REPORTS.items() if kind == period.kind]

    snap = Snapshot(args.snapshot)
    for extract, line, column, reason, raw in snap.rejects:
        print("ingest reject: %s line %d column %s: %s  %s" % (extract, line, column or "-", reason, raw),
              file=sys.stderr)
    ctx = Context(snap, period)
    for rid in wanted:
        header, rows = REPORTS[rid][0](ctx)
        text = to_csv(header, rows)
        if args.report:
            sys.stdout.write(text)
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "%s-%s.csv" % (rid, period.text)), "w", encoding="utf-8",
                      newline="") as f:
                f.write(text)
    seen = set()
    for r in ctx.report_rejects:
        if r in seen:
            continue
        seen.add(r)
        if args.verbose:
            print("report reject: %s %s line %d: %s" % r, file=sys.stderr)
    print("oracle: %d ingest rejects, %d report rejects" % (len(snap.rejects), len(seen)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
