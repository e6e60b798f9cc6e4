#!/usr/bin/env bash
# `make train-demo`: train small models from scratch on the real data, then sample routes with them.
# Everything lands in ${DEMO_DIR:-runs/train_demo}.   DEMO_EPOCHS=2 make train-demo   # shorter
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${DEMO_DIR:-runs/train_demo}
EPOCHS=${DEMO_EPOCHS:-3}
export WANDB_MODE=${WANDB_MODE:-offline} WANDB_SILENT=true
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
train() { $PY train.py '~callbacks.progress_bar' trainer.enable_progress_bar=false "$@"; }

step "1/4 critic: transformer grader on MoonBoard 2016 ($EPOCHS epochs)"
train model=grader_transformer trainer.max_epochs="$EPOCHS" hydra.run.dir="$OUT/critic"

step "2/4 generator: conditional autoregressive transformer ($EPOCHS epochs)"
train model=ar_transformer trainer.max_epochs="$EPOCHS" model.critic_ckpt="$OUT/critic" hydra.run.dir="$OUT/ar"

step "3/4 generator: conditional GAN, U-Net generator, critic in the loop ($((EPOCHS * 2)) x 40 batches)"
train model=cgan trainer.max_epochs="$((EPOCHS * 2))" +trainer.limit_train_batches=40 data.batch_size=128 \
  model.critic_ckpt="$OUT/critic" hydra.run.dir="$OUT/cgan"

step "4/4 new routes, graded by the critic"
for grade in 6B+ 7A 7B+; do
  echo; echo "-- autoregressive transformer, $grade"
  $PY -m routegen.cli sample --ckpt "$OUT/ar" --grade "$grade" -n 3 --seed 0 --critic "$OUT/critic" \
    --png "$OUT/routes/ar_$grade" --output "$OUT/routes/ar_$grade.jsonl"
done
echo; echo "-- conditional GAN, 7A"
$PY -m routegen.cli sample --ckpt "$OUT/cgan" --grade 7A -n 3 --seed 0 --critic "$OUT/critic" \
  --png "$OUT/routes/cgan_7A" --output "$OUT/routes/cgan_7A.jsonl"

step "done"
echo "pictures: $OUT/routes/*/  checkpoints: $OUT/{critic,ar,cgan}/checkpoints/  W&B (offline): wandb sync $OUT/*/wandb/offline-run-*"
