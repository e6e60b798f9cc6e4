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

from routegen.commands.args import domain, grade_list
from routegen.errors import RoutegenError

HELP = "measure generators: validity, novelty, grade agreement by an independent judge, realism"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ckpt", action="append", help="generator checkpoint or run dir (repeatable; default: the shipped ones)"
    )
    p.add_argument("--board", choices=("2016", "2017"),
                   help="without --ckpt: the shipped models' board (default 2016); with it, must be theirs")  # fmt: skip
    p.add_argument("--critic", help="grader used for rerank and the critic columns (default: the shipped critic of the "
                   "generators' board)")  # fmt: skip
    p.add_argument("--no-critic", action="store_true", help="no critic: no rerank, no critic columns")
    p.add_argument("--judge", help="independent grader, other architecture and split seed (default: the shipped judge "
                   "of the generators' board)")  # fmt: skip
    p.add_argument("--grades", type=grade_list,
                   help="target grades, comma-separated (default 6B+ to 7C+: routegen.generation.evaluate.DEFAULT_GRADES)")  # fmt: skip
    p.add_argument("-n", type=domain("n"), default=500, help="routes per grade (default 500)")
    p.add_argument("--seed", type=int, default=0, help="sampling and classifier seed (default 0)")
    p.add_argument("--split", choices=("test", "val"), default="test",
                   help="real routes to measure against: test (report) or val (to choose sampling defaults)")  # fmt: skip
    p.add_argument("--split-seed", type=int, default=0, help="seed of the generators' train/val/test split (default 0)")
    p.add_argument("--critic-split-seed", type=int, help="the critic's split seed (default: its own record, else --split-seed)")  # fmt: skip
    p.add_argument("--judge-split-seed", type=int, help="the judge's split seed (default: its own record, else --split-seed)")  # fmt: skip
    p.add_argument("--rerank", default="1", help="critic rerank factors to compare, e.g. 1,8 (default 1)")
    p.add_argument("--temperature", type=domain("temperature"), help="sampler temperature (default: the generator's)")
    p.add_argument("--top-k", type=domain("top_k"), help="sample among the k likeliest tokens (AR)")
    p.add_argument("--top-p", type=domain("top_p"), help="nucleus sampling threshold (AR)")
    p.add_argument(
        "--guidance", type=domain("guidance"), help="classifier-free guidance scale (default: the generator's)"
    )
    p.add_argument("--realism", type=domain("realism"), metavar="K",
                   help="cGAN: K candidates per route, the discriminator keeps the most real (default: the "
                   "generator's)")  # fmt: skip
    p.add_argument("--match", type=domain("match"), metavar="K",
                   help="K candidates per route matched to the critic's grade profile (1 = off; default: the "
                   "generator's, with a calibrated critic); the rerank-1 run only")  # fmt: skip
    p.add_argument("--fixed", help='fixed holds every route must contain, e.g. "C5 | | D18"')
    p.add_argument("--no-unconstrained", action="store_true", help="skip the constrained=False validity reference")
    p.add_argument("--fidelity-only", action="store_true",
                   help="only the fidelity measures and their real-vs-real floor (docs/fidelity.md)")  # fmt: skip
    p.add_argument("--no-fidelity", action="store_true", help="skip the fidelity measures")
    p.add_argument("--threads", type=domain("threads"), help="torch CPU threads (on a busy machine 1 is far faster; default: torch's)")  # fmt: skip
    p.add_argument("--data-dir", help="data directory (default: routegen.paths.default_data_dir())")
    p.add_argument("--output", help="write the full report as JSON (atomically)")


def load_grader(path: str, role: str, board: str):
    """The critic or judge (`role`) at `path`; one for another board than the generators' is a RoutegenError (its
    grades of these routes would mean nothing)."""
    from routegen.grader.critic import Critic

    grader = Critic.load(path)
    if grader.board != board:
        raise RoutegenError(f"{role} {path} is for board {grader.board}; the generators are for board {board}")
    return grader


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
    from routegen.commands.args import parse_fixed, shipped_critic, shipped_or
    from routegen.io import check_output_file

    if args.output:  # every argument checked before anything loads
        check_output_file(args.output)
    reranks = parse_reranks(args.rerank)
    fixed = parse_fixed(args.fixed)
    from routegen.generation.evaluate import DEFAULT_GRADES, clean, evaluate_generators, file_digest
    from routegen.generation.report import print_report
    from routegen.io import atomic_write_text
    from routegen.shipped import shipped_generators

    args.ckpt = args.ckpt or [str(p) for p in shipped_generators(args.board or "2016")]
    generators = [(path, load_generator(path)) for path in args.ckpt]
    where = (str(generators[0][1].board), int(generators[0][1].angle))
    if others := [p for p, m in generators if (str(m.board), int(m.angle)) != where]:
        raise RoutegenError(f"generator {others[0]} is for another board or angle than {args.ckpt[0]}")
    board = where[0]  # the graders default to the generators' board, not 2016
    if args.board and args.board != board:
        raise RoutegenError(f"--board {args.board}, but generator {args.ckpt[0]} is for board {board}")
    args.critic = None if args.no_critic else args.critic or shipped_critic(board)
    args.judge = shipped_or(args.judge, board, "judge")
    args.grades = args.grades or grade_list(DEFAULT_GRADES)
    if max(reranks) > 1 and not args.critic:
        raise RoutegenError("--rerank above 1 needs a critic (--critic <grader checkpoint>)")
    if args.critic and file_digest(args.critic) == file_digest(args.judge):
        print("routegen evaluate-generator: warning: critic and judge are the same checkpoint; the judge is "
              "not independent (use another architecture and split seed)", file=sys.stderr)  # fmt: skip
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    sampler = {
        k: v for k in ("temperature", "top_k", "top_p", "guidance", "realism", "match") if (v := getattr(args, k)) is not None
    }

    critic = load_grader(args.critic, "critic", board) if args.critic else None
    judge = load_grader(args.judge, "judge", board)
    report = evaluate_generators(
        generators, args.grades, critic=critic, judge=judge, board=load_board(board), n=args.n,
        seed=args.seed, split_seed=args.split_seed, reranks=reranks, sampler=sampler, fixed=fixed,
        grader_seeds={"critic": args.critic_split_seed, "judge": args.judge_split_seed},
        unconstrained=not args.no_unconstrained, data_dir=args.data_dir,
        fidelity=not args.no_fidelity, fidelity_only=args.fidelity_only, split=args.split,
    )  # fmt: skip
    report |= {"args": {k: v for k, v in vars(args).items() if not callable(v)}, "critic": args.critic,
               "judge": args.judge}  # fmt: skip
    print_report(report)
    if args.output:
        atomic_write_text(args.output, json.dumps(clean(report), indent=1) + "\n")
    return 0
