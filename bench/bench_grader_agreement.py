"""How several graders grade a generator's matched routes of one grade, against real routes of that grade.

Critic matching (generation/match.py) makes the critic grade a generator's routes as it grades real validation
routes of the target grade. Whether another grader agrees is what the judged W1 of the fidelity yardstick
measures at the end. This bench shows where they part, for a few graders at once. For the real validation and
test routes of the grade, and for each generator and sampling seed, it prints every grader's mean expected grade.
The generators' rows are printed as differences from the real validation routes, the routes matching copies.

    .venv/bin/python bench/bench_grader_agreement.py                 # shipped 2016 AR and cGAN, 6B+, seeds 0 1
    .venv/bin/python bench/bench_grader_agreement.py --grader critic_s1=runs/critic_s1 --grade 7A
    .venv/bin/python bench/bench_grader_agreement.py --splits train val test --real-only   # which split is odd

A grader named here that trained on another split (e.g. `runs/judge_s1`, split seed 1) has seen some of the real
routes. Its real rows are then too confident, but its generated rows are fine.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.generation.evaluate import held_out, sample_grades
from routegen.grader.critic import Critic
from routegen.shipped import card_path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--grader", action="append", default=[], metavar="NAME=PATH",
                   help="another grader to ask (repeatable; the shipped critic and judge are always asked)")  # fmt: skip
    p.add_argument("--grade", default="6B+")
    p.add_argument("-n", type=int, default=500, help="routes per generator and seed (default 500)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument(
        "--splits",
        nargs="+",
        default=["val", "test"],
        choices=["train", "val", "test"],
        help="real routes of these splits (default val test; train: routes the shipped graders trained on)",
    )
    p.add_argument("--real-only", action="store_true", help="only the real routes' rows, no generators")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    critic = Critic.load(card_path("2016", "critic"))
    graders = {"critic": critic, "judge": Critic.load(card_path("2016", "judge"))}
    for spec in args.grader:
        name, sep, path = spec.partition("=")
        if not sep:
            p.error(f"--grader takes NAME=PATH (got {spec!r})")
        graders[name] = Critic.load(path)
    grade = grade_list(args.grade)[0]
    by = held_out(load_problems(args.data_dir), [grade], seed=0)

    def expected(routes) -> np.ndarray:  # (graders, routes)
        return np.array([[s.expected for s in g.score(routes)] for g in graders.values()])

    def means(routes) -> np.ndarray:
        return expected(routes).mean(1)

    print(f"{grade.font}: mean expected grade (numbered scale; real rows ± standard error); generated rows: minus "
          "the real validation routes'")  # fmt: skip
    print(f"{'routes':<40}{'n':>5}" + "".join(f"{name:>15}" for name in graders))
    real = {}
    for split in dict.fromkeys(args.splits + ([] if args.real_only else ["val"])):
        e = expected(by[split][grade.font])
        real[split], se = e.mean(1), e.std(1) / np.sqrt(e.shape[1])
        print(f"{'real ' + split:<40}{e.shape[1]:>5}" + "".join(f"{m:>9.3f} ±{s:.3f}" for m, s in zip(real[split], se)))
    if args.real_only:
        return
    for ckpt in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]:
        module = load_module(ckpt)
        for seed in args.seeds:
            routes = sample_grades(module, [grade], args.n, rerank=1, critic=critic, seed=seed, fixed=None,
                                   sampler={})[grade.font]  # fmt: skip
            label = f"{os.path.relpath(ckpt)} seed {seed}"
            print(f"{label:<40}{len(routes):>5}" + "".join(f"{d:>+15.3f}" for d in means(routes) - real["val"]))


if __name__ == "__main__":
    main()
