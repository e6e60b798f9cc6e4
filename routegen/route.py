"""Routes: holds in start / middle / end roles, parsed from any notation climbers use, checked, formatted.

Notations accepted by `parse_route`:
  - `C5 E6 | E8 F11 C13 D15 | D18`        start | middle | end, roles given (our display form)
  - `C5, E6, E8, F11, D18` or a list       no roles: inferred
  - `[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H], Grade: 5`   the row-first notes (grade optional)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from routegen.board import ROWS, Board, Hold, HoldError, cell_distance, consecutive_cells, parse_hold, row_order
from routegen.errors import RoutegenError
from routegen.grades import Grade, parse_grade

MAX_START_ROW = 6
MIN_HOLDS, MAX_HOLDS = 3, 14
# Largest vertical gap (rows) between consecutive holds we call climbable. Measured on moonboard2016.jsonl.gz:
# 99.9% of the 20,371 problems have a largest gap <= 8 rows (gap 9+: 19 problems); README.md, Domain.
MAX_ROW_GAP = 8
ROLES = ("start", "middle", "end")
# Row 18 is for end holds only: none of the 20,371 moonboard2016 problems (nor of moonboard2017's 12,293) has a
# middle hold there (only the OCR-noisy 2017 file does, 378 of 26,617); check_route's "middle_top" rule.


class RouteError(RoutegenError):
    """A route that cannot be parsed."""


class FixedHoldsError(RoutegenError):
    """Fixed holds (route completion) that no valid route can contain."""


@dataclass(frozen=True)
class Route:
    start: tuple[Hold, ...]
    middle: tuple[Hold, ...]
    end: tuple[Hold, ...]

    def __post_init__(self) -> None:
        for name in ROLES:  # canonical order: bottom to top, then left to right
            object.__setattr__(self, name, tuple(sorted(getattr(self, name), key=row_order)))

    @property
    def holds(self) -> tuple[Hold, ...]:
        return self.start + self.middle + self.end

    @property
    def hold_set(self) -> frozenset[Hold]:
        return frozenset(self.holds)

    def roles(self) -> Iterable[tuple[str, Hold]]:
        for name in ROLES:
            for h in getattr(self, name):
                yield name, h

    @classmethod
    def from_holds(cls, holds: Iterable[Hold]) -> Route:
        """Infer roles: row-18 holds end; the lowest hold starts, and so does the second lowest if in rows <= 6.

        Measured: the inferred roles equal the data's for 81.5% of moonboard2016 problems (end holds: 100%) (bench/data_stats.py).
        """
        holds = sorted(holds, key=row_order)  # a hold given twice stays twice: check_route reports it
        end = [h for h in holds if h.row == ROWS]
        rest = [h for h in holds if h.row != ROWS]
        start = rest[:1]
        if len(rest) >= 2 and rest[1].row <= MAX_START_ROW and rest[0].row <= MAX_START_ROW:
            start = rest[:2]
        middle = [h for h in rest if h not in start]
        return cls(tuple(start), tuple(middle), tuple(end))

    @classmethod
    def from_record(cls, record: dict) -> Route:
        """From a row in the data schema (`start`, `middle`, `end` lists of `H18` strings)."""
        try:
            parts = [tuple(parse_hold(h) for h in record.get(name) or ()) for name in ROLES]
        except HoldError as e:
            raise RouteError(f"{e} (record {record['id']})" if record.get("id") else str(e)) from None
        return cls(*parts)

    @classmethod
    def from_row(cls, row: dict, board: Board | None) -> tuple[Route, Grade | None]:
        """An input row: a data-schema record (`start` / `middle` / `end`) or {"route": text} in any notation,
        with the Font grade it carries (`grade_font`, else one written in the text), if any. Holds must be on
        the board (when one is given)."""
        grade = parse_grade(str(row["grade_font"])) if row.get("grade_font") else None
        if "route" in row and not any(k in row for k in ROLES):
            if not isinstance(row["route"], str):
                raise RouteError(f"'route' must be a string in some route notation, not {row['route']!r}")
            route, written = parse_route(row["route"], board)
            return route, grade or written
        for name in ROLES:
            holds = row.get(name)
            if holds is not None and not (isinstance(holds, list) and all(isinstance(h, str) for h in holds)):
                raise RouteError(f'{name!r} must be a list of holds like ["A5"], not {holds!r}')
        route = cls.from_record(row)
        if not route.holds:
            raise RouteError(f"row {row.get('id', '')!r} has no holds".replace(" ''", ""))
        for h in route.holds if board is not None else ():
            board.check(h)
        return route, grade

    def to_record(self) -> dict:
        return {name: [str(h) for h in getattr(self, name)] for name in ROLES}

    def __str__(self) -> str:
        return format_route(self)


def move_lengths(route: Route) -> list[float]:
    """Euclidean distances (grid cells) between consecutive holds, bottom to top, then left to right."""
    return [cell_distance(a, b) for a, b in consecutive_cells(h.cell for h in route.hold_set)]


def format_route(route: Route) -> str:
    """`C5 E6 | E8 F11 C13 D15 | D18` (start | middle | end)."""
    return " | ".join(" ".join(str(h) for h in getattr(route, name)) for name in ROLES)


def format_row_first(route: Route, grade: Grade | None = None) -> str:
    """`[18H, 17G, ..., 5H]` top to bottom, as in the oldest notes; `, Grade: N` when a grade is given."""
    holds = sorted(route.holds, key=lambda h: (-h.row, h.col))
    text = "[" + ", ".join(h.row_first for h in holds) + "]"
    if grade is not None and grade.number is not None:
        text += f", Grade: {grade.number}"
    return text


def format_json(route: Route, board: str = "2016", angle: int = 40, **extra) -> str:
    return json.dumps({"board": board, "angle": angle, **route.to_record(), **extra})


_GRADE_SUFFIX = re.compile(r",?\s*grade\s*[:=]\s*(\S+)\s*$", re.IGNORECASE)


def parse_route(text: str | Sequence[str], board: Board | None = None) -> tuple[Route, Grade | None]:
    """Parse any accepted notation (module docstring) into a Route and the grade it carries, if any.

    With a board, every hold must be on it (a HoldError names the first one that is not).
    """
    grade = None
    if isinstance(text, str):
        s = text.strip()
        if m := _GRADE_SUFFIX.search(s):
            grade = parse_grade(m.group(1))
            s = s[: m.start()]
        s = s.strip().strip("[]")
        if "|" in s:
            groups = s.split("|")
            if len(groups) != 3:
                raise RouteError(f"route {text!r}: with roles, write start | middle | end (three groups)")
            route = Route(*(tuple(_holds(g)) for g in groups))
        else:
            route = Route.from_holds(_holds(s))
    else:
        route = Route.from_holds(parse_hold(h) for h in text)
    if not route.holds:
        raise RouteError(f"route {text!r} has no holds")
    if board is not None:
        for h in route.holds:
            board.check(h)
    return route, grade


def _holds(text: str) -> list[Hold]:
    return [parse_hold(tok) for tok in re.split(r"[\s,;]+", text.strip()) if tok]


@dataclass
class Validity:
    """Which rules a route breaks: `reasons` maps a rule name to a human sentence."""

    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return "valid" if self.ok else "; ".join(self.reasons.values())


VALIDITY_RULES = ("on_board", "start", "end", "size", "duplicates", "roles", "gap", "middle_top")


def check_route(route: Route, board: Board, max_row_gap: int = MAX_ROW_GAP) -> Validity:
    """Check every rule; a route is valid when it breaks none. Rule names are VALIDITY_RULES."""
    v = Validity()
    off = [str(h) for h in route.holds if h not in board]
    if off:
        v.reasons["on_board"] = f"holds not on the {board.title}: {', '.join(off)}"
    if not 1 <= len(route.start) <= 2:
        v.reasons["start"] = f"{len(route.start)} start holds (need 1-2)"
    elif high := [str(h) for h in route.start if h.row > MAX_START_ROW]:
        v.reasons["start"] = f"start holds above row {MAX_START_ROW}: {', '.join(high)}"
    if not 1 <= len(route.end) <= 2:
        v.reasons["end"] = f"{len(route.end)} end holds (need 1-2)"
    elif low := [str(h) for h in route.end if h.row != ROWS]:
        v.reasons["end"] = f"end holds not on row {ROWS}: {', '.join(low)}"
    n = len(route.hold_set)
    if not MIN_HOLDS <= n <= MAX_HOLDS:
        v.reasons["size"] = f"{n} holds (need {MIN_HOLDS}-{MAX_HOLDS})"
    for name in ROLES:
        group = getattr(route, name)
        if len(set(group)) != len(group):
            v.reasons["duplicates"] = f"a hold repeated among the {name} holds"
    shared = [str(h) for h in sorted(route.hold_set) if sum(h in getattr(route, r) for r in ROLES) > 1]
    if shared:
        v.reasons["roles"] = f"holds in two roles: {', '.join(shared)}"
    if top := [str(h) for h in route.middle if h.row == ROWS]:
        v.reasons["middle_top"] = f"middle holds on row {ROWS} (only end holds go there): {', '.join(top)}"
    rows = sorted({h.row for h in route.holds})
    gaps = [(a, b) for a, b in zip(rows, rows[1:]) if b - a > max_row_gap]
    if gaps:
        a, b = gaps[0]
        v.reasons["gap"] = f"a gap of {b - a} rows between rows {a} and {b} (at most {max_row_gap})"
    return v


def check_fixed(fixed: Route, board: Board | None) -> None:
    """Fixed holds some valid route can contain, else a FixedHoldsError naming the first contradiction: every
    hold on the board, none repeated or in two roles, starts in rows <= 6 and ends on row 18 (at most 2 each),
    no middle hold on row 18, and room within MAX_HOLDS for the start and end holds still to add. Decoders check once per route."""
    for h in fixed.holds if board is not None else ():  # no board: every rule but this one (checked later)
        if h not in board:
            raise FixedHoldsError(f"fixed hold {h} is not on the {board.title}")
    if len(fixed.holds) != len(fixed.hold_set):
        twice = sorted({h for h in fixed.holds if fixed.holds.count(h) > 1})
        raise FixedHoldsError(f"fixed hold {twice[0]} is repeated or given in two roles")
    if high := [h for h in fixed.start if h.row > MAX_START_ROW]:
        raise FixedHoldsError(f"fixed start hold {high[0]} is above row {MAX_START_ROW}")
    if low := [h for h in fixed.end if h.row != ROWS]:
        raise FixedHoldsError(f"fixed end hold {low[0]} is not on row {ROWS}")
    if top := [h for h in fixed.middle if h.row == ROWS]:
        raise FixedHoldsError(f"fixed middle hold {top[0]} is on row {ROWS}, where only end holds go")
    for name, group in (("start", fixed.start), ("end", fixed.end)):
        if len(group) > 2:
            raise FixedHoldsError(f"{len(group)} fixed {name} holds (at most 2)")
    n = len(fixed.hold_set)
    if n > MAX_HOLDS:
        raise FixedHoldsError(f"{n} fixed holds (a route has at most {MAX_HOLDS})")
    if n + (not fixed.start) + (not fixed.end) > MAX_HOLDS:
        raise FixedHoldsError(f"{n} fixed holds leave no room for a start and an end (a route has at most {MAX_HOLDS})")
