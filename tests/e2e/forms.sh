# What akimat staff open (outputs.md "What akimat staff open"): the xlsx
# forms of every bundle, converted back to CSV by LibreOffice headless,
# hold every value of the bundle's csv/ files (tests/e2e/check_xlsx.py).
# All 3 fixture bundles (30 forms) are converted: about 5 s here.
source "$(dirname "$0")/../lib.sh"
SNAP=$ROOT/tests/fixtures/reports/snap/20250415
PY=/usr/bin/python3

publish() { # OUT
  "$ESEP" run --snapshot "$SNAP" --period 2025-03 --out "$1" --key "$TMP_ROOT/key" > "$1.log" 2>&1 \
    || { cat "$1.log"; return 1; }
}
[ -f "$TMP_ROOT/key" ] || "$ESEP" keygen --key "$TMP_ROOT/key" > /dev/null 2>&1

# published OUT: a copy of the month published once per script (each case
# used to publish it again); a failure fails the case, and the next one
# tries again.
PUB=$TMP_ROOT/published
published() { once_then_copy "$PUB" publish "$1"; }

bundles() { find "$1/publish" -name 'esep-*.r*.tar.zst' | sort; }

unpack() { # BUNDLE DIR
  rm -rf "$2" && mkdir -p "$2" && tar --zstd -xf "$1" -C "$2"
}

# soffice with a private profile under the test's temp dir.
to_csv() { # OUTDIR FILES…
  local out=$1; shift
  LC_ALL=C.UTF-8 HOME=$TMP_ROOT/lo timeout 300 soffice --headless --norestore -env:UserInstallation=file://$TMP_ROOT/lo \
    --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1' \
    --outdir "$out" "$@" > "$out.log" 2>&1 || { cat "$out.log"; return 1; }
}

case_xlsx_equal_csv() {
  published "$TMP/o"
  local n=0
  for b in $(bundles "$TMP/o"); do
    unpack "$b" "$TMP/x$n" || fail "cannot unpack $b"
    to_csv "$TMP/lo$n" "$TMP/x$n"/xlsx/*.xlsx || fail "LibreOffice cannot convert the forms of $b"
    $PY "$ROOT/tests/e2e/check_xlsx.py" "$TMP/x$n" "$TMP/lo$n" "$SNAP" "$ROOT/jobs" || fail "forms of $b"
    n=$((n + 1))
  done
  [ "$n" -eq 3 ] || fail "expected 3 bundles, got $n"
}

# Where a form cannot be built in memory (no memfd_create or /proc, a full
# /dev/shm; the fail point stands in for them), it is built in a private
# directory under the bundle's instead: the same bytes, nothing left over.
case_forms_without_the_memory_way() {
  published "$TMP/o"
  ESEP_FAIL_AT=xlsx-memory publish "$TMP/d" || fail "publication without the memory way"
  grep -q "ESEP_FAIL_AT=xlsx-memory" "$TMP/d.log" || fail "the fail point did not fire"
  [ -z "$(find "$TMP/d/publish" -name '.xlsx.*')" ] || fail "a scratch directory was left behind"
  local n=0 b
  for b in $(bundles "$TMP/o"); do
    unpack "$b" "$TMP/m$n" && unpack "$TMP/d${b#"$TMP/o"}" "$TMP/f$n" || fail "cannot unpack $b"
    diff -r "$TMP/m$n/xlsx" "$TMP/f$n/xlsx" || fail "the forms of $b differ"
    n=$((n + 1))
  done
  [ "$n" -eq 3 ] || fail "expected 3 bundles, got $n"
}

# The checker is not vacuous: a value, a name or the row order that differs
# from the bundle's CSV is caught.
case_checker_catches_differences() {
  published "$TMP/o"
  local b; b=$(bundles "$TMP/o" | grep /61/)
  unpack "$b" "$TMP/x" || return 1
  to_csv "$TMP/lo" "$TMP/x/xlsx/SOC-01.xlsx" || return 1
  check() { $PY "$ROOT/tests/e2e/check_xlsx.py" "$1" "$TMP/lo" "$SNAP" "$ROOT/jobs" SOC-01; }
  check "$TMP/x" > /dev/null || fail "the untouched form fails"
  cp -r "$TMP/x" "$TMP/y"
  sed -i 's/^\(610000000,1,_T\),5,7,/\1,5,8,/' "$TMP/y/csv/SOC-01.csv"
  grep -q '^610000000,1,_T,5,8,' "$TMP/y/csv/SOC-01.csv" || fail "the edit did not apply"
  check "$TMP/y" > /dev/null 2>&1 && fail "a changed value was not noticed"
  sed 's/Туркестанская/Tуркестанская/' "$SNAP/kato.csv" > "$TMP/kato.csv"
  mkdir -p "$TMP/snap" && cp "$TMP/kato.csv" "$TMP/snap/kato.csv"
  $PY "$ROOT/tests/e2e/check_xlsx.py" "$TMP/x" "$TMP/lo" "$TMP/snap" "$ROOT/jobs" SOC-01 > /dev/null 2>&1 \
    && fail "a changed name was not noticed"
  sed -i 's/values: \[ASP, CHILD, HOUSING, SPECIAL\]/values: [CHILD, ASP, HOUSING, SPECIAL]/' \
    "$(cp -r "$ROOT/jobs" "$TMP/jobs" && echo "$TMP/jobs/SOC-01.yaml")"
  $PY "$ROOT/tests/e2e/check_xlsx.py" "$TMP/x" "$TMP/lo" "$SNAP" "$TMP/jobs" SOC-01 > /dev/null 2>&1 \
    && fail "a wrong row order was not noticed"
  true
}

run_case "forms: every xlsx converted by LibreOffice equals the bundle's CSV" case_xlsx_equal_csv
run_case "forms: the xlsx checker catches a changed value, name or order" case_checker_catches_differences
run_case "forms: without the memory way, built in a private directory: the same forms, nothing left" case_forms_without_the_memory_way
