"""A generator's routes of one grade against real training routes of it, with a few thousand a side.

The fidelity yardstick is bound to the test split's size: at 500 routes a grade its AUC scatters by about 0.01
– 0.02 from seed to seed, about the size of the differences between sampling options. The training split is about
eight times larger, so here it is the reference. That gives a sharper, if flattering, view: routes copying
training routes count as real-looking, so the share of copies is printed beside it. The classifier is the
yardstick's (HistGradientBoostingClassifier on generation/features.py, 5-fold, out-of-fold AUC). Under it are
the features whose means differ most, in standard deviations. Deduplicated real routes, as many generated
(the generator's default sampling, matched against the shipped critic).

    .venv/bin/python bench/bench_large_sample.py                     # shipped 2016 AR and cGAN, 6B+, 3000 a side
    .venv/bin/python bench/bench_large_sample.py --ckpt runs/cgan --grade 7A -n 1500
"""

from __future__ import annotations

import argparse
import os
import random

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.generation.evaluate import held_out, sample_grades
from routegen.generation.features import FEATURE_NAMES, route_features
from routegen.grader.critic import Critic
from routegen.shipped import card_path


def out_of_fold_auc(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        clf = HistGradientBoostingClassifier(random_state=seed).fit(x[train], y[train])
        scores[test] = clf.predict_proba(x[test])[:, 1]
    return float(roc_auc_score(y, scores))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--grade", default="6B+")
    p.add_argument("-n", type=int, default=3000, help="routes a side, at most the grade's training routes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=6, help="features listed per generator (default 6)")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    grade = grade_list(args.grade)[0]
    train = held_out(load_problems(args.data_dir), [grade], seed=0)["train"][grade.font]
    known = {frozenset(r.hold_set) for r in train}
    real = list({frozenset(r.hold_set): r for r in train}.values())
    real = random.Random(args.seed).sample(real, min(args.n, len(real)))
    critic = Critic.load(card_path("2016", "critic"))
    print(f"{grade.font}: {len(real)} real training routes (deduplicated) against as many generated, 5-fold AUC")
    for ckpt in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]:
        routes = sample_grades(load_module(ckpt), [grade], len(real), rerank=1, critic=critic, seed=args.seed,
                               fixed=None, sampler={})[grade.font]  # fmt: skip
        x = np.vstack(
            [route_features(routes, [grade.number] * len(routes)), route_features(real, [grade.number] * len(real))]
        )
        y = np.r_[np.ones(len(routes)), np.zeros(len(real))]
        copies = np.mean([frozenset(r.hold_set) in known for r in routes])
        auc = out_of_fold_auc(x, y, args.seed)
        print(f"{os.path.relpath(ckpt)}: AUC {auc:.3f}, copies of training routes {copies:.1%}")
        gen, ref = x[y == 1], x[y == 0]
        diff = (gen.mean(0) - ref.mean(0)) / (x.std(0) + 1e-9)
        for i in np.argsort(-np.abs(diff))[: args.top]:
            print(f"  {FEATURE_NAMES[i]:>16} {gen[:, i].mean():8.3f} vs {ref[:, i].mean():8.3f}  ({diff[i]:+.2f} sd)")


if __name__ == "__main__":
    main()
