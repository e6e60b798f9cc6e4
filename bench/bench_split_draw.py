"""Whose miss is it: how the judge grades real routes of each grade in the test, validation and training splits,
beside the generators' routes of that grade.

The fidelity bar's judged W1 compares a generator's routes with the test split's real routes, and its floor is two
halves of the test split: the floor cannot see how far the test split's routes of a grade happen to sit from the
other splits'. Critic matching aims at the validation split (the critic's profiles are counted there), so where
the test split's draw differs from the validation and training splits' the judged W1 of a generator that copies
them well still misses. This prints, per grade, the judge's mean expected grade on each split's real routes and
the test split's shift from the others in standard errors, and each generator's judged mean over sampling seeds
with its distance from each split. The judge trained on the training split: its figures there are in-sample.

    .venv/bin/python bench/bench_split_draw.py                              # the shipped 2016 AR and cGAN
    .venv/bin/python bench/bench_split_draw.py --ckpt runs/ar --seeds 0 1 2 3 4 5 -n 500
    .venv/bin/python bench/bench_split_draw.py --no-generators              # the real splits only (seconds)
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from scipy.stats import wasserstein_distance

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.generation.evaluate import DEFAULT_GRADES, held_out, sample_grades
from routegen.generation.fidelity import judged_expected
from routegen.grader.critic import Critic
from routegen.shipped import card_path

SPLITS = ("test", "val", "train")


def shift_z(a: np.ndarray, b: np.ndarray) -> float:
    """(mean a - mean b) over its standard error (two independent samples)."""
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 and len(b) > 1 else math.nan
    return (a.mean() - b.mean()) / se if se else math.nan


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--no-generators", action="store_true", help="the real splits only")
    p.add_argument("--critic", default=str(card_path("2016", "critic")), help="critic for matching")
    p.add_argument("--judge", default=str(card_path("2016", "judge")), help="independent grader")
    p.add_argument("--grades", default=DEFAULT_GRADES)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sampling seeds (default 0 1 2)")
    p.add_argument("-n", type=int, default=500, help="routes per grade and seed (default 500, as the bar)")
    p.add_argument("--split-seed", type=int, default=0, help="the generators' and graders' split (default 0)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    grades = grade_list(args.grades)
    critic, judge = Critic.load(args.critic), Critic.load(args.judge)
    by = held_out(load_problems(args.data_dir), grades, seed=args.split_seed)
    real = {s: {g.font: judged_expected(judge, by[s][g.font]) for g in grades} for s in SPLITS}

    print(f"judge {args.judge}: mean expected grade of real routes (number scale), split seed {args.split_seed}")
    print(f"{'grade':<6} {'test n':>6} {'test':>6} {'val':>6} {'train*':>6}  {'test-val':>13} {'test-train':>13}")
    for g in grades:
        t, v, tr = (real[s][g.font] for s in SPLITS)
        print(f"{g.font:<6} {len(t):>6} {t.mean():>6.2f} {v.mean():>6.2f} {tr.mean():>6.2f}  "
              f"{t.mean() - v.mean():>+6.2f} ({shift_z(t, v):>+4.1f}σ) {t.mean() - tr.mean():>+6.2f} "
              f"({shift_z(t, tr):>+4.1f}σ)")  # fmt: skip
    print("* in-sample for the judge (it trained on the training split)")
    if args.no_generators:
        return

    paths = args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]
    for path in paths:
        module = load_module(path, ("ar_transformer", "cgan"))
        means = {g.font: [] for g in grades}
        pooled = {g.font: [] for g in grades}
        for seed in args.seeds:
            routes = sample_grades(module, grades, args.n, rerank=1, critic=critic, seed=seed, fixed=None, sampler={})
            for g in grades:
                e = judged_expected(judge, routes[g.font])
                means[g.font].append(e.mean())
                pooled[g.font].append(e)
        print(f"\n{path}: judged mean over sampling seeds {args.seeds} ({args.n} routes each); W1 of all of them")
        print(f"{'grade':<6} {'mean':>6} {'seed sd':>7} {'-test':>6} {'-val':>6}  {'W1 test':>7} {'W1 val':>7}")
        for g in grades:
            m, e = np.array(means[g.font]), np.concatenate(pooled[g.font])
            t, v = real["test"][g.font], real["val"][g.font]
            print(f"{g.font:<6} {m.mean():>6.2f} {m.std(ddof=1) if len(m) > 1 else math.nan:>7.3f} "
                  f"{m.mean() - t.mean():>+6.2f} {m.mean() - v.mean():>+6.2f}  "
                  f"{wasserstein_distance(e, t):>7.3f} {wasserstein_distance(e, v):>7.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
