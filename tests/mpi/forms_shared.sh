# 130 job files in one pass — the 12 regulated reports and the 118 forms of
# bench/forms, 128 of them monthly — on a generated snapshot with broken
# rows (inject_bad_rows.py, and a duplicate IIN far from its original, so
# a rank withdraws a row it already handed over) and rows of every extract
# in a district closed without a successor (the reports reject them), on 3
# ranks: every form's archive and rejects are byte-identical to that form
# computed alone. Together, the engine
# shares expressions, fact tables and tallies between forms (share.h);
# alone there is nothing to share. The runs alone use the release build
# (128 sanitized starts would take minutes).
source "$(dirname "$0")/../lib.sh"
SNAP=$TMP_ROOT/snap
"$GEN" --persons 20000 --date 20261122 --seed 12 --out "$SNAP/plain" --plain >/dev/null 2>&1
python3 "$ROOT/tests/mpi/inject_bad_rows.py" "$SNAP/plain/20261122" "$SNAP/bad/20261122" "$SNAP/expected.txt"
python3 - "$SNAP/bad/20261122" <<'PY'
import os, sys
d = sys.argv[1]
def edit(name, fn):
    path = os.path.join(d, name + ".csv")
    lines = open(path, encoding="utf-8").read().split("\n")[:-1]
    lines = fn(lines)
    open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
edit("kato", lambda l: l + ["101010999;101010000;4;Жабық;Закрытый;2022-06-08;2026-02-28;"])
def closed(column):
    def fn(lines):
        c = lines[0].split(";").index(column)
        for i in range(7, len(lines), 97):
            f = lines[i].split(";")
            if len(f) == len(lines[0].split(";")):
                f[c] = "101010999"
                lines[i] = ";".join(f)
        return lines
    return fn
for name, column in [("persons", "kato"), ("appeals", "kato"), ("job_seekers", "kato"), ("civil_events", "kato"),
                     ("education", "org_kato"), ("schools", "kato"), ("preschool_queue", "kato")]:
    edit(name, closed(column))
edit("persons", lambda l: l[:-3] + [l[20]] + l[-2:])  # row 20's IIN again, near the end
PY
JOBS=$TMP_ROOT/jobs-130
mkdir -p "$JOBS"
ln -s "$ROOT"/jobs/*.yaml "$ROOT"/bench/forms/*.yaml "$JOBS"/
RELEASE=$ROOT/bin/esep

case_together_equals_alone() {
  esep_np 3 run --snapshot "$SNAP/bad/20261122" --period 2026-10 --out "$TMP/all" --no-publish --jobs "$JOBS" \
    > "$TMP/all.log" 2>&1 || { cat "$TMP/all.log"; fail "the run of every form"; }
  ls "$TMP/all/archive/2026-10" | sed 's/\.h5$//' > "$TMP/ids"
  [ "$(wc -l < "$TMP/ids")" -eq 128 ] || fail "$(wc -l < "$TMP/ids") forms archived, not the 128 monthly ones"
  local id rejects=0
  while read -r id; do
    rm -rf "$TMP/one"
    "$RELEASE" run --snapshot "$SNAP/bad/20261122" --period 2026-10 --out "$TMP/one" --no-publish --jobs "$JOBS" \
      --reports "$id" > "$TMP/one.log" 2>&1 || { cat "$TMP/one.log"; fail "$id alone"; }
    cmp "$TMP/all/archive/2026-10/$id.h5" "$TMP/one/archive/2026-10/$id.h5" \
      || fail "$id: the archive differs from the form computed alone"
    local r=rejects/20261122/$id-2026-10.csv
    [ -e "$TMP/all/$r" ] || [ ! -e "$TMP/one/$r" ] || fail "$id: rejects only when alone"
    [ ! -e "$TMP/all/$r" ] || cmp "$TMP/all/$r" "$TMP/one/$r" || fail "$id: rejects differ from the form alone"
    [ ! -e "$TMP/all/$r" ] || rejects=$((rejects + $(wc -l < "$TMP/all/$r") - 1))
  done < "$TMP/ids"
  [ "$rejects" -gt 0 ] || fail "no form rejected a row: the broken rows did not reach the forms"
}

run_case "forms: 128 monthly forms in one pass on 3 ranks equal each form computed alone (archives, rejects)" \
  case_together_equals_alone
