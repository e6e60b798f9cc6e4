"""How close a draw of one in K comes to the critic's profile it is matched to, with and without bin gains.

Critic matching (routegen/generation/match.py) weighs a generator's candidates so that, drawn from all of them,
the kept routes' critic grades follow the profile of the grade (its real validation routes). A draw of one in K
keeps less of that correction when the weights vary a lot within a group. Per grade this bench draws the
generator's own candidates as `routegen calibrate --match` does (n per grade, its seeds), fits the bin gains on
them, and simulates 20,000 draws of one in K on n *fresh* candidates: the critic's mean expected grade
(numbered scale) of the profile, of a draw from all the fresh candidates, and of draws of one in K without and
with the gains, and the effective number of candidates in a group of K. Where the generator records gains for
K (`routegen calibrate --match`), also with those ("+ its own": fitted when it was calibrated, perhaps by older
code).

    .venv/bin/python bench/bench_match_draw.py                                  # the shipped 2016 cGAN
    .venv/bin/python bench/bench_match_draw.py --ckpt routegen/weights/2016/ar.json --grades 6B+,6C+
"""

from __future__ import annotations

import argparse

import numpy as np

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.generation.evaluate import DEFAULT_GRADES
from routegen.generation.match import (
    GAIN_GROUPS,
    OWN_CANDIDATES,
    PROFILE_EDGES,
    bin_gains,
    match_weights_from_bins,
    own_candidates,
    target_profile,
)
from routegen.grader.critic import Critic
from routegen.shipped import card_path

CENTERS = (np.asarray(PROFILE_EDGES[:-1]) + np.asarray(PROFILE_EDGES[1:])) / 2
FRESH_SEED = 5000  # the fresh candidates' seeds start here (the own profile's at 0)


def mean_grade(hist: np.ndarray) -> float:
    return float((hist * CENTERS).sum() / hist.sum())


def kept_shares(bins: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Each bin's expected share of what GAIN_GROUPS draws of one in k keep, and the mean effective number of
    candidates per group."""
    groups = rng.integers(0, len(bins), size=(GAIN_GROUPS, k))
    p = weights[groups] / weights[groups].sum(1, keepdims=True)
    shares = np.bincount(bins[groups].ravel(), weights=p.ravel(), minlength=len(CENTERS))
    return shares, float(np.mean(1 / (p**2).sum(1)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default=None, help="generator (default: the shipped 2016 cGAN)")
    p.add_argument("--critic", default=None, help="calibrated critic (default: the shipped 2016 critic)")
    p.add_argument("--grades", default=DEFAULT_GRADES)
    p.add_argument("-k", type=int, default=None, help="candidates per route (default: the generator's own)")
    p.add_argument("-n", type=int, default=OWN_CANDIDATES, help=f"candidates per grade (default {OWN_CANDIDATES})")
    args = p.parse_args()

    module = load_module(args.ckpt or str(card_path("2016", "cgan")))
    critic = Critic.load(args.critic or card_path("2016", "critic"))
    k = args.k or module.default_match
    rng = np.random.default_rng(0)
    print(f"{args.ckpt or 'shipped 2016 cGAN'}: critic's mean expected grade of the kept routes, K = {k}")
    print(f"{'grade':<6}{'profile':>9}{'all':>8}{'1 of K':>8}{'+ gains':>9}{'+ its own':>11}{'effective':>11}")
    for grade in grade_list(args.grades):
        bins, ratio = own_candidates(module, critic, grade.number, args.n, 0)
        own = np.bincount(bins, weights=ratio / ratio.mean(), minlength=len(CENTERS))  # as own_profiles counts
        target = target_profile(critic.profiles, grade.number)[1].astype(float)
        gain = bin_gains(bins, ratio, target, own, k, seed=grade.number)
        fresh, fresh_ratio = own_candidates(module, critic, grade.number, args.n, FRESH_SEED)
        base = match_weights_from_bins(fresh, target, own) * fresh_ratio
        plain, effective = kept_shares(fresh, base, k, rng)
        gained, _ = kept_shares(fresh, base * gain[fresh], k, rng)
        own_gain = module.own_match_gain(grade.number, critic, {}, k)  # where it stands for this critic and K
        own_gained = "–"
        if own_gain is not None:
            own_gained = f"{mean_grade(kept_shares(fresh, base * np.asarray(own_gain)[fresh], k, rng)[0]):.2f}"
        every = np.bincount(fresh, weights=base, minlength=len(CENTERS))
        print(f"{grade.font:<6}{mean_grade(target):>9.2f}{mean_grade(every):>8.2f}{mean_grade(plain):>8.2f}"
              f"{mean_grade(gained):>9.2f}{own_gained:>11}{effective:>11.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
