#!/usr/bin/env bash
# demo.sh — what `make demo` runs after building: generates a sample
# national snapshot root with two nights, validates tonight's snapshot,
# shows the plan, runs the nightly job under `mpirun -np 2` (twice: the
# second run has nothing new to do), shows the status, a few lines of two
# reports, a download over loopback, and where everything is. Snapshots
# and the key are reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

DEMO=${DEMO_DIR:-demo}
PERSONS=${DEMO_PERSONS:-200000}
ROOT=$DEMO/snapshots
NIGHTS=${DEMO_NIGHTS:-"20261101 20261201"}
ON=${DEMO_ON:-2026-12-02}          # the night the demo plays
PERIOD=${DEMO_PERIOD:-2026-11}
OUT=$DEMO/out
SNAP=$ROOT/${NIGHTS##* }
export OMPI_MCA_rmaps_base_oversubscribe=1

for DATE in $NIGHTS; do
  if [ ! -f "$ROOT/$DATE/persons.csv.zst" ]; then
    echo "== generating a sample snapshot night: $PERSONS persons, $DATE"
    bin/gen-extracts --persons "$PERSONS" --date "$DATE" --seed 2026 --out "$ROOT"
  fi
done
if [ ! -f "$DEMO/esep.key" ]; then
  echo "== esep keygen (production keys are never created silently)"
  bin/esep keygen --key "$DEMO/esep.key"
fi

echo
echo "== esep check of tonight's snapshot (mpirun -np 2)"
mpirun --oversubscribe -np 2 bin/esep check --snapshot "$SNAP" --out "$OUT"

echo
echo "== esep plan for the night of $ON: what is due, with snapshots and deadlines"
bin/esep plan --snapshots "$ROOT" --out "$OUT" --on "$ON"

echo
echo "== esep nightly (mpirun -np 2): every due item, each snapshot read once"
mpirun --oversubscribe -np 2 bin/esep nightly --snapshots "$ROOT" --out "$OUT" --on "$ON" --key "$DEMO/esep.key"

echo
echo "== esep nightly again the same night: nothing new to do"
mpirun --oversubscribe -np 2 bin/esep nightly --snapshots "$ROOT" --out "$OUT" --on "$ON" --key "$DEMO/esep.key"

echo
echo "== esep status: last nights' runs, failed and late items"
bin/esep status --out "$OUT" --on "$ON"
echo "metrics for node_exporter: $OUT/metrics/esep.prom"
echo
mkdir -p "$OUT/export"
for id in POP-01 SOC-01; do
  bin/esep export --out "$OUT" --report "$id" --period "$PERIOD" > "$OUT/export/$id-$PERIOD.csv"
done
echo "== POP-01 resident population, the republic (esep export)"
head -15 "$OUT/export/POP-01-$PERIOD.csv"
echo "…"
echo
echo "== SOC-01 social assistance by program, the republic (esep export)"
head -6 "$OUT/export/SOC-01-$PERIOD.csv"
echo "…"
echo
echo "== download service: one akimat's token, a download over loopback, verification"
ACCESS=$OUT/access.txt
REGION=$(ls "$OUT/publish" | grep -E '^[0-9]{2}$' | grep -v '^00$' | head -1)
NAME=akimat_$REGION
rm -f "$ACCESS"
TOKEN=$(bin/esep access add "$NAME" "$REGION" --access "$ACCESS" 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bin/esep serve --out "$OUT" --access "$ACCESS" --listen "127.0.0.1:$PORT" 2>"$OUT/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/v1/catalog" && break; sleep 0.1; done
BUNDLE=$OUT/download/esep-$REGION-$PERIOD.tar.zst
mkdir -p "$OUT/download"
curl -sS --fail --max-time 60 -H "Authorization: Bearer $TOKEN" \
  -o "$BUNDLE" "http://127.0.0.1:$PORT/v1/bundles/$REGION/$PERIOD"
curl -sS --fail --max-time 60 -H "Authorization: Bearer $TOKEN" \
  -o "$BUNDLE.sig" "http://127.0.0.1:$PORT/v1/bundles/$REGION/$PERIOD/signature"
echo "downloaded $(stat -c %s "$BUNDLE") bytes for region $REGION as $NAME"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/v1/bundles/00/$PERIOD")
echo "the same token asking for the republic bundle: HTTP $STATUS"
bin/esep verify "$BUNDLE" --pubkey "$OUT/publish/esep.pub"
kill $SERVER && wait $SERVER 2>/dev/null || true
trap - EXIT
echo "service stopped; audit log: $OUT/audit.log"

echo
echo "snapshots: $ROOT/   (one directory per night)"
echo "archive:  $OUT/archive/$PERIOD/   (one HDF5 file per report)"
echo "bundles:  $OUT/publish/   (public key $OUT/publish/esep.pub)"
echo "exports:  $OUT/export/"
echo "rejects:  $OUT/rejects/${SNAP##*/}/"
mkdir -p "$OUT/dashboard-$REGION" && tar --zstd -xf "$BUNDLE" -C "$OUT/dashboard-$REGION" index.html
echo "dashboard: $OUT/dashboard-$REGION/index.html   (region $REGION; opens offline in a browser)"
echo "portal:    bin/esep serve --out $OUT --access $ACCESS, then http://127.0.0.1:8080/portal/ with token $TOKEN"
