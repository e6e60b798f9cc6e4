"""How much a cGAN's output depends on its noise, per grade: is it a route generator or a per-grade heat map?

For n noise draws of each grade (no fixed holds), the generator's middle-hold probabilities over the cells,
normalised to a distribution q_z, are compared with their average over the draws q: the mean KL(q_z || q) in nats
is what one draw tells about where the middle holds go beyond the grade alone (0: every draw gives the same heat
map, and the route's variety comes from the per-cell sampling and the decoder only). Beside it the same for real
training routes of the grade (each route's middle holds as a uniform distribution over them), and the
mode-seeking term's pair distance that training rewards (expected cells whose class differs between two draws,
capped at 10 in the loss: gan/losses.py pair_distance).

    .venv/bin/python bench/bench_cgan_noise.py                         # the shipped 2016 cGAN
    .venv/bin/python bench/bench_cgan_noise.py --ckpt runs/cgan --ckpt runs/cgan_t1
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from routegen.board import NUM_CELLS
from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.gan.decode import MIDDLE
from routegen.gan.losses import pair_distance
from routegen.generation.base import real_routes_by_grade, resolve_grade
from routegen.generation.evaluate import DEFAULT_GRADES
from routegen.generation.splits import generator_splits
from routegen.shipped import card_path


def mean_kl(q: np.ndarray) -> float:
    """(n, cells) rows that sum to 1 -> the mean KL divergence (nats) of each row from the rows' mean."""
    mean = q.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * (np.log(q) - np.log(mean)), 0.0)
    return float(terms.sum(1).mean())


def generator_probs(module, number: int, n: int, seed: int) -> torch.Tensor:
    """(n, 4, 18, 11) the generator's per-cell class probabilities for n noise draws of a grade, no fixed holds."""
    return torch.softmax(module.free_logits(resolve_grade(module, number), n, seed).double(), dim=1)


def real_middles(routes) -> np.ndarray:
    """(routes with middle holds, cells) each route's middle holds as a uniform distribution over them."""
    rows = [np.bincount([h.cell for h in r.middle], minlength=NUM_CELLS) for r in routes if r.middle]
    q = np.asarray(rows, dtype=float)
    return q / q.sum(1, keepdims=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", help="cGAN checkpoint or card (repeatable; default the shipped 2016 one)")
    p.add_argument("-n", type=int, default=1000, help="noise draws per grade (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    grades = grade_list(DEFAULT_GRADES)
    for ckpt in args.ckpt or [str(card_path("2016", "cgan"))]:
        module = load_module(ckpt)
        module.eval()
        real = real_routes_by_grade(module, generator_splits(ckpt, module)["train"])
        print(f"{ckpt}: {args.n} noise draws per grade; KL in nats (real: training routes of the grade)")
        print(f"{'grade':>6} {'noise KL':>9} {'real KL':>8} {'pair distance':>14} {'expected holds':>15}")
        for g in grades:
            probs = generator_probs(module, g.number, args.n, args.seed + g.number)
            middle = probs[:, MIDDLE].flatten(1)
            kl = mean_kl((middle / middle.sum(1, keepdim=True)).numpy())
            real_kl = mean_kl(real_middles(real[g.number])) if real.get(g.number) else float("nan")
            pairs = float(pair_distance(probs).mean())
            holds = float(probs[:, 1:].sum((1, 2, 3)).mean())
            print(f"{g.font:>6} {kl:>9.3f} {real_kl:>8.3f} {pairs:>14.2f} {holds:>15.1f}")


if __name__ == "__main__":
    main()
