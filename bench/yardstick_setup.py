"""What the yardstick benches share (bench_request_size.py, bench_completion_fidelity.py): their options, and the
generators, critic, grades and fidelity yardstick those options name. Not a bench itself."""

from __future__ import annotations

import argparse

import torch

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.generation.evaluate import fidelity_yardstick
from routegen.grader.critic import Critic
from routegen.shipped import card_path

GRADES = "6B+,6C,6C+,7A,7A+,7B,7B+,7C,7C+"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--critic", default=str(card_path("2016", "critic")), help="critic for matching")
    p.add_argument("--judge", default=str(card_path("2016", "judge")), help="independent grader for the judged W1")
    p.add_argument("--split", default="test", choices=["val", "test"], help="real routes (default test)")
    p.add_argument("--grades", default=GRADES)
    p.add_argument("-n", type=int, default=200, help="routes per grade and side, at most half the pool (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)


def setup(args: argparse.Namespace):
    """(generators {path: module}, critic, grades, the Fidelity yardstick with its real halves and floor)."""
    torch.set_num_threads(args.threads)
    generators = {path: load_module(path, ("ar_transformer", "cgan"))
                  for path in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]}  # fmt: skip
    critic, judge, grades = Critic.load(args.critic), Critic.load(args.judge), grade_list(args.grades)
    fid = fidelity_yardstick(judge, grades, n=args.n, seed=args.seed, split=args.split, data_dir=args.data_dir)
    return generators, critic, grades, fid
