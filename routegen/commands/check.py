"""Check routes against a board's rules and show them in every notation."""

from __future__ import annotations

import argparse

from routegen.board import load_board
from routegen.route import check_route, format_json, format_route, format_row_first, parse_route

HELP = "check routes for validity and print them in every notation"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "routes", nargs="+", metavar="ROUTE", help='e.g. "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]" or "C5 E6 | E8 | D18"'
    )
    p.add_argument("--board", default="2016", help="2016 or 2017 (default 2016)")


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    bad = 0
    for text in args.routes:
        route, grade = parse_route(text)
        validity = check_route(route, board)
        bad += not validity.ok
        print(format_route(route))
        print(f"  {format_row_first(route, grade)}")
        print(f"  {format_json(route, board.name)}")
        print(f"  {validity}")
    return 1 if bad else 0
