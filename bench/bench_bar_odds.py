"""The odds of the fidelity bar's judged-W1 condition: how often a generator that draws exactly from the real routes'
distribution meets it, beside how often the generators do.

The condition (routegen/generation/bar.py) asks, on each of three sampling seeds, for a judged W1 at most 1.5 x its
floor at every grade with at least 50 judged real test routes. Its floor is two halves of the test split, so it
cannot see how far the test split's routes of a grade happen to sit from the population's. Three stand-ins for a
perfect generator, -n routes per grade drawn with replacement (independent draws, as a generator's are):
  - "validation draws": from the validation split's real routes (disjoint from the test split, unseen by the
    judge, and the routes critic matching aims at), against the test split as it is;
  - "redrawn test split": each grade's validation and test routes pooled and split again at random into a test
    split of the same size and the rest; the draws from the rest, against the redrawn test split;
  - "validation + test draws": from the validation and test routes together, against the test split. Optimistic
    (the draws include the test routes themselves); the first two are pessimistic, as their source is no larger
    than the test split, so its own offset from the population adds to the test split's.
Each stand-in is drawn --rounds times, three sampling seeds a round against one test split, as the issue asks.
The generators (--ckpt) are sampled by default (`routegen evaluate-generator`'s sampling, shipped critic) for
each --seeds and judged once; their seeds are scored against the test split as it is. Only the judge's expected
grades are compared, so the draws cost milliseconds; sampling is the slow part (the cGAN about 7 min a seed on
one thread), and each seed's judged grades are kept in --cache for the next run.

    .venv/bin/python bench/bench_bar_odds.py --no-generators                 # the stand-ins only (about 30 s)
    .venv/bin/python bench/bench_bar_odds.py --ckpt routegen/weights/2016/ar.json --seeds 0 1 2 3 4 5 6 7 8 9 10 11
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.generation.bar import W1_FACTOR, W1_MIN_POOL, w1_over
from routegen.generation.evaluate import DEFAULT_GRADES, file_digest, held_out, sample_grades
from routegen.generation.fidelity import dedupe, halved_w1, judged_expected
from routegen.grader.critic import Critic
from routegen.shipped import card_path

SEEDS_PER_SPLIT = 3  # the three sampling seeds against one test split


def judged_w1s(test: dict, gen: dict, seed: int) -> tuple[dict, dict]:
    """One run's judged W1 and its floor, shaped as the bar reads them (bar.w1_over): test and gen are Font grade
    -> judged expected grades; `seed` drives the halvings. Grades outside the condition are not measured."""
    fid, floor = {"per_grade": {}}, {"per_grade": {}}
    for g, real in test.items():
        if len(real) >= W1_MIN_POOL:
            fid["per_grade"][g] = {"w1_judged": halved_w1(real, gen[g], seed), "judged_pool": len(real)}
            floor["per_grade"][g] = {"w1_judged": halved_w1(real, None, seed)}
    return fid, floor


def over(run: tuple[dict, dict]) -> list[str]:
    """The grades of one run over the condition's bar."""
    return [g for g, _, _ in w1_over(*run)]


def ratio(run: tuple[dict, dict], g: str) -> float:
    fid, floor = run
    return fid["per_grade"][g]["w1_judged"] / floor["per_grade"][g]["w1_judged"]


def stand_in_runs(test: dict, source: dict, *, n: int, rounds: int, redraw: bool, seed: int) -> list[list[tuple]]:
    """rounds x SEEDS_PER_SPLIT runs (judged_w1s) of n draws per grade with replacement. redraw: each round pools
    test and source per grade and splits them again (a test split of the same size, the draws from the rest);
    else the draws come from `source` against `test` as it is."""
    rng = np.random.default_rng(seed)
    out = []
    for r in range(rounds):
        split_test, split_source = test, source
        if redraw:
            split_test, split_source = {}, {}
            for g in test:
                pooled = rng.permutation(np.concatenate([test[g], source[g]]))
                split_test[g], split_source[g] = pooled[: len(test[g])], pooled[len(test[g]) :]
        draws = [{g: rng.choice(split_source[g], n, replace=True) for g in test} for _ in range(SEEDS_PER_SPLIT)]
        out.append([judged_w1s(split_test, d, seed=r * 10 + s) for s, d in enumerate(draws)])
    return out


def summary(splits: list[list[tuple]]) -> dict:
    """Over runs grouped by test split: the share meeting the condition, the share of splits where every run meets
    it, and per grade the share of runs over the bar and the mean W1 / floor."""
    runs = [run for split in splits for run in split]
    grades = list(runs[0][0]["per_grade"])
    return {
        "runs": len(runs),
        "meets": np.mean([not over(run) for run in runs]),
        "all_three": np.mean([not any(over(run) for run in split) for split in splits]),
        "over": {g: np.mean([g in over(run) for run in runs]) for g in grades},
        "ratio": {g: np.mean([ratio(run, g) for run in runs]) for g in grades},
    }


