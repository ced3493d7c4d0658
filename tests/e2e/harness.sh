# The test harness itself (tests/lib.sh run_case): deliberately failing cases,
# run in a child script, must be reported "not ok" — a failing command in the
# middle of a case, inside a helper, in a pipeline, in a command substitution,
# and a wrong exit status — while conditions that are meant to be false
# (`if grep …`, `|| true`) do not fail a passing case. Also a lint: no test
# script calls one of its own functions where errexit is off (`f && …`,
# `f || …`, `if f`, `! f`), the one place a failing check could still hide;
# and no pipeline ends in `grep -q`, which fails at random under pipefail.
source "$(dirname "$0")/../lib.sh"

child() { # BODY: a test script made of BODY, run with lib.sh; prints its output
  { echo "source '$ROOT/tests/lib.sh'"; cat; } > "$TMP/child.sh"
  bash "$TMP/child.sh" 2>&1 || true
}

case_failures_are_caught() {
  child > "$TMP/out" <<'SH'
helper() { false; echo "helper went on"; }
c_middle() { false; true; }
c_helper() { helper; true; }
c_pipe() { false | cat; true; }
c_subst() { local x; x=$(false; echo hi); echo "$x"; }
c_status() { expect_status 2 sh -c 'exit 1'; }
c_must_fail() { must_fail true; }
c_fail() { fail "deliberate"; }
c_good() { if grep -q nothing /dev/null; then false; fi; false || true; must_fail false; expect_status 3 sh -c 'exit 3'; }
run_case middle c_middle
run_case helper c_helper
run_case pipe c_pipe
run_case subst c_subst
run_case status c_status
run_case must_fail c_must_fail
run_case fail c_fail
run_case good c_good
SH
  for n in middle helper pipe subst status must_fail fail; do
    grep -qx "not ok $n" "$TMP/out" || { cat "$TMP/out"; fail "case $n was not reported failing"; }
  done
  grep -qx "ok good" "$TMP/out" || { cat "$TMP/out"; fail "the passing case failed"; }
  grep -q 'line 2: `false` exited 1' "$TMP/out" || { cat "$TMP/out"; fail "no line and command named"; }
  [ "$(grep -c '^ok \|^not ok ' "$TMP/out")" -eq 8 ] || fail "wrong number of case lines"
}

# Every function a test script defines must be called as a plain statement,
# except the one-command wrappers named here, whose status is their only
# command's by design, and lines marked "harness-lint: ok" (outside cases).
case_no_function_in_condition() {
  python3 - "$ROOT"/tests/e2e/*.sh "$ROOT"/tests/mpi/*.sh "$ROOT"/tests/lib.sh <<'PY'
import re, sys
WRAPPERS = {"must_fail", "expect_status", "fail", "get", "status", "whole", "new_token",
            "token_hash", "free_port", "bundle", "bundles", "esep_np", "as_pg", "sqlite_exec", "pg_bindir",
            "nightly", "run_fixture", "run_unit", "sl", "publish", "unpack", "to_csv", "openssl_ok",
            "minisign_ok", "check", "pages", "form_csrf",
            # lib.sh's probes: their status is what they test, errexit or not
            "has_line", "eventually", "pid_gone"}
bad = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"<<'?(\w+)'?\n.*?\n\1\n", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    names = set(re.findall(r"^([a-z_][a-z0-9_]*)\(\)", text, flags=re.M)) - WRAPPERS
    if not names:
        continue
    alt = "|".join(sorted(names))
    cond = re.compile(r"(?:\bif|\bwhile|\buntil|!|&&|\|\|)\s+(?:%s)\b|(?:^|[;{(])\s*(?:%s)\b[^#\n]*?(?:&&|\|\|)" % (alt, alt))
    for n, line in enumerate(text.split("\n"), 1):
        code = re.sub(r"^\s*[a-z_][a-z0-9_]*\(\)\s*\{", "", line)
        if code.lstrip().startswith("#") or "harness-lint: ok" in line:
            continue
        if cond.search(code):
            bad.append(f"{path}:{n}: {line.strip()}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# Why pipelines end in has_line (lib.sh): a producer that writes on after
# the matching line, as a command printing its summary in several writes
# does, makes `| grep -q` fail under pipefail; has_line reads to the end.
case_grep_q_at_the_end_of_a_pipeline() {
  child > "$TMP/out" <<'SH'
writes_on() { echo "the line"; sleep 0.3; echo "more after it"; }
c_grep_q() { writes_on | grep -q "the line"; }
c_has_line() { writes_on | has_line "the line"; writes_on | has_line -x "more after it"; }
c_has_line_absent() { writes_on | has_line "not there" && fail "found a line that is not there"; true; }
run_case grep_q c_grep_q
run_case has_line c_has_line
run_case has_line_absent c_has_line_absent
SH
  grep -qx "not ok grep_q" "$TMP/out" || { cat "$TMP/out"; fail "grep -q at the end of a pipeline did not fail"; }
  grep -qx "ok has_line" "$TMP/out" || { cat "$TMP/out"; fail "has_line failed on a producer that writes on"; }
  grep -qx "ok has_line_absent" "$TMP/out" || { cat "$TMP/out"; fail "has_line found a missing line"; }
}

# eventually (lib.sh): waits for what happens a moment later, gives up at
# its deadline.
case_eventually() {
  child > "$TMP/out" <<SH
c_later() { (sleep 0.3; touch "$TMP/later") & eventually 5 test -e "$TMP/later"; wait; }
c_never() { local t0=\$SECONDS; eventually 1 false || [ \$((SECONDS - t0)) -le 3 ] || echo "waited too long"; eventually 1 false; }
run_case later c_later
run_case never c_never
SH
  grep -qx "ok later" "$TMP/out" || { cat "$TMP/out"; fail "eventually did not see the later file"; }
  grep -qx "not ok never" "$TMP/out" || { cat "$TMP/out"; fail "eventually did not give up"; }
  ! grep -q "waited too long" "$TMP/out" || fail "eventually waited past its deadline"
}

# No test script ends a pipeline in `grep -q` (or -Eq, -qx…); heredocs, as
# the demonstration above, are left out.
case_no_pipeline_ends_in_grep_q() {
  python3 - "$ROOT"/tests/e2e/*.sh "$ROOT"/tests/mpi/*.sh "$ROOT"/tests/*.sh <<'PY'
import re, sys
pipe_into_grep_q = re.compile(r"(?<!\|)\|\s*grep\s+(?:-[A-Za-z]+\s+)*-[A-Za-z]*q")
bad = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"<<'?(\w+)'?\n.*?\n\1\n", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for n, line in enumerate(text.split("\n"), 1):
        if not line.lstrip().startswith("#") and pipe_into_grep_q.search(line):
            bad.append(f"{path}:{n}: {line.strip()}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

run_case "harness: a failing command anywhere in a case fails it" case_failures_are_caught
run_case "harness: no test function is called inside a condition" case_no_function_in_condition
run_case "harness: grep -q ending a pipeline fails on a producer that writes on; has_line does not" case_grep_q_at_the_end_of_a_pipeline
run_case "harness: no pipeline in a test script ends in grep -q" case_no_pipeline_ends_in_grep_q
run_case "harness: eventually waits for a later event and gives up at its deadline" case_eventually
