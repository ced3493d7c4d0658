#!/usr/bin/env bash
# demo.sh — what `make demo` runs after building: generates a sample
# national snapshot, validates it under mpirun on this machine, and prints
# where everything is. Idempotent: the snapshot is reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

DEMO=${DEMO_DIR:-demo}
PERSONS=${DEMO_PERSONS:-200000}
DATE=${DEMO_DATE:-20261122}
SNAP=$DEMO/snapshots/$DATE
OUT=$DEMO/out

if [ ! -f "$SNAP/persons.csv.zst" ]; then
  echo "== generating a sample snapshot: $PERSONS persons, $DATE"
  bin/gen-extracts --persons "$PERSONS" --date "$DATE" --seed 2026 --out "$DEMO/snapshots"
fi

echo "== esep check under mpirun -np 2"
mpirun --oversubscribe -np 2 bin/esep check --snapshot "$SNAP" --out "$OUT"

echo
echo "snapshot:      $SNAP"
echo "rejected rows: $OUT/rejects/$DATE/"