def generator_runs(path: str, seeds, *, grades, judge, critic, n: int, cache: Path | None) -> list[dict]:
    """Font grade -> the judge's expected grades of a generator's default sampling, for each seed; read from and
    written to `cache` (keyed by the checkpoint's digest, n and seed) when given."""
    out = []
    module = None
    key = f"{Path(path).stem}-{file_digest(path)[:10]}-n{n}"
    for seed in seeds:
        file = cache / f"{key}-s{seed}.npz" if cache else None
        if file is not None and file.exists():
            with np.load(file) as z:
                out.append({g.font: z[g.font] for g in grades})
            continue
        module = module or load_module(path, ("ar_transformer", "cgan"))
        routes = sample_grades(module, grades, n, rerank=1, critic=critic, seed=seed, fixed=None, sampler={})
        out.append({g.font: judged_expected(judge, routes[g.font]) for g in grades})
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            np.savez(file, **out[-1])
        print(f"{path} seed {seed}: sampled", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", default=[], help="generator (repeatable)")
    p.add_argument("--no-generators", action="store_true", help="the stand-ins only")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="generators' sampling seeds")
    p.add_argument("--rounds", type=int, default=200, help="test splits per stand-in (default 200)")
    p.add_argument("-n", type=int, default=500, help="routes per grade (default 500, as the bar)")
    p.add_argument("--cache", type=Path, default=Path("runs/bar_odds"),
                   help="judged grades of sampled seeds, reused by later runs (default runs/bar_odds)")  # fmt: skip
    p.add_argument("--critic", default=str(card_path("2016", "critic")), help="critic for the generators' matching")
    p.add_argument("--judge", default=str(card_path("2016", "judge")), help="independent grader")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    grades = grade_list(DEFAULT_GRADES)
    fonts = [g.font for g in grades]
    judge = Critic.load(args.judge)
    by = held_out(load_problems(args.data_dir), grades, seed=0)
    # each split's routes once per hold set, as the yardstick's pools are
    test = {g: judged_expected(judge, dedupe(by["test"][g])) for g in fonts}
    val = {g: judged_expected(judge, dedupe(by["val"][g])) for g in fonts}
    both = {g: np.concatenate([test[g], val[g]]) for g in fonts}

    rows = {}
    stand_ins = (("validation draws", val, False), ("redrawn test split", val, True),
                 ("validation + test draws (optimistic)", both, False))  # fmt: skip
    for name, source, redraw in stand_ins:
        rows[name] = summary(stand_in_runs(test, source, n=args.n, rounds=args.rounds, redraw=redraw, seed=0))
    if not args.no_generators:
        critic = Critic.load(args.critic)
        for path in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]:
            gens = generator_runs(path, args.seeds, grades=grades, judge=judge, critic=critic, n=args.n,
                                  cache=args.cache)  # fmt: skip
            # the halvings' seed is the sampling seed, as evaluate-generator's Fidelity(seed=seed) has it
            runs = [judged_w1s(test, gen, seed) for seed, gen in zip(args.seeds, gens)]
            for seed, run in zip(args.seeds, runs):
                print(f"{path} seed {seed}: over {', '.join(over(run)) or '-'}")
            rows[path] = summary([runs[i : i + SEEDS_PER_SPLIT] for i in range(0, len(runs), SEEDS_PER_SPLIT)])

    eligible = list(next(iter(rows.values()))["over"])
    print(f"\njudged-W1 condition (W1 <= {W1_FACTOR} x floor at {', '.join(eligible)}), test split of split seed 0, "
          f"{args.n} routes per grade")  # fmt: skip
    head = f"{'':<40} {'runs':>5} {'meets':>6} {'3 of 3':>6}  "
    print(head + " ".join(f"{g:>5}" for g in eligible) + "   (share of runs over the bar)")
    for name, r in rows.items():
        print(f"{name[-40:]:<40} {r['runs']:>5} {r['meets']:>6.0%} {r['all_three']:>6.0%}  "
              + " ".join(f"{r['over'][g]:>5.0%}" for g in eligible))  # fmt: skip
    print("\n" + f"{'':<40} " + " ".join(f"{g:>5}" for g in eligible) + "   (mean W1 / floor; the bar is 1.5)")
    for name, r in rows.items():
        print(f"{name[-40:]:<40} " + " ".join(f"{r['ratio'][g]:>5.2f}" for g in eligible))
    print("meets: share of runs (one sampling seed each) meeting the condition; 3 of 3: share of test splits (the "
          "generators: their seeds in threes) on which every run meets it")  # fmt: skip


if __name__ == "__main__":
    main()
