"""Evaluate route generators (AR transformer or cGAN checkpoints) per target grade.

For each grade, N routes are sampled through routegen.generation.sampling.sample_routes (with and without critic rerank)
and measured: validity per rule, uniqueness, novelty and near copies against every known problem, grade
agreement by the critic and by an independent judge, distribution distances and a real-vs-generated classifier
against the held-out test routes of that grade. The yardstick is the judge on those real held-out routes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from datetime import datetime, timezone

from routegen.errors import RoutegenError

HELP = "measure generators: validity, novelty, grade agreement by an independent judge, realism"
DEFAULT_GRADES = "6B+,6C,6C+,7A,7A+,7B,7B+,7C,7C+"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", action="append", required=True, help="generator checkpoint or run dir (repeatable)")
    p.add_argument("--critic", help="grader used for rerank and the critic columns (Critic.load)")
    p.add_argument("--judge", required=True, help="independent grader (other architecture and split seed)")
    p.add_argument(
        "--grades", default=DEFAULT_GRADES, help=f"target grades, comma-separated (default {DEFAULT_GRADES})"
    )
    p.add_argument("-n", type=int, default=500, help="routes per grade (default 500)")
    p.add_argument("--seed", type=int, default=0, help="sampling and classifier seed (default 0)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the generators' train/val/test split (default 0)")
    p.add_argument(
        "--critic-split-seed", type=int, help="the critic's split seed (default: its own record, else --split-seed)"
    )
    p.add_argument(
        "--judge-split-seed", type=int, help="the judge's split seed (default: its own record, else --split-seed)"
    )
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
    p.add_argument(
        "--threads", type=int, help="torch CPU threads (on a busy machine 1 is far faster; default: torch's)"
    )
    p.add_argument("--data-dir", help="data directory (default: routegen.paths.default_data_dir())")
    p.add_argument("--output", help="write the full report as JSON (atomically)")


def parse_list(text: str, what: str, convert) -> list:
    try:
        items = [convert(x) for x in text.split(",") if x.strip()]
    except ValueError as e:
        raise RoutegenError(f"bad {what} {text!r}: {e}") from None
    if not items:
        raise RoutegenError(f"no {what} given in {text!r}")
    return items


def load_grader(path: str):
    from routegen.grader.critic import Critic

    return Critic.load(path)


def load_generator(path: str):
    from routegen.checkpoints import load_module

    return load_module(path, expect=("ar_transformer", "cgan"))


def file_digest(path: str) -> str:
    from routegen.checkpoints import resolve_checkpoint

    resolved = resolve_checkpoint(path)
    return hashlib.sha1(resolved.read_bytes()).hexdigest() if resolved.is_file() else str(resolved)


def evaluate_module(module, grades, n, *, rerank, critic, judge, index, real_by_grade, board, seed, fixed, sampler):
    """One generator at one rerank factor: per-grade metrics, their mean, Spearman and the pooled AUC."""
    from routegen.generation.metrics import (
        evaluate_generated,
        matched_mix,
        mean_over_grades,
        real_vs_generated_auc,
        spearman,
    )
    from routegen.generation.sampling import sample_routes

    per_grade, generated, targets, judged, critic_judged = {}, {}, [], [], []
    t0 = time.perf_counter()
    for g in grades:
        samples = sample_routes(
            module, g, n, critic=critic if rerank > 1 else None, rerank=rerank, keep_copies=True,
            fixed=fixed, seed=seed + 1000 * g.number, **sampler,
        )  # fmt: skip
        routes = [s.route for s in samples]
        m = evaluate_generated(
            routes,
            g.number,
            board=board,
            index=index,
            real=real_by_grade[g.font],
            critic=critic,
            judge=judge,
            seed=seed,
        )
        judged += m.pop("judge_grades", [])
        critic_judged += m.pop("critic_grades", [])
        targets += [g.number] * len(routes)
        per_grade[g.font], generated[g.font] = m, routes
    return {
        "rerank": rerank,
        "per_grade": per_grade,
        "mean": mean_over_grades(per_grade),
        "spearman_judge": spearman(targets, judged) if judged else math.nan,
        "spearman_critic": spearman(targets, critic_judged) if critic_judged else math.nan,
        "auc_pooled": real_vs_generated_auc(
            [r for g in grades for r in real_by_grade[g.font]], matched_mix(real_by_grade, generated), seed=seed
        ),
        "seconds": time.perf_counter() - t0,
    }


def unconstrained_validity(module, grades, n, *, board, seed, fixed, sampler) -> dict | None:
    """Validity of the same sampler without decoding constraints (the reference the constraints are judged by)."""
    import inspect

    from routegen.generation.metrics import mean_over_grades, validity
    from routegen.generation.sampling import sample_routes

    if "constrained" not in inspect.signature(module.generate).parameters:  # a generator without the switch
        return None
    per_grade = {}
    for g in grades:
        samples = sample_routes(
            module, g, n, keep_copies=True, fixed=fixed, seed=seed + 1000 * g.number, constrained=False, **sampler
        )
        per_grade[g.font] = validity([s.route for s in samples], board)
    return {"per_grade": per_grade, "mean": mean_over_grades(per_grade)}


def held_out(problems, grades, seed: int, label: str = "font", val: float = 0.1, test: float = 0.1) -> dict:
    """{"train", "test"} -> Font grade -> routes, for split_problems with these settings."""
    from routegen.data import split_problems

    splits = split_problems(problems, label, seed=seed, val=val, test=test)
    return {s: {g.font: [p.route for p in splits[s] if p.grade == g] for g in grades} for s in ("train", "test")}


def grader_split(grader, override: int | None, default: int) -> dict:
    """How a grader's data was split: its recorded data settings (routegen.grader.critic.Critic.data_hparams), the
    seed overridden by --*-split-seed; without a record the generators' split (seed `default`)."""
    data = dict(getattr(grader, "data_hparams", None) or {})
    seed = override if override is not None else data.get("seed", getattr(grader, "split_seed", default))
    return {
        "seed": int(seed),
        "label": str(data.get("label") or "font"),
        "include_v_only": data.get("include_v_only"),
        "val": float(data.get("val_fraction", 0.1)),
        "test": float(data.get("test_fraction", 0.1)),
    }


