#!/usr/bin/env python3
"""Self-test of the report oracle and of the fixture it produced.

    python3 tests/oracle/test_oracle.py

Checks the small helpers against hand-picked cases, that the fixture snapshot
is valid input (no ingest rejects, exactly the two deliberate report rejects),
that make_snapshot.py still writes the committed snapshot byte for byte, and
that the oracle still writes the committed expected CSVs byte for byte.
"""

import datetime
import filecmp
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reports_oracle as O  # noqa: E402

FIXTURE = os.path.join(HERE, "..", "fixtures", "reports")
SNAP = os.path.join(FIXTURE, "snap", "20250415")
EXPECTED = os.path.join(FIXTURE, "expected")
D = datetime.date


class Helpers(unittest.TestCase):
    def test_rounding_half_away_from_zero(self):
        self.assertEqual(O.per_1000(1, 32), "31.3")      # 31.25
        self.assertEqual(O.pct(13, 16), "81.3")          # 81.25
        self.assertEqual(O.pct(1, 3), "33.3")
        self.assertEqual(O.pct(2, 3), "66.7")
        self.assertEqual(O.pct(0, 5), "0.0")
        self.assertEqual(O.pct(5, 0), "")
        self.assertEqual(O.money_avg(3500005, 2), "17500.03")  # 17500.025
        self.assertEqual(O.money_avg(2000000 * 10, 3), "66666.67")
        self.assertEqual(O.money_avg(100, 0), "")
        self.assertEqual(O.money(0), "0.00")
        self.assertEqual(O.money(50050), "500.50")
        self.assertEqual(O.div_round(-5, 2, 0), -3)  # -2.5 -> -3
        self.assertEqual(O.div_round(5, 2, 0), 3)

    def test_age_and_alive(self):
        E = D(2025, 3, 31)
        self.assertEqual(O.age_at(D(2010, 3, 31), E), 15)
        self.assertEqual(O.age_at(D(2010, 4, 1), E), 14)
        self.assertEqual(O.age_at(D(2016, 2, 29), E), 9)
        self.assertEqual(O.band_of(63, O.AGE_GROUPS), "63+")
        self.assertEqual(O.band_of(62, O.AGE_GROUPS), "30-62")
        self.assertFalse(O.alive_at({"birth_date": D(2025, 4, 3), "death_date": None}, E))
        self.assertFalse(O.alive_at({"birth_date": D(1950, 1, 1), "death_date": E}, E))
        self.assertTrue(O.alive_at({"birth_date": E, "death_date": D(2025, 4, 1)}, E))

    def test_iin(self):
        self.assertEqual(O.iin_birth_sex("800510300012"), (D(1980, 5, 10), "M"))
        self.assertIsNone(O.iin_birth_sex("800510300013"))  # wrong check digit
        self.assertIsNone(O.iin_birth_sex("800510700012"))  # century digit 7

    def test_icd_blocks(self):
        self.assertTrue(O.icd_in("D48.9", "C00", "D48"))
        self.assertFalse(O.icd_in("D50.0", "C00", "D48"))
        self.assertTrue(O.icd_in("X59.9", "V01", "Y98"))
        self.assertTrue(O.icd_in("Y98", "V01", "Y98"))
        self.assertFalse(O.icd_in("Y99.0", "V01", "Y98"))
        self.assertFalse(O.icd_in(None, "I00", "I99"))

    def test_periods(self):
        m, q = O.Period("2025-03"), O.Period("2025-Q1")
        self.assertEqual((m.S, m.E, m.months), (D(2025, 3, 1), D(2025, 3, 31), ["2025-03"]))
        self.assertEqual((q.S, q.E, q.last_month), (D(2025, 1, 1), D(2025, 3, 31), "2025-03"))
        self.assertEqual(O.Period("2024-02").E, D(2024, 2, 29))


class Fixture(unittest.TestCase):
    def test_snapshot_is_valid_input(self):
        snap = O.Snapshot(SNAP)
        self.assertEqual(snap.rejects, [])
        ctx = O.Context(snap, O.Period("2025-03"))
        for rid, (fn, kind) in O.REPORTS.items():
            if kind == "month":
                fn(ctx)
        self.assertEqual(sorted(set((r[0], r[1], r[3]) for r in ctx.report_rejects)),
                         [("APL-01", "appeals", "KATO not valid at period end"),
                          ("LAB-01", "job_seekers", "iin not in persons")])

    def test_territory(self):
        terr = O.Territory(O.Snapshot(SNAP).kato, D(2025, 3, 31))
        self.assertEqual(terr.resolve("752000009"), "751000002")  # two steps
        self.assertEqual(terr.resolve("611003001"), "611002002")
        self.assertIsNone(terr.resolve("752000007"))
        self.assertIsNone(terr.resolve("612001001"))  # opens 2025-04-01
        self.assertEqual([c for c, lv in terr.objects([3])], ["611001000", "611002000"])

    def test_generator_reproduces_snapshot(self):
        tmp = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(FIXTURE, "make_snapshot.py"), tmp)
            subprocess.run([sys.executable, os.path.join(tmp, "make_snapshot.py")], check=True)
            made = os.path.join(tmp, "snap", "20250415")
            names = sorted(os.listdir(SNAP))
            self.assertEqual(sorted(os.listdir(made)), names)
            _, mismatch, errors = filecmp.cmpfiles(SNAP, made, names, shallow=False)
            self.assertEqual((mismatch, errors), ([], []))
        finally:
            shutil.rmtree(tmp)

    def test_oracle_reproduces_expected(self):
        tmp = tempfile.mkdtemp()
        try:
            for period in ("2025-03", "2025-Q1"):
                O.main([SNAP, "--period", period, "--all", "--out", tmp])
            names = sorted(os.listdir(EXPECTED))
            self.assertEqual(sorted(os.listdir(tmp)), names)
            _, mismatch, errors = filecmp.cmpfiles(EXPECTED, tmp, names, shallow=False)
            self.assertEqual((mismatch, errors), ([], []))
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
