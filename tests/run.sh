#!/usr/bin/env bash
# run.sh — the whole test suite (what `make test` runs after building):
# the unit tests (ASan+UBSan build), then every script in tests/e2e and
# tests/mpi. Ends with one line "tests: N passed, M failed"; exits non-zero
# when anything failed.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
passed=0 failed=0

unit_out=$(build/asan/unit-tests 2>&1)
unit_rc=$?
echo "$unit_out" | grep -E '^(FAIL|unit:)' || true
if [[ $unit_out =~ unit:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
fi
if [ $unit_rc -ne 0 ]; then
  echo "$unit_out" | tail -30
  [[ $unit_out =~ unit: ]] || failed=$((failed + 1))
  grep -q 'Sanitizer' <<<"$unit_out" && failed=$((failed + 1))
fi

for script in tests/e2e/*.sh tests/mpi/*.sh; do
  [ -f "$script" ] || continue
  echo "== $script"
  started=$SECONDS
  out=$(bash "$script" 2>&1)
  echo "$out"
  p=$(grep -c '^ok ' <<<"$out" || true)
  f=$(grep -c '^not ok ' <<<"$out" || true)
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "not ok $script ran no case"; fi
  echo "   ($script: $((SECONDS - started)) s)"
done

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
