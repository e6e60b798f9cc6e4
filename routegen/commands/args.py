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


grade_choices = _typed(_grade_choices)
grade_list = _typed(_grade_list)


def pick_trained(choices: tuple[Grade, ...], trained: Collection[int]) -> Grade:
    """The easiest of the grades a --grade stands for that the model was trained on (else the first, which
    the model's grade check then names)."""
    return next((g for g in choices if g.number in trained), choices[0])
