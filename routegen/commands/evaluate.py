"""Score a trained grader on a split of its own data (rebuilt from the checkpoint) or on a labelled .jsonl(.gz) file.

Prints exact accuracy, within +-1, MAE, macro-F1, quadratic weighted kappa and expected calibration error on
the Font steps and on V grades, beside the constant baselines (most frequent and median training class).
"""

from __future__ import annotations

import argparse
import json

HELP = "print a grader's metric table on its test/val/train split or a labelled file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", help="grader checkpoint file or run directory (default: the shipped critic of --board)")
    p.add_argument(
        "--board", choices=("2016", "2017"), help="without --ckpt: the shipped critic's board (default 2016)"
    )
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="default: test")
    p.add_argument("--input", help="labelled routes.jsonl or .jsonl.gz (data schema with grade_font or grade_v) "
                   "instead of a split")  # fmt: skip
    p.add_argument("--data-dir", help="data directory (default: the one the grader was trained on, else the default)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def run(args: argparse.Namespace) -> int:
    import torch

    from routegen.checkpoints import load_module
    from routegen.commands.args import shipped_or
    from routegen.grader.evaluate import grader_probs, labelled_input, split_data
    from routegen.grader.metrics import format_table

    if args.input:  # a missing, empty or malformed file is named (with its line) before the grader loads
        from routegen.commands.args import parse_sources, route_sources

        parse_sources(route_sources([], args.input))
    module = load_module(shipped_or(args.ckpt, args.board, "critic"), expect="grader")
    if args.input:
        routes, labels = labelled_input(args.input, module)
        source = args.input
    else:
        routes, labels = split_data(module, args.split, args.data_dir)
        source = f"{args.split} split"
    table = module.evaluate(grader_probs(module, routes), torch.tensor(labels))
    if args.json:
        print(json.dumps({"source": source, "n": len(routes), "metrics": table}))
    else:
        rule, power = module.predict_rule
        print(f"{module.arch} grader ({module.scale.name} labels, predict={rule}, prior_power={power}) "
              f"on {source}: {len(routes)} routes")  # fmt: skip
        print(format_table(table))
    return 0
