"""Argument types shared by the commands: grades are parsed here, at the edge, once (argparse `type=`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection

from routegen.errors import RoutegenError
from routegen.grades import FONT_GRADES, Grade, parse_grade


def _typed(parse: Callable) -> Callable:
    """An argparse type from a parser raising RoutegenError: its message becomes the one-line usage error."""

    def convert(text: str):
        try:
            return parse(text)
        except RoutegenError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = parse.__name__
    return convert


def _numbered(text: str) -> Grade:
    g = parse_grade(text)
    if g.number is None:
        raise RoutegenError(f"grade {g.font} is off routegen's scale 6A ... 8B+")
    return g


def _grade_choices(text: str) -> tuple[Grade, ...]:
    """A Font grade or number: that grade; a V grade: every Font grade of it on the scale, easiest first
    (V4 = 6B or 6B+)."""
    g = _numbered(text)
    if not text.strip().upper().startswith("V"):
        return (g,)
    same = tuple(Grade(i) for i in range(len(FONT_GRADES)) if Grade(i).v == g.v and Grade(i).number is not None)
    return same or (g,)


def _grade_list(text: str) -> list[Grade]:
    grades = [_numbered(x) for x in text.split(",") if x.strip()]
    if not grades:
        raise RoutegenError(f"no grades given in {text!r}")
    return grades


def _grade_choices_list(text: str) -> list[tuple[Grade, ...]]:
    """Comma-separated grades, each as _grade_choices reads it (`6B+,7A,V8`)."""
    parts = [_grade_choices(x) for x in text.split(",") if x.strip()]
    if not parts:
        raise RoutegenError(f"no grades given in {text!r}")
    return parts


grade_choices = _typed(_grade_choices)
grade_choices_list = _typed(_grade_choices_list)
grade_list = _typed(_grade_list)


def domain(name: str) -> Callable:
    """The argparse type of option `name` (routegen/options.py DOMAINS: its domain is defined there, once)."""
    from routegen.options import DOMAINS

    convert = _typed(DOMAINS[name].parse)
    convert.__name__ = name
    return convert


def pick_trained(choices: tuple[Grade, ...], trained: Collection[int]) -> Grade:
    """The easiest of the grades a --grade stands for that the model was trained on (else the first, which
    the model's grade check then names)."""
    return next((g for g in choices if g.number in trained), choices[0])


def shipped_or(ckpt: str | None, board: str | None, name: str) -> str:
    """--ckpt as given; else the card of the shipped `name` model for --board (default 2016), or a one-line
    error naming what is shipped."""
    if ckpt:
        return ckpt
    from routegen.shipped import shipped

    return str(shipped(board or "2016", name))


def shipped_critic(board: str) -> str | None:
    """The shipped critic's card for a board, or None where none is shipped (then routes go ungraded)."""
    from routegen.shipped import card_path

    path = card_path(board, "critic")
    return str(path) if path.is_file() else None


def route_sources(texts: list[str], input_path: str | None) -> list[tuple[str, dict]]:
    """(where it came from, row) for each ROUTE argument ("argument 2") and --input row ("FILE: line 7")."""
    from routegen.io import read_numbered_rows

    rows = [(f"argument {i}", {"route": text}) for i, text in enumerate(texts, 1)]
    if input_path:
        rows += [(f"{input_path}: line {n}", row) for n, row in read_numbered_rows(input_path)]
    return rows


def parse_sources(rows: list[tuple[str, dict]], board=None) -> list:
    """The Route of each row (with a board: every hold on it); a row that does not parse is a RoutegenError
    naming where it came from."""
    from routegen.route import Route

    routes = []
    for source, row in rows:
        try:
            routes.append(Route.from_row(row, board)[0])
        except RoutegenError as e:
            raise RoutegenError(f"{source}: {e}") from None
    return routes


def check_holds_on(board, rows: list[tuple[str, dict]], routes: list) -> None:
    """Every hold of every route on `board`, else a RoutegenError naming the row."""
    for (source, _), route in zip(rows, routes):
        try:
            for h in route.holds:
                board.check(h)
        except RoutegenError as e:
            raise RoutegenError(f"{source}: {e}") from None


def warn_invalid(command: str, board, rows: list[tuple[str, dict]], routes: list, strict: bool) -> int:
    """One line on stderr per route that breaks a rule of routegen.route.check_route (naming the row, the route
    and the rules); with `strict` the first is a RoutegenError instead. Returns how many were invalid."""
    import sys

    from routegen.route import check_route, format_route

    bad = 0
    for (source, _), route in zip(rows, routes):
        validity = check_route(route, board)
        if validity.ok:
            continue
        bad += 1
        text = f"{source}: {format_route(route)} is not a valid route ({', '.join(validity.reasons)}: {validity})"
        if strict:
            raise RoutegenError(f"{text}; drop --strict to grade it anyway")
        print(f"routegen {command}: warning: {text}", file=sys.stderr)
    return bad


def parse_fixed(text: str | None, board=None):
    """--fixed holds as a Route (with a board: every hold on it and routegen.route.check_fixed's rules), or a
    RoutegenError naming --fixed."""
    if not text:
        return None
    from routegen.route import check_fixed, parse_route

    try:
        fixed = parse_route(text, board)[0]
        check_fixed(fixed, board)  # without a board: every rule but "on the board"
    except RoutegenError as e:
        raise RoutegenError(f"--fixed {text!r}: {e}") from None
    return fixed


def board_known_early(board: str | None, ckpt: str | None):
    """The Board a command will use, where it is known before any model loads (--board, or the shipped models'
    2016 without --ckpt), so routes and fixed holds are checked first; None where only the model tells (or
    --board names no board: loading then says so, naming what is shipped)."""
    from routegen.board import ANGLES, load_board

    name = board or (None if ckpt else "2016")
    return load_board(name) if name is not None and str(name) in ANGLES else None
