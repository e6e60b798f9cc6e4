#!/usr/bin/env bash
# The main job (README quick start): train small models on the real data, sample routes at a few grades,
# show them in the terminal and as pictures. Everything lands in ${DEMO_DIR:-runs/demo}.
#   DEMO_EPOCHS=2 bash scripts/demo.sh      # shorter
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${DEMO_DIR:-runs/demo}
EPOCHS=${DEMO_EPOCHS:-3}
export WANDB_MODE=${WANDB_MODE:-offline} WANDB_SILENT=true
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/4 critic: transformer grader on MoonBoard 2016 ($EPOCHS epochs)"
$PY train.py model=grader_transformer trainer.max_epochs="$EPOCHS" hydra.run.dir="$OUT/critic"

step "2/4 generator: conditional autoregressive transformer ($EPOCHS epochs)"
$PY train.py model=ar_transformer trainer.max_epochs="$EPOCHS" model.critic_path="$OUT/critic" hydra.run.dir="$OUT/ar"

step "3/4 generator: conditional GAN, U-Net generator, critic in the loop ($((EPOCHS * 2)) x 40 batches)"
$PY train.py model=cgan trainer.max_epochs="$((EPOCHS * 2))" +trainer.limit_train_batches=40 data.batch_size=128 \
  model.critic_ckpt="$OUT/critic" hydra.run.dir="$OUT/cgan"
# calibrate the discriminator's realism head: sampling then keeps the most real of 8 candidates (docs/gan.md)
$PY bench/cgan_realism_head.py "$OUT/cgan" --k 8 --out "$OUT/cgan/checkpoints/best.ckpt"

step "4/4 new routes, graded by the critic"
for grade in 6B+ 7A 7B+; do
  echo; echo "-- autoregressive transformer, $grade (best of 4 by the critic)"
  $PY -m routegen.cli sample --ckpt "$OUT/ar" --grade "$grade" -n 3 --seed 0 --critic "$OUT/critic" \
    --critic-rerank 4 --png "$OUT/routes/ar_$grade" --output "$OUT/routes/ar_$grade.jsonl"
done
echo; echo "-- conditional GAN, 7A (most real of 8 candidates)"
$PY -m routegen.cli sample --ckpt "$OUT/cgan" --grade 7A -n 3 --seed 0 --critic "$OUT/critic" \
  --png "$OUT/routes/cgan_7A" --output "$OUT/routes/cgan_7A.jsonl"
echo; echo "-- route completion: a 7A that must use F5 and E18"
$PY -m routegen.cli sample --ckpt "$OUT/ar" --grade 7A -n 3 --seed 0 --critic "$OUT/critic" --fixed "F5,E18" \
  --png "$OUT/routes/ar_7A_fixed"

step "done"
echo "pictures: $OUT/routes/*/  checkpoints: $OUT/{critic,ar,cgan}/checkpoints/  W&B (offline): wandb sync $OUT/*/wandb/offline-run-*"
