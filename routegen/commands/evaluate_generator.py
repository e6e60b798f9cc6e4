"""Evaluate route generators (AR transformer or cGAN checkpoints) per target grade.

For each grade, N routes are sampled (with and without critic rerank) and measured: validity per rule,
uniqueness, novelty and near copies against every known problem, grade agreement by the critic and by an
independent judge, distribution distances and a real-vs-generated classifier against the held-out test routes
of that grade. The yardstick is the judge on those real held-out routes (routegen/generation/evaluate.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from routegen.commands.args import grade_list
from routegen.errors import RoutegenError
from routegen.generation.evaluate import DEFAULT_GRADES

HELP = "measure generators: validity, novelty, grade agreement by an independent judge, realism"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", action="append", required=True, help="generator checkpoint or run dir (repeatable)")
    p.add_argument("--critic", help="grader used for rerank and the critic columns (Critic.load)")
    p.add_argument("--judge", required=True, help="independent grader (other architecture and split seed)")
    p.add_argument("--grades", default=grade_list(DEFAULT_GRADES), type=grade_list,
                   help=f"target grades, comma-separated (default {DEFAULT_GRADES})")  # fmt: skip
    p.add_argument("-n", type=int, default=500, help="routes per grade (default 500)")
    p.add_argument("--seed", type=int, default=0, help="sampling and classifier seed (default 0)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the generators' train/val/test split (default 0)")
    p.add_argument("--critic-split-seed", type=int, help="the critic's split seed (default: its own record, else --split-seed)")  # fmt: skip
    p.add_argument("--judge-split-seed", type=int, help="the judge's split seed (default: its own record, else --split-seed)")  # fmt: skip
    p.add_argument("--rerank", default="1", help="critic rerank factors to compare, e.g. 1,8 (default 1)")
    p.add_argument("--temperature", type=float, help="sampler temperature (default: the generator's)")
    p.add_argument("--top-k", type=int, help="sample among the k likeliest tokens (AR)")
    p.add_argument("--top-p", type=float, help="nucleus sampling threshold (AR)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale (default: the generator's)")
    p.add_argument("--realism", type=int, metavar="K",
                   help="cGAN: K candidates per route, the discriminator keeps the most real (default: the "
                   "generator's)")  # fmt: skip
    p.add_argument("--fixed", help='fixed holds every route must contain, e.g. "C5 | | D18"')
    p.add_argument("--no-unconstrained", action="store_true", help="skip the constrained=False validity reference")
    p.add_argument("--threads", type=int, help="torch CPU threads (on a busy machine 1 is far faster; default: torch's)")  # fmt: skip
    p.add_argument("--data-dir", help="data directory (default: routegen.paths.default_data_dir())")
    p.add_argument("--output", help="write the full report as JSON (atomically)")


def load_grader(path: str):
    from routegen.grader.critic import Critic

    return Critic.load(path)


def load_generator(path: str):
    from routegen.checkpoints import load_module

    return load_module(path, expect=("ar_transformer", "cgan"))


def parse_reranks(text: str) -> list[int]:
    try:
        reranks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as e:
        raise RoutegenError(f"bad --rerank {text!r}: {e}") from None
    if not reranks:
        raise RoutegenError(f"no --rerank given in {text!r}")
    if bad := [k for k in reranks if k < 1]:
        raise RoutegenError(f"--rerank factors must be >= 1 (got {bad[0]})")
    return reranks


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.generation.evaluate import clean, evaluate_generators, file_digest
    from routegen.generation.report import print_report
    from routegen.io import atomic_write_text
    from routegen.route import parse_route

    reranks = parse_reranks(args.rerank)
    for name, value in (("-n", args.n), ("--realism", args.realism), ("--threads", args.threads)):
        if value is not None and value < 1:
            raise RoutegenError(f"{name} must be >= 1 (got {value})")
    if max(reranks) > 1 and not args.critic:
        raise RoutegenError("--rerank above 1 needs a critic (--critic <grader checkpoint>)")
    if args.critic and file_digest(args.critic) == file_digest(args.judge):
        print("routegen evaluate-generator: warning: critic and judge are the same checkpoint; the judge is "
              "not independent (use another architecture and split seed)", file=sys.stderr)  # fmt: skip
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    sampler = {
        k: v for k in ("temperature", "top_k", "top_p", "guidance", "realism") if (v := getattr(args, k)) is not None
    }
    fixed = parse_route(args.fixed)[0] if args.fixed else None

    generators = [(path, load_generator(path)) for path in args.ckpt]
    where = (str(generators[0][1].board), int(generators[0][1].angle))
    if others := [p for p, m in generators if (str(m.board), int(m.angle)) != where]:
        raise RoutegenError(f"generator {others[0]} is for another board or angle than {args.ckpt[0]}")
    critic = load_grader(args.critic) if args.critic else None
    report = evaluate_generators(
        generators, args.grades, critic=critic, judge=load_grader(args.judge), board=load_board(where[0]), n=args.n,
        seed=args.seed, split_seed=args.split_seed, reranks=reranks, sampler=sampler, fixed=fixed,
        grader_seeds={"critic": args.critic_split_seed, "judge": args.judge_split_seed},
        unconstrained=not args.no_unconstrained, data_dir=args.data_dir,
    )  # fmt: skip
    report |= {"args": {k: v for k, v in vars(args).items() if not callable(v)}, "critic": args.critic,
               "judge": args.judge}  # fmt: skip
    print_report(report)
    if args.output:
        atomic_write_text(args.output, json.dumps(clean(report), indent=1) + "\n")
    return 0
