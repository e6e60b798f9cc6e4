"""Add the decoding prior (training split's hold / start / end counts and move shares, routegen/gan/prior.py)
to a cGAN checkpoint trained before the prior (or its move shares) existed. New cGAN runs record it at fit
time; this is for older ones. The realism head is fitted on decoded routes: refit it afterwards
(bench/cgan_realism_head.py).

    .venv/bin/python bench/cgan_add_prior.py runs/cgan_prev/checkpoints/best.ckpt --out <new.ckpt>
"""

from __future__ import annotations

import argparse

from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams
from routegen.data import load_problems, split_problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("--out", required=True, help="where to write the checkpoint with the prior")
    ap.add_argument("--split-seed", type=int, default=0, help="the split seed the GAN was trained with")
    args = ap.parse_args()
    path = resolve_checkpoint(args.ckpt)
    m = load_module(path, expect="cgan")
    problems = load_problems(board=m.board, angle=m.angle, label=m.scale.name)
    m.set_decode_prior(split_problems(problems, m.scale.name, args.split_seed)["train"])
    write_hparams(path, args.out, decode_prior=m.hparams.decode_prior)
    p = m.hparams.decode_prior
    print(f"wrote {args.out}: two starts {p['two_start_rate']:.3f}, two ends {p['two_end_rate']:.3f}")


if __name__ == "__main__":
    main()
