"""MoonBoard geometry: holds, their notation, and the boards' real hold layouts."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from routegen.errors import RoutegenError

ROWS = 18
COLS = 11
COLUMNS = "ABCDEFGHIJK"
NUM_CELLS = ROWS * COLS  # 198 grid cells, numbered row-major from the bottom row (Hold.cell)
ANGLES = {"2016": (40,), "2017": (40, 25)}
BOARD_NAMES = {"2016": "MoonBoard 2016", "2017": "MoonBoard Masters 2017"}


class HoldError(RoutegenError):
    """A hold that cannot be parsed or is not on the board."""


class Hold(NamedTuple):
    col: int  # 0 (A) ... 10 (K)
    row: int  # 1 (bottom) ... 18 (top)

    def __str__(self) -> str:
        return f"{COLUMNS[self.col]}{self.row}"

    @property
    def row_first(self) -> str:
        return f"{self.row}{COLUMNS[self.col]}"

    @property
    def cell(self) -> int:
        """Flat index into the 18 x 11 grid, row-major from the bottom row."""
        return (self.row - 1) * COLS + self.col


_COL_FIRST = re.compile(r"^([A-K])(\d{1,2})$")
_ROW_FIRST = re.compile(r"^(\d{1,2})([A-K])$")


def parse_hold(text: str) -> Hold:
    """`H18` or `18H`, any case; rows 1-18 and columns A-K, else a HoldError naming the text."""
    s = str(text).strip().upper()
    m = _COL_FIRST.match(s)
    if m:
        col, row = m.group(1), int(m.group(2))
    elif m := _ROW_FIRST.match(s):
        row, col = int(m.group(1)), m.group(2)
    else:
        raise HoldError(f"unknown hold {str(text)!r}: write it as column A-K and row 1-18, e.g. H18 or 18H")
    if not 1 <= row <= ROWS:
        raise HoldError(f"unknown hold {str(text)!r}: row {row} is off the board (rows 1-{ROWS})")
    return Hold(COLUMNS.index(col), row)


def hold_from_cell(cell: int) -> Hold:
    return Hold(cell % COLS, cell // COLS + 1)


def cell_row(cell: int) -> int:
    return cell // COLS + 1


def row_order(hold: Hold) -> tuple[int, int]:
    """Sort key: bottom to top, then left to right (the same order as Hold.cell)."""
    return hold.row, hold.col


def cell_distance(a: int, b: int) -> float:
    """Euclidean distance in grid cells between two cells: the length of a move between them."""
    return math.hypot(a % COLS - b % COLS, a // COLS - b // COLS)


def consecutive_cells(cells: Iterable[int]) -> list[tuple[int, int]]:
    """The moves of a hold set: pairs of consecutive cells bottom to top, then left to right."""
    ordered = sorted(cells)  # cell order is row order
    return list(zip(ordered, ordered[1:]))


def default_reference_dir() -> Path:
    from routegen.paths import default_data_dir

    return default_data_dir() / "reference"


@dataclass(frozen=True)
class Board:
    """One board setup: which grid positions carry a hold, and each hold's orientation."""

    name: str  # "2016" or "2017"
    holds: tuple[Hold, ...]  # sorted by row, then column
    orientation: dict[Hold, str]

    @property
    def title(self) -> str:
        return BOARD_NAMES[self.name]

    @property
    def angles(self) -> tuple[int, ...]:
        return ANGLES[self.name]

    def __contains__(self, hold: Hold) -> bool:
        return hold in self.orientation

    def check(self, hold: Hold) -> Hold:
        if hold not in self:
            raise HoldError(f"hold {hold} is not on the {self.title} (no hold is set there)")
        return hold

    def cell_mask(self) -> list[bool]:
        """True for the grid cells (Hold.cell order) that carry a hold."""
        mask = [False] * NUM_CELLS
        for h in self.holds:
            mask[h.cell] = True
        return mask

    def __hash__(self) -> int:
        return hash(self.name)


@cache
def load_board(name: str | int = "2016", reference_dir: str | Path | None = None) -> Board:
    """The board's hold layout from `reference/hold_positions_<name>.csv` (number, position, orientation)."""
    name = str(name)
    if name not in ANGLES:
        raise HoldError(f"unknown board {name!r} (expected one of {', '.join(ANGLES)})")
    path = Path(reference_dir or default_reference_dir()) / f"hold_positions_{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"board layout file not found: {path}")
    orientation: dict[Hold, str] = {}
    with path.open(newline="") as f:
        for line in csv.reader(f):
            if len(line) >= 2 and line[1].strip():
                orientation[parse_hold(line[1])] = line[2].strip() if len(line) > 2 else ""
    holds = tuple(sorted(orientation, key=row_order))
    return Board(name=name, holds=holds, orientation=orientation)