def grader_held_out(split: dict, grades, problems, *, data_dir, board: str, angle: int) -> dict:
    """Grade -> real routes the grader never trained on (its own test split), Font-graded ones only."""
    from routegen.data import load_problems

    if split["label"] != "font" or split["include_v_only"]:
        problems = load_problems(data_dir, board, angle, label=split["label"], include_v_only=split["include_v_only"])
    return held_out(problems, grades, split["seed"], split["label"], split["val"], split["test"])["test"]


def evaluate_real(grades, *, graders, index, real_by_grade, train_by_grade, n, seed) -> dict:
    """The yardstick: real held-out routes (near copies, W1 floor) and each grader on routes it never saw.

    graders: prefix -> (grader, grade -> that grader's held-out routes).
    """
    import random

    from routegen.generation.metrics import balanced_spearman, mean_over_grades, spearman
    from routegen.generation.metrics import evaluate_real as real_metrics

    per_grade, targets, judged = {}, [], []
    for g in grades:
        train = train_by_grade[g.font]
        reference = random.Random(seed).sample(train, min(n, len(train)))  # a "perfect generator" batch
        graded = {k: (grader, held[g.font]) for k, (grader, held) in graders.items() if grader is not None}
        m = real_metrics(real_by_grade[g.font], g.number, index=index, reference=reference, graded=graded)
        judged += m.pop("judge_grades", [])
        targets += [g.number] * m.get("judge_n", 0)
        m.pop("critic_grades", None)
        per_grade[g.font] = m
    return {
        "per_grade": per_grade,
        "mean": mean_over_grades(per_grade),
        "spearman_judge": spearman(targets, judged),
        "spearman_judge_balanced": balanced_spearman(targets, judged, seed=seed),
    }


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.data import load_problems
    from routegen.generation.metrics import check_targets
    from routegen.generation.novelty import NoveltyIndex
    from routegen.grades import parse_grade
    from routegen.io import atomic_write_text
    from routegen.route import parse_route

    grades = parse_list(args.grades, "grades", parse_grade)
    reranks = parse_list(args.rerank, "--rerank", int)
    if bad := [k for k in reranks if k < 1]:
        raise RoutegenError(f"--rerank factors must be >= 1 (got {bad[0]})")
    if args.n < 1:
        raise RoutegenError(f"-n must be >= 1 (got {args.n})")
    if args.realism is not None and args.realism < 1:
        raise RoutegenError(f"--realism must be >= 1 (got {args.realism})")
    if max(reranks) > 1 and not args.critic:
        raise RoutegenError("--rerank above 1 needs a critic (--critic <grader checkpoint>)")
    if args.critic and file_digest(args.critic) == file_digest(args.judge):
        print("routegen evaluate-generator: warning: critic and judge are the same checkpoint; the judge is "
              "not independent (use another architecture and split seed)", file=sys.stderr)  # fmt: skip
    if args.threads is not None:
        if args.threads < 1:
            raise RoutegenError(f"--threads must be >= 1 (got {args.threads})")
        import torch

        torch.set_num_threads(args.threads)
    sampler = {
        k: getattr(args, k)
        for k in ("temperature", "top_k", "top_p", "guidance", "realism")
        if getattr(args, k) is not None
    }
    fixed = parse_route(args.fixed)[0] if args.fixed else None

    generators = [(path, load_generator(path)) for path in args.ckpt]
    board_name, angle = str(generators[0][1].board), int(generators[0][1].angle)
    if others := [p for p, m in generators if (str(m.board), int(m.angle)) != (board_name, angle)]:
        raise RoutegenError(f"generator {others[0]} is for another board or angle than {args.ckpt[0]}")
    critic = load_grader(args.critic) if args.critic else None
    judge = load_grader(args.judge)
    board = load_board(board_name)
    problems = load_problems(args.data_dir, board_name, angle)
    by_grade = held_out(problems, grades, args.split_seed)
    splits = {"critic": grader_split(critic, args.critic_split_seed, args.split_seed),
             "judge": grader_split(judge, args.judge_split_seed, args.split_seed)}  # fmt: skip
    where = {"data_dir": args.data_dir, "board": board_name, "angle": angle}
    graders = {
        k: (grader, grader_held_out(splits[k], grades, problems, **where) if grader is not None else None)
        for k, grader in (("critic", critic), ("judge", judge))
    }
    index = NoveltyIndex.from_data(board_name, angle, args.data_dir)
    yardstick = evaluate_real(grades, graders=graders, index=index, real_by_grade=by_grade["test"],
                              train_by_grade=by_grade["train"], n=args.n, seed=args.seed)  # fmt: skip
    runs = []
    for path, module in generators:
        for k in reranks:
            r = evaluate_module(module, grades, args.n, rerank=k, critic=critic, judge=judge, index=index,
                                real_by_grade=by_grade["test"], board=board, seed=args.seed, fixed=fixed,
                                sampler=sampler)  # fmt: skip
            r["ckpt"] = path
            r["realism"] = sampler.get("realism", getattr(module, "hparams", {}).get("realism"))  # None: not a cGAN
            r["targets"] = check_targets(r, yardstick)
            runs.append(r)
        if not args.no_unconstrained and fixed is None:  # fixed holds need constrained decoding
            ref = unconstrained_validity(
                module, grades, args.n, board=board, seed=args.seed, fixed=fixed, sampler=sampler
            )
            for r in runs:
                if r["ckpt"] == path:
                    r["unconstrained"] = ref
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "args": {k: v for k, v in vars(args).items() if not callable(v)},
        "board": board_name, "angle": angle, "n": args.n, "seed": args.seed, "split_seed": args.split_seed,
        "grader_splits": splits,
        "grades": [g.font for g in grades], "critic": args.critic, "judge": args.judge, "sampler": sampler,
        "fixed": str(fixed) if fixed else None, "known_problems": len(index),
        "yardstick": yardstick, "runs": runs,
    }  # fmt: skip
    from routegen.generation.report import print_report

    print_report(report)
    if args.output:
        atomic_write_text(args.output, json.dumps(clean(report), indent=1) + "\n")
    return 0


def clean(x):
    """JSON-safe: NaN -> null, tuples -> lists."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    return x
