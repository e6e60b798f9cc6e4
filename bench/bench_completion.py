"""Route completion: does a generator keep fixed holds, and does the judged grade stay on target?

For each target grade, real held-out (test split) routes of that grade lend their start and end holds as the
fixed holds; the generator completes one route per fixed set. The same number of free routes (no fixed holds)
is the reference. Prints, per grade and overall: fixed holds kept, valid, judge within +-1 of the target and
judge MAE, with and without fixed holds.

    .venv/bin/python bench/bench_completion.py --ckpt runs/cgan --judge runs/judge -n 50
"""

from __future__ import annotations

import argparse

import torch

from routegen.board import load_board
from routegen.checkpoints import load_module
from routegen.data import load_problems, split_problems
from routegen.grader.critic import Critic
from routegen.grades import parse_grade
from routegen.route import Route, check_route


def keeps(route: Route, fixed: Route) -> bool:
    return all(set(getattr(fixed, r)) <= set(getattr(route, r)) for r in ("start", "middle", "end"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", required=True)
    p.add_argument("--judge", required=True)
    p.add_argument("--grades", default="6B+,6C,6C+,7A,7A+,7B,7B+,7C,7C+")
    p.add_argument("-n", type=int, default=50, help="fixed sets (real test routes) per grade")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--realism", type=int, default=None, help="cGAN candidates per route (default: the checkpoint's)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    module = load_module(args.ckpt, expect=("ar_transformer", "cgan"))
    judge = Critic.load(args.judge)
    kw = {} if args.realism is None else {"realism": args.realism}
    board = load_board(module.board)
    test = split_problems(load_problems(None, module.board, module.angle), "font", seed=args.split_seed)["test"]
    rows, total = [], {"kept": 0, "valid": 0, "n": 0, "w1_fixed": 0, "w1_free": 0, "ae_fixed": 0.0, "ae_free": 0.0}
    print(
        f"{'grade':6} {'n':>4} {'kept':>6} {'valid':>6} {'±1 fixed':>9} {'±1 free':>8} {'MAE fixed':>10} {'MAE free':>9}"
    )
    for g in (parse_grade(x) for x in args.grades.split(",")):
        real = [q.route for q in test if q.grade == g][: args.n]
        fixed_sets = [Route(r.start, (), r.end) for r in real]
        done = [module.generate([g.number], fixed=f, seed=args.seed + i, **kw)[0] for i, f in enumerate(fixed_sets)]
        free = module.generate([g.number] * len(real), seed=args.seed, **kw)
        js_fixed, js_free = judge.score(done), judge.score(free)
        n = len(real)
        r = {
            "kept": sum(keeps(d, f) for d, f in zip(done, fixed_sets)),
            "valid": sum(check_route(d, board).ok for d in done),
            "n": n,
            "w1_fixed": sum(abs(s.number - g.number) <= 1 for s in js_fixed),
            "w1_free": sum(abs(s.number - g.number) <= 1 for s in js_free),
            "ae_fixed": sum(abs(s.number - g.number) for s in js_fixed),
            "ae_free": sum(abs(s.number - g.number) for s in js_free),
        }
        for k in total:
            total[k] += r[k]
        rows.append((g.font, r))
    for name, r in rows + [("all", total)]:
        n = max(r["n"], 1)
        print(f"{name:6} {r['n']:>4} {r['kept'] / n:>6.1%} {r['valid'] / n:>6.1%} {r['w1_fixed'] / n:>9.1%} "
              f"{r['w1_free'] / n:>8.1%} {r['ae_fixed'] / n:>10.2f} {r['ae_free'] / n:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
