#!/usr/bin/env bash
# Households whose members two ranks read. FAM-01's households are folded
# on the reading rank; when the registry lists households in order, only
# the folded rows at the ends of a rank's stretch move (keyed.c
# members_to_owners), so a large family cut by a rank boundary must still
# be counted once, with all its children. The snapshot makes that likely at
# every cut: runs of eight children sharing a household, two one-person
# adult households between runs. The three monthly FAM-01 forms at -np 2
# and 3 must give the bytes of -np 1 (where nothing moves); and the same
# with the persons rows in random order (each row then goes to its key
# owner). Leaving the end rows where they are makes -np 2 and 3 differ
# from -np 1 on the first snapshot.
source "$(dirname "$0")/../lib.sh"
SNAP=$TMP_ROOT/snap
"$GEN" --persons 20000 --date 20261122 --seed 12 --out "$SNAP/plain" --plain >/dev/null 2>&1
python3 - "$SNAP/plain/20261122" "$SNAP/ordered/20261122" "$SNAP/shuffled/20261122" <<'PY'
import os, random, shutil, sys
src, ordered, shuffled = sys.argv[1:4]
for d in (ordered, shuffled):
    shutil.copytree(src, d)
lines = open(os.path.join(src, "persons.csv"), encoding="utf-8").read().split("\n")[:-1]
head = lines[0].split(";")
hid, born = head.index("household_id"), head.index("birth_date")
rows = [l.split(";") for l in lines[1:]]
kids = [f for f in rows if f[born] > "2010-01-01"]
adults = [f for f in rows if f[born] <= "2010-01-01"]
out, h = [], 0
for i in range(0, len(kids), 8):
    h += 1
    for f in kids[i:i + 8]:
        f[hid] = str(h)
        out.append(f)
    for f in adults[i // 4:i // 4 + 2]:
        h += 1
        f[hid] = str(h)
        out.append(f)
body = [";".join(f) for f in out]
def write(d, body):
    open(os.path.join(d, "persons.csv"), "w", encoding="utf-8").write("\n".join([lines[0]] + body) + "\n")
write(ordered, body)
random.seed(3)
random.shuffle(body)
write(shuffled, body)
PY
JOBS=$TMP_ROOT/jobs
mkdir -p "$JOBS"
ln -s "$ROOT"/jobs/*.yaml "$ROOT"/bench/forms/*.yaml "$JOBS"/
FORMS=B005-FAM-01,B017-FAM-01,B029-FAM-01

same_at_every_rank_count() {
  local snap=$1 np
  "$ESEP" run --snapshot "$snap" --period 2026-10 --out "$TMP/np1" --no-publish --jobs "$JOBS" --reports "$FORMS" \
    > "$TMP/np1.log" 2>&1 || { cat "$TMP/np1.log"; fail "-np 1"; }
  [ "$(ls "$TMP/np1/archive/2026-10" | wc -l)" -eq 3 ] || fail "not the three FAM-01 forms"
  for np in 2 3; do
    esep_np "$np" run --snapshot "$snap" --period 2026-10 --out "$TMP/np$np" --no-publish --jobs "$JOBS" \
      --reports "$FORMS" > "$TMP/np$np.log" 2>&1 || { cat "$TMP/np$np.log"; fail "-np $np"; }
    local f
    for f in "$TMP"/np1/archive/2026-10/*.h5; do
      cmp "$f" "$TMP/np$np/archive/2026-10/$(basename "$f")" || fail "-np $np: $(basename "$f") differs from -np 1"
    done
  done
}

case_ordered() { same_at_every_rank_count "$SNAP/ordered/20261122"; }
case_shuffled() { same_at_every_rank_count "$SNAP/shuffled/20261122"; }

run_case "households: large families cut by rank boundaries count once (-np 2, 3 equal -np 1)" case_ordered
run_case "households: the same registry in random order (every folded row to its key owner)" case_shuffled
