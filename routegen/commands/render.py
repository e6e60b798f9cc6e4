"""Draw routes on the board grid as PNGs (start green, middle blue, end red; the board's holds as grey dots).

Example:
  routegen render "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H], Grade: 5" "C5 E6 | E8 F11 | D18" --png out/
"""

from __future__ import annotations

import argparse

from routegen.errors import RoutegenError

HELP = "draw routes as PNG pictures of the board"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("routes", nargs="+", metavar="ROUTE", help='e.g. "[18H, 17G, 15F, 5H]" or "C5 E6 | E8 | D18"')
    p.add_argument("--png", required=True, metavar="DIR",
                   help="directory for route_NNN.png; route_*.png files an earlier run left there are removed")  # fmt: skip
    p.add_argument("--board", default="2016", help="2016 or 2017 (default 2016)")


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.io import check_output_dir
    from routegen.render import remove_stale_pngs, save_route_pngs
    from routegen.route import check_route, format_route, parse_route

    check_output_dir(args.png)
    board = load_board(args.board)
    parsed = []
    for i, text in enumerate(args.routes, 1):
        try:
            parsed.append(parse_route(text, board))
        except RoutegenError as e:
            raise RoutegenError(f"argument {i}: {e}") from None
    titles = []
    for route, grade in parsed:
        validity = check_route(route, board)
        titles.append(" ".join(filter(None, [grade.font if grade else "", "" if validity.ok else "(invalid)"])))
    paths = save_route_pngs([r for r, _ in parsed], board, args.png, titles)
    remove_stale_pngs(args.png, paths)
    for (route, _), path in zip(parsed, paths):
        print(f"{path}  {format_route(route)}")
    return 0
