"""Score a trained grader on a split of its own data (rebuilt from the checkpoint) or on a labelled .jsonl file.

Prints exact accuracy, within +-1, MAE, macro-F1, quadratic weighted kappa and expected calibration error on
the Font steps and on V grades, beside the constant baselines (most frequent and median training class).
"""

from __future__ import annotations

import argparse
import json

from routegen.errors import RoutegenError

HELP = "print a grader's metric table on its test/val/train split or a labelled file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="grader checkpoint file or run directory")
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="default: test")
    p.add_argument("--input", help="labelled routes.jsonl (data schema with grade_font or grade_v) instead of a split")
    p.add_argument("--data-dir", help="data directory (default: the one the grader was trained on, else the default)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def labelled_input(path: str, scale, board) -> tuple[list, list[int]]:
    from routegen.commands.grade import read_rows, row_route
    from routegen.grades import parse_grade

    routes, labels = [], []
    for i, row in enumerate(read_rows(path), 1):
        route, grade = row_route(row, board)
        v = row.get("grade_v")
        if grade is None and v is not None:
            grade = parse_grade(f"V{int(str(v).lstrip('Vv'))}")
        label = scale.class_of(grade, grade.v if grade is not None else None)
        if label is None:
            raise RoutegenError(f"{path}: row {i} has no grade on the {scale.name} scale (grade_font / grade_v)")
        routes.append(route)
        labels.append(label)
    return routes, labels


def grader_probs(module, routes: list, batch: int = 1024):
    """(N, C) the grader's class probabilities of routes, in batches (no gradients)."""
    import torch

    from routegen.encoding import routes_to_grids

    with torch.no_grad():
        return torch.cat([module.probs(routes_to_grids(routes[i : i + batch])) for i in range(0, len(routes), batch)])


def split_data(module, split: str, data_dir: str | None) -> tuple[list, list[int]]:
    """The split the grader was trained with, rebuilt from the data settings saved in its checkpoint."""
    from routegen.data import load_problems, split_problems

    hp = module.data_hparams
    if not hp:
        raise RoutegenError("this checkpoint has no saved data settings; use --input with a labelled file")
    problems = load_problems(data_dir or hp.get("dir"), hp["board"], hp["angle"], hp["label"], hp.get("include_v_only"))
    splits = split_problems(problems, hp["label"], hp["seed"], hp["val_fraction"], hp["test_fraction"])
    ps = splits[split]
    return [p.route for p in ps], [module.scale.class_of(p.grade, p.grade_v) for p in ps]


def run(args: argparse.Namespace) -> int:
    import torch

    from routegen.board import load_board
    from routegen.checkpoints import load_module
    from routegen.grader.metrics import format_table

    module = load_module(args.ckpt, expect="grader")
    if args.input:
        routes, labels = labelled_input(args.input, module.scale, load_board(module.hparams.board))
        source = args.input
    else:
        routes, labels = split_data(module, args.split, args.data_dir)
        source = f"{args.split} split"
    probs = grader_probs(module, routes)
    table = module.evaluate(probs, torch.tensor(labels))
    if args.json:
        print(json.dumps({"source": source, "n": len(routes), "metrics": table}))
    else:
        print(f"{module.hparams.arch} grader ({module.scale.name} labels, predict={module.hparams.predict}, "
              f"prior_power={module.hparams.get('prior_power', 0.0)}) "
              f"on {source}: {len(routes)} routes")  # fmt: skip
        print(format_table(table))
    return 0
