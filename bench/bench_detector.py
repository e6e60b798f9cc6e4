"""A sharper two-sample test: a classifier trained on every real training route against as many of the
generator's routes, scored on the validation routes against fresh ones.

The fidelity yardstick fits its classifier on 500 routes a grade (5-fold), and at that size it misses differences
spread thinly over many holds. Here the classifier (the realism trees' HistGradientBoostingClassifier, on
generation/features.py and the grade) learns from the whole training split, every trained grade, about eight
times as many routes, and is scored out of sample on the validation split: 0.5 = it cannot tell them apart.
The generated routes are the generator's default sampling, matched with the critic as `routegen sample` does.
Flattering where a generator copies training routes; novelty is the yardstick's to check. Below the AUCs,
what gives each generator away: the features whose permutation lowers the validation AUC most (`--top`).
One card's AUC moves by up to 0.01 from one --seed to the next (the seed draws the generated routes and the
classifier): compare cards closer than that over three seeds (docs/results.md, "The large-sample test's own noise").

    .venv/bin/python bench/bench_detector.py                        # the shipped 2016 AR and cGAN (~15 min)
    .venv/bin/python bench/bench_detector.py --ckpt runs/cgan --critic runs/critic --top 10
    .venv/bin/python bench/bench_detector.py --split test   # scored on the test split instead: a check that a
                                                            # choice made on validation carries over, not a guide
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from routegen.checkpoints import load_module
from routegen.generation.features import FEATURE_NAMES
from routegen.generation.fidelity import permutation_drops
from routegen.generation.realism import TREES, labelled_features
from routegen.generation.splits import generator_splits
from routegen.grader.critic import Critic
from routegen.grades import Grade
from routegen.shipped import card_path


def detector_auc(
    module, path, critic, seed: int, top: int = 0, split: str = "val"
) -> tuple[float, dict[int, float], int, list]:
    """AUC of real vs generated on `split` (overall and per grade number), the training routes a side, and the
    `top` features by permutation drop: (name, AUC drop, generated mean, real mean)."""
    splits = generator_splits(path, module)
    x, y = labelled_features(module, splits["train"], seed, critic, match=None)
    vx, vy = labelled_features(module, splits[split], seed + 1000, critic, match=None)
    clf = HistGradientBoostingClassifier(**TREES, early_stopping=False, random_state=seed).fit(x, y)
    score = clf.decision_function(vx)
    grade = vx[:, -1].round().astype(int)  # the last feature is the grade (generation/features.py)
    per = {g: roc_auc_score(vy[grade == g], score[grade == g]) for g in np.unique(grade) if (grade == g).sum() >= 100}
    auc = float(roc_auc_score(vy, score))
    features = []
    if top:
        # label 1 is real here (a drop is the same whichever side is 1); the AUC of the decision function is
        # that of the probabilities permutation_drops compares it with (one is monotone in the other)
        drops = permutation_drops(clf, vx, vy, auc, np.random.default_rng(seed), repeats=1, chunk=4)
        for j in np.argsort(-drops)[:top]:
            if drops[j] > 0:
                features.append((FEATURE_NAMES[j], float(drops[j]), vx[vy == 0, j].mean(), vx[vy == 1, j].mean()))
    return auc, per, int(y.sum()), features


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--critic", default=str(card_path("2016", "critic")), help="critic for matching")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=("val", "test"), default="val", help="the real routes it is scored on")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=8, help="features to print by how much they give it away (0: none)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    critic = Critic.load(args.critic)
    rows = []
    for ckpt in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]:
        start = time.time()
        auc, per, n, features = detector_auc(load_module(ckpt), ckpt, critic, args.seed, args.top, args.split)
        rows.append((os.path.relpath(ckpt), auc, per, n, time.time() - start, features))
    grades = sorted({g for row in rows for g in row[2]})
    print(
        f"| generator | training routes a side | {args.split} AUC | "
        + " | ".join(Grade.from_number(g).font for g in grades)
        + " | s |"
    )
    print("|---|---|---|" + "---|" * len(grades) + "---|")
    for name, auc, per, n, secs, _ in rows:
        cells = " | ".join(f"{per[g]:.3f}" if g in per else "–" for g in grades)
        print(f"| {name} | {n} | {auc:.3f} | {cells} | {secs:.0f} |")
    for name, *_, features in rows:
        if features:
            print(f"\nwhat gives {name} away ({args.split} AUC drop when the feature is permuted):")
            print("| feature | AUC drop | generated mean | real mean |\n|---|---|---|---|")
            for feature, drop, gen, real in features:
                print(f"| {feature} | {drop:.4f} | {gen:.3f} | {real:.3f} |")


if __name__ == "__main__":
    main()
