"""routegen: generative route design for climbing training boards (MoonBoard)."""

from routegen.board import Board, Hold, load_board, parse_hold
from routegen.grades import Grade, parse_grade
from routegen.route import Route, check_route, format_route, format_row_first, parse_route

__all__ = [
    "Board", "Grade", "Hold", "Route", "check_route", "format_route", "format_row_first", "load_board",
    "parse_grade", "parse_hold", "parse_route",
]  # fmt: skip
