"""Real routes of another split in a generator's place: what the fidelity bar asks of real routes.

The fidelity yardstick (routegen/generation/fidelity.py) compares a generator's routes of each grade with half A
of the test split's real routes, and sets each measure beside its floor (half B against half A). Here the
"generated" routes are real routes of the validation (or training) split, up to -n per grade: how far from
the floor real routes land when they are not from the test split itself. Prints, per sampling seed, the pooled
two-sample AUC, judged-grade W1 and 1-NN accuracy beside their floors, and each grade's W1 against 1.5 x floor.

    .venv/bin/python bench/bench_real_reference.py                  # validation routes, seeds 0 1 2
    .venv/bin/python bench/bench_real_reference.py --source train   # training routes (the judge trained on them)
"""

from __future__ import annotations

import argparse
import random

from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.generation.bar import w1_over
from routegen.generation.evaluate import DEFAULT_GRADES, fidelity_pools, held_out
from routegen.generation.fidelity import Fidelity
from routegen.grader.critic import Critic
from routegen.shipped import card_path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", choices=("val", "train"), default="val", help="the split standing in (default val)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("-n", type=int, default=500, help="routes per grade (default 500, as the fidelity issue's bar)")
    p.add_argument("--judge", default=None, help="grader checkpoint (default: the shipped 2016 judge)")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    grades = grade_list(DEFAULT_GRADES)
    by = held_out(load_problems(args.data_dir), grades, seed=0)
    judge = Critic.load(args.judge or str(card_path("2016", "judge")))
    pools, judged = fidelity_pools(grades, by["test"], by["test"])
    print(f"real {args.source} routes in the generator's place, against the test split (split seed 0), n={args.n}")
    print(f"{'seed':>4} {'AUC':>6} {'floor':>6} {'W1':>5} {'floor':>6} {'1-NN':>6} {'floor':>6}  grades over 1.5 x floor")
    for seed in args.seeds:
        fid = Fidelity(pools, judged, judge, n=args.n, seed=seed, importance=False)
        rng = random.Random(seed)
        stand_in = {g: rng.sample(rs, min(args.n, len(rs))) for g, rs in by[args.source].items()}
        m, fl = fid.measure(stand_in), fid.floor
        over = [f"{g} ({w1:.2f} vs {floor_w1:.2f})" for g, w1, floor_w1 in w1_over(m, fl)]
        print(f"{seed:>4} {m['auc']:>6.3f} {fl['auc']:>6.3f} {m['w1_judged']:>5.2f} {fl['w1_judged']:>6.2f} "
              f"{m['nn_accuracy']:>6.3f} {fl['nn_accuracy']:>6.3f}  {', '.join(over) or '-'}")  # fmt: skip
        print("     per grade W1 / floor: " + ", ".join(
            f"{g} {m['per_grade'][g]['w1_judged']:.2f}/{fl['per_grade'][g]['w1_judged']:.2f}" for g in m["per_grade"]
        ))  # fmt: skip


if __name__ == "__main__":
    main()
