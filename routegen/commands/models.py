"""List the pretrained models shipped inside the package (their cards), or export a trained run as one."""

from __future__ import annotations

import argparse
import json

HELP = "list the shipped pretrained models, or export a trained run as a shipped model"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the cards as JSON instead of a table")
    p.add_argument(
        "--export", metavar="RUN", help="write a run's checkpoint as a shipped model (make models does this)"
    )
    p.add_argument("--board", choices=("2016", "2017"), help="with --export: the board the model is for")
    p.add_argument(
        "--name", choices=("critic", "judge", "ar", "cgan"), help="with --export: which shipped model it becomes"
    )
    p.add_argument("--figures", metavar="JSON", help="with --export: measured figures to put in the card")
    p.add_argument("--made-by", default="", metavar="COMMAND", help="with --export: the command that made it")
    p.add_argument("--weights-dir", help="with --export or listing: another weights folder (default: the package's)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from routegen import shipped
    from routegen.errors import RoutegenError

    weights_dir = Path(args.weights_dir) if args.weights_dir else shipped.WEIGHTS_DIR
    if args.export:
        if not (args.board and args.name):
            raise RoutegenError("--export needs --board and --name")
        figures = _figures(args.figures) if args.figures else {}
        card = shipped.export(args.export, args.board, args.name, weights_dir, figures=figures, command=args.made_by)
        print(f"wrote {weights_dir / args.board / card['weights']} ({card['parameters']:,} parameters, "
              f"sha256 {card['sha256'][:12]})")  # fmt: skip
        return 0
    cards = shipped.cards(weights_dir)
    if args.json:
        print(json.dumps(cards, indent=1))
        return 0
    if not cards:
        print(f"no shipped models in {weights_dir}")
        return 0
    print(f"{'board':<6} {'model':<7} {'kind':<15} {'grades':<10} {'params':>9}  {'test figures':<66} sha256")
    for c in cards:
        grades = f"{c['trained_grades'][0]}-{c['trained_grades'][-1]}" if c["trained_grades"] else "-"
        print(f"{c['board']:<6} {c['name']:<7} {c['kind']:<15} {grades:<10} {c['parameters']:>9,}  "
              f"{summary(c.get('figures') or {}):<66} {c['sha256'][:12]}")  # fmt: skip
    return 0


def summary(figures: dict) -> str:
    """The card's headline figures in one cell."""
    return ", ".join(f"{k} {v}" for k, v in (figures.get("headline") or {}).items())


def _figures(path: str) -> dict:
    """The --figures JSON object, or a one-line error naming the file."""
    from pathlib import Path

    from routegen.errors import RoutegenError

    try:
        figures = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise RoutegenError(f"--figures {path} is not valid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(figures, dict):
        raise RoutegenError(f"--figures {path} must hold a JSON object")
    return figures
