"""Calibrate a trained cGAN's discriminator for discriminator-guided selection and set its default K.

Fits the realism head (routegen/gan/select.py fit_realism_head: logistic regression on the discriminator's
pooled features, real training-split routes vs as many decoded ones) and writes a checkpoint whose hparams
carry it (`realism_head`) and the default number of candidates per route (`realism`). Run it after training;
`routegen sample` / `evaluate-generator` then select among K candidates unless given --realism.

    OMP_NUM_THREADS=1 .venv/bin/python bench/cgan_realism_head.py runs/cgan --k 8 \
        --out runs/cgan/checkpoints/best.ckpt
"""

from __future__ import annotations

import argparse
import time

import torch

from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams
from routegen.data import load_problems, split_problems
from routegen.gan.select import fit_realism_head


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt", help="cGAN run directory or checkpoint")
    ap.add_argument("--out", required=True, help="where to write the checkpoint with the head (may be the input)")
    ap.add_argument("--k", type=int, required=True, help="default candidates per route (generate's realism)")
    ap.add_argument("--split-seed", type=int, default=0, help="the split seed the GAN was trained with")
    ap.add_argument("--seed", type=int, default=0, help="seed of the decoded routes the head is fitted on")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.k < 1:
        ap.error(f"--k must be >= 1 (got {args.k})")
    torch.set_num_threads(args.threads)
    path = resolve_checkpoint(args.ckpt)
    m = load_module(path, expect="cgan")
    problems = load_problems(board=m.board, angle=m.angle, label=m.scale.name)
    t0 = time.perf_counter()
    head = fit_realism_head(m, split_problems(problems, m.scale.name, args.split_seed)["train"], seed=args.seed)
    write_hparams(path, args.out, realism=args.k, realism_head=head)
    print(f"wrote {args.out}: realism {args.k}, head fitted on {head['n_real']} real + {head['n_fake']} decoded "
          f"routes, in-sample accuracy {head['train_accuracy']:.3f} ({time.perf_counter() - t0:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
