"""Share links: board, holds and grade in a URL fragment, e.g. `#b=2016&g=7A&r=C5.E6|E8.F11|D18`.

Holds within a role are joined by `.` and roles by `|` so the fragment needs no percent-encoding and stays
readable. static/codec.js mirrors encode/decode; tests check both agree on the same strings.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from routegen.board import load_board, parse_hold
from routegen.errors import RoutegenError
from routegen.grades import Grade, parse_grade
from routegen.route import ROLES, Route


def encode(board: str, route: Route, grade: Grade | None = None) -> str:
    """The fragment (without '#') for a route on a board, with its grade when known."""
    parts = [f"b={board}"]
    if grade is not None:
        parts.append(f"g={grade.font.replace('+', 'p')}")  # '+' would read as a space in a query string
    parts.append("r=" + "|".join(".".join(str(h) for h in getattr(route, role)) for role in ROLES))
    return "&".join(parts)


def decode(fragment: str) -> tuple[str, Route, Grade | None]:
    """(board, route, grade) from a fragment; a bad board, hold or grade is a RoutegenError naming it."""
    fields = dict(parse_qsl(fragment.lstrip("#"), keep_blank_values=True))
    board = fields.get("b", "2016")
    layout = load_board(board)
    groups = fields.get("r", "").split("|")
    if len(groups) != 3:
        raise RoutegenError(f"share link route {fields.get('r', '')!r}: expected start|middle|end")
    route = Route(*(tuple(layout.check(parse_hold(h)) for h in g.split(".") if h) for g in groups))
    grade = parse_grade(fields["g"].replace("p", "+")) if fields.get("g") else None
    return board, route, grade
