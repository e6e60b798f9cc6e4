"""Grade routes with a trained grader: predicted Font / V grade, grade number and the top-3 probabilities.

Routes come as arguments (any notation `routegen check` accepts) and/or from --input: a .jsonl or .jsonl.gz file whose rows
are data-schema objects ({"start": [...], "middle": [...], "end": [...], ...}) or route strings. Each row comes
back with its own fields plus pred_grade_font, pred_grade_v, pred_grade_number, pred_expected_number,
pred_confidence and pred_top3. A table on a terminal, JSON lines otherwise; --output writes JSON lines.
"""

from __future__ import annotations

import argparse
import json
import sys

from routegen.commands.args import shipped_or
from routegen.errors import RoutegenError

HELP = "grade routes with a trained grader checkpoint"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("routes", nargs="*", metavar="ROUTE", help='e.g. "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]"')
    p.add_argument("--ckpt", help="grader checkpoint file or run directory (default: the shipped critic of --board)")
    p.add_argument("--input", help="routes.jsonl or .jsonl.gz: data-schema rows or route strings")
    p.add_argument("--output", help="write JSON lines here (atomically) instead of stdout")
    p.add_argument("--board", help="2016 or 2017 (default: the grader's; 2016 for the shipped critic)")
    p.add_argument("--strict", action="store_true",
                   help="refuse routes that `routegen check` calls invalid (default: grade them, one warning each)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.commands.args import board_known_early, check_holds_on, parse_sources, route_sources, warn_invalid
    from routegen.io import atomic_write_jsonl, check_output_file

    if not args.routes and not args.input:
        raise RoutegenError("no routes: give ROUTE arguments or --input routes.jsonl")
    if args.output:
        check_output_file(args.output)
    board = board_known_early(args.board, args.ckpt)
    rows = route_sources(args.routes, args.input)
    routes = parse_sources(rows, board)  # every argument checked before the grader loads (seconds)
    if board is not None:
        warn_invalid("grade", board, rows, routes, args.strict)
    from routegen.grader.critic import Critic

    critic = Critic.load(shipped_or(args.ckpt, args.board, "critic"))
    if args.board and str(args.board) != critic.board:
        raise RoutegenError(f"board {args.board!r} does not match the grader's board {critic.board!r}")
    if board is None:
        board = load_board(critic.board)
        check_holds_on(board, rows, routes)
        warn_invalid("grade", board, rows, routes, args.strict)
    out = [{**row, **_fields(s)} for (_, row), s in zip(rows, score(critic, routes))]
    if args.output:
        atomic_write_jsonl(args.output, out)
    elif sys.stdout.isatty():
        _print_table(out, routes)
    else:
        for r in out:
            print(json.dumps(r))
    return 0


def score(critic, routes: list, chunk: int = 4096) -> list:
    """critic.score in chunks, with a progress counter on a terminal for long inputs."""
    from routegen.progress import Progress

    scores = []
    with Progress(len(routes), "routes graded") as progress:
        for i in range(0, len(routes), chunk):
            scores += critic.score(routes[i : i + chunk])
            progress.advance(len(routes[i : i + chunk]))
    return scores


def _fields(s) -> dict:
    return {
        "pred_grade_font": s.grade.font,
        "pred_grade_v": f"V{s.v}",
        "pred_grade_number": s.number,
        "pred_expected_number": round(s.expected, 3),
        "pred_confidence": round(s.confidence, 4),
        "pred_top3": [[name, round(p, 4)] for name, p in s.top3],
    }


def _print_table(out: list[dict], routes) -> None:
    from rich.console import Console
    from rich.table import Table

    from routegen.route import format_route

    table = Table("route", "Font", "V", "expected", "confidence", "top 3")
    for r, route in zip(out, routes):
        top = ", ".join(f"{n} {p:.0%}" for n, p in r["pred_top3"])
        table.add_row(format_route(route), r["pred_grade_font"], r["pred_grade_v"],
                      f"{r['pred_expected_number']:.2f}", f"{r['pred_confidence']:.0%}", top)  # fmt: skip
    Console().print(table)
