#!/usr/bin/env bash
# demo.sh — what `make demo` runs after building: generates a sample
# national snapshot, validates it and runs the nightly job under
# `mpirun -np 2` on this machine, shows a few lines of two reports, and
# prints where the archive and the rejects are. The snapshot is reused when
# present.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

DEMO=${DEMO_DIR:-demo}
PERSONS=${DEMO_PERSONS:-200000}
DATE=${DEMO_DATE:-20261122}
PERIOD=${DEMO_PERIOD:-2026-10}
SNAP=$DEMO/snapshots/$DATE
OUT=$DEMO/out

if [ ! -f "$SNAP/persons.csv.zst" ]; then
  echo "== generating a sample snapshot: $PERSONS persons, $DATE"
  bin/gen-extracts --persons "$PERSONS" --date "$DATE" --seed 2026 --out "$DEMO/snapshots"
fi

echo "== esep check (mpirun -np 2)"
mpirun --oversubscribe -np 2 bin/esep check --snapshot "$SNAP" --out "$OUT"

echo
echo "== esep run --period $PERIOD (mpirun -np 2)"
mpirun --oversubscribe -np 2 bin/esep run --snapshot "$SNAP" --period "$PERIOD" --out "$OUT"

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
echo "snapshot: $SNAP"
echo "archive:  $OUT/archive/$PERIOD/   (one HDF5 file per report)"
echo "exports:  $OUT/export/"
echo "rejects:  $OUT/rejects/$DATE/"
