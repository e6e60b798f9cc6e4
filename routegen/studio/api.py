"""Request bodies of the studio's JSON API (pydantic: FastAPI validates them and documents them on /docs).

Limits live here so that an oversized request is refused before any model runs: at most MAX_N routes per
request and MAX_HOLDS_IN holds per role. Holds and grades are strings checked by routegen's own parsers (in
to_route / to_grade), so their error messages are the one-line ones the CLI prints.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from routegen.board import load_board, parse_hold
from routegen.grades import Grade, parse_grade
from routegen.route import Route
from routegen.studio.service import MAX_N

MAX_HOLDS_IN = 20  # per role; more than any valid route (14 holds) so check can still say what is wrong
Board = Field("2016", pattern=r"^\d{4}$", description="2016 (MoonBoard 2016) or 2017 (Masters 2017)")
HoldList = Field(default_factory=list, max_length=MAX_HOLDS_IN, description='holds like "H18"')


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class RouteIn(Strict):
    start: list[str] = HoldList
    middle: list[str] = HoldList
    end: list[str] = HoldList

    def to_route(self, board: str) -> Route:
        """The route, every hold parsed and on the board (a HoldError naming the first bad one)."""
        layout = load_board(board)
        return Route(
            *(tuple(layout.check(parse_hold(h)) for h in group) for group in (self.start, self.middle, self.end))
        )


class RouteRequest(Strict):
    board: str = Board
    route: RouteIn


class GenerateRequest(Strict):
    board: str = Board
    model: str = Field("ar", max_length=16, description="ar (transformer) or cgan (GAN)")
    grade: str = Field("7A", max_length=8, description="Font (7A), V (V6) or number (7)")
    n: int = Field(6, ge=1, le=MAX_N, description=f"how many routes (1-{MAX_N})")
    seed: int | None = Field(None, ge=0, lt=2**31, description="omit for new routes on every call")

    def to_grade(self) -> Grade:
        return parse_grade(self.grade)


class CompleteRequest(GenerateRequest):
    route: RouteIn = Field(description="the holds placed so far, kept in every completion")


class LibraryIn(Strict):
    name: str = Field("untitled", max_length=200)
    board: str = Board
    angle: int = Field(40, ge=0, le=90)
    grade_font: str | None = Field(None, max_length=8, description="the setter's grade")
    critic_grade: str | None = Field(None, max_length=8)
    notes: str = Field("", max_length=5000)
    start: list[str] = HoldList
    middle: list[str] = HoldList
    end: list[str] = HoldList


class LibraryPatch(Strict):
    name: str | None = Field(None, max_length=200)
    grade_font: str | None = Field(None, max_length=8)
    critic_grade: str | None = Field(None, max_length=8)
    notes: str | None = Field(None, max_length=5000)
    start: list[str] | None = Field(None, max_length=MAX_HOLDS_IN)
    middle: list[str] | None = Field(None, max_length=MAX_HOLDS_IN)
    end: list[str] | None = Field(None, max_length=MAX_HOLDS_IN)
