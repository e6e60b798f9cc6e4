"""Grades: Font (5+ ... 8C+), V grades, and routegen's numbered scale 1 (6A) ... 16 (8B+).

Everything is stored as a Font grade; V and numbers are views of it. The V table is MoonBoard's (see the
data README): several Font grades share one V grade, so V -> Font picks the lowest Font grade of that V.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routegen.errors import RoutegenError

FONT_GRADES = (
    "5+", "6A", "6A+", "6B", "6B+", "6C", "6C+", "7A", "7A+", "7B", "7B+", "7C", "7C+",
    "8A", "8A+", "8B", "8B+", "8C", "8C+",
)  # fmt: skip
# The numbered scale covers 6A .. 8B+ (what MoonBoard problems are graded at on the 40 degree boards).
NUMBERED = FONT_GRADES[1:17]
NUM_GRADES = len(NUMBERED)  # 16
FONT_TO_V = {
    "5+": 2, "6A": 3, "6A+": 3, "6B": 4, "6B+": 4, "6C": 5, "6C+": 5, "7A": 6, "7A+": 7, "7B": 8, "7B+": 8,
    "7C": 9, "7C+": 10, "8A": 11, "8A+": 12, "8B": 13, "8B+": 14, "8C": 15, "8C+": 16,
}  # fmt: skip
V_GRADES = sorted(set(FONT_TO_V.values()))


class GradeError(RoutegenError):
    """A grade string that is not a Font grade, a V grade or a number on routegen's scale."""


@dataclass(frozen=True, order=True)
class Grade:
    """A Font grade; ordered from easiest to hardest."""

    index: int  # position in FONT_GRADES

    @property
    def font(self) -> str:
        return FONT_GRADES[self.index]

    @property
    def v(self) -> int:
        return FONT_TO_V[self.font]

    @property
    def number(self) -> int | None:
        """1 (6A) ... 16 (8B+); None for grades off the numbered scale (5+, 8C, 8C+)."""
        return self.index if 1 <= self.index <= NUM_GRADES else None

    @classmethod
    def from_font(cls, font: str) -> Grade:
        key = font.strip().upper()
        if key not in FONT_GRADES:
            raise GradeError(f"unknown Font grade {font!r} (expected one of {', '.join(FONT_GRADES)})")
        return cls(FONT_GRADES.index(key))

    @classmethod
    def from_number(cls, number: int) -> Grade:
        if not 1 <= number <= NUM_GRADES:
            raise GradeError(f"grade number {number} is off the scale 1 (6A) ... {NUM_GRADES} (8B+)")
        return cls(number)

    @classmethod
    def from_v(cls, v: int) -> Grade:
        """The easiest Font grade with this V grade (V5 -> 6C)."""
        for i, font in enumerate(FONT_GRADES):
            if FONT_TO_V[font] == v:
                return cls(i)
        raise GradeError(f"unknown V grade V{v} (expected V{V_GRADES[0]} ... V{V_GRADES[-1]})")

    def __str__(self) -> str:
        return self.font


_V_RE = re.compile(r"^V(\d{1,2})$")
_FONT_RE = re.compile(r"^[5-8][ABC]?\+?$")


def parse_grade(text: str | int | Grade) -> Grade:
    """Parse `6b+`, `6B+`, `V4`, `5` (numbered scale) or a Grade; anything else is a GradeError."""
    if isinstance(text, Grade):
        return text
    if isinstance(text, int) and not isinstance(text, bool):
        return Grade.from_number(text)
    s = str(text).strip().upper()
    if s.isdigit():
        return Grade.from_number(int(s))
    if m := _V_RE.match(s):
        return Grade.from_v(int(m.group(1)))
    if _FONT_RE.match(s) and s in FONT_GRADES:
        return Grade.from_font(s)
    raise GradeError(f"unknown grade {str(text)!r}: use a Font grade (6B+), a V grade (V4) or a number 1-16")


def v_to_number(v: int) -> int:
    """The numbered-scale value of the easiest Font grade with this V grade (for V-labelled data)."""
    number = Grade.from_v(v).number
    if number is None:
        raise GradeError(f"V{v} is off the numbered scale")
    return number
