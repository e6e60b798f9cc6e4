#!/usr/bin/env bash
# The main job (README quick start): new problems from the shipped pretrained models on both boards, graded by
# the shipped critic, printed and drawn to PNGs in ${DEMO_DIR:-runs/demo}. No training (`make train-demo` trains).
set -euo pipefail
cd "$(dirname "$0")/.."
RG="${PY:-.venv/bin/python} -m routegen.cli"
OUT=${DEMO_DIR:-runs/demo}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "shipped models"
$RG models

for board in 2016 2017; do
  step "MoonBoard $board: 3 new problems at 6B+, 7A and 7B+ (the default generator; the critic's grade beside each)"
  $RG sample --board "$board" --grade 6B+,7A,7B+ -n 3 --seed 0 \
    --png "$OUT/routes/$board" --output "$OUT/routes/$board.jsonl"
done

step "route completion: a 7A on MoonBoard 2016 that must start on F5 and end on E18"
$RG sample --grade 7A -n 3 --seed 0 --fixed "F5 | | E18" --png "$OUT/routes/2016_7A_fixed"

step "grading a route from the oldest notes"
$RG grade "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]"

step "done"
echo "pictures: $OUT/routes/*/route_*.png (start green, middle blue, end red)"
