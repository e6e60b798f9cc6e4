"""Reading MoonBoard problems from the shared JSON Lines files, labelling them, and leak-free splits."""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from routegen.board import ANGLES
from routegen.errors import RoutegenError
from routegen.grades import FONT_TO_V, NUMBERED, V_GRADES, Grade, v_to_number
from routegen.paths import default_data_dir
from routegen.route import Route

MAIN_FILES = {"2016": "moonboard2016.jsonl.gz", "2017": "moonboard2017.jsonl.gz"}
V_ONLY_FILES = {"2016": "moonboard2016_vgrade_only.jsonl.gz"}
NOISY_FILES = {"2017": "moonboard2017_ocr_noisy.jsonl.gz"}


class DataError(RoutegenError):
    """A missing, unreadable or malformed data file."""


@dataclass(frozen=True)
class LabelScale:
    """Which grade a model predicts: `font` (numbered scale 6A..8B+, 16 classes) or `v` (V3..V14, 12 classes)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ("font", "v"):
            raise DataError(f"unknown label {self.name!r} (expected 'font' or 'v')")

    @property
    def names(self) -> list[str]:
        return list(NUMBERED) if self.name == "font" else [f"V{v}" for v in self.v_grades]

    @property
    def v_grades(self) -> list[int]:
        return [v for v in V_GRADES if FONT_TO_V[NUMBERED[0]] <= v <= FONT_TO_V[NUMBERED[-1]]]

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def class_of(self, grade: Grade | None, grade_v: int | None) -> int | None:
        """Class index of a problem, or None when it has no label on this scale."""
        if self.name == "font":
            return None if grade is None or grade.number is None else grade.number - 1
        v = grade.v if grade is not None else grade_v
        return self.v_grades.index(v) if v in self.v_grades else None

    def class_range(self, grade: Grade | None, grade_v: int | None) -> tuple[int, int] | None:
        """(lowest, highest) class a problem can be: one class when its grade is known on this scale, a range
        for a V-only problem on the Font scale (V5 -> 6C..6C+), None when it has no usable label."""
        cls = self.class_of(grade, grade_v)
        if cls is not None:
            return cls, cls
        if self.name != "font" or grade is not None or grade_v is None:
            return None
        fits = [i for i in range(self.num_classes) if self.v_of_class(i) == grade_v]
        return (fits[0], fits[-1]) if fits else None

    def number_of_class(self, index: int) -> int:
        """A class on the numbered scale 1..16 (a V class: the easiest Font grade of that V, V5 -> 6C = 5)."""
        return index + 1 if self.name == "font" else v_to_number(self.v_grades[index])

    def v_of_class(self, index: int) -> int:
        """The V grade of a class (for Font classes: the V of that Font grade)."""
        return FONT_TO_V[NUMBERED[index]] if self.name == "font" else self.v_grades[index]


@dataclass(frozen=True)
class Problem:
    id: str
    board: str
    angle: int
    route: Route
    grade: Grade | None  # Font grade; None for V-only problems
    grade_v: int
    source: str  # file stem
    repeats: int | None = None
    benchmark: bool | None = None


def read_jsonl(path: Path) -> Iterable[dict]:
    if not path.is_file():
        raise DataError(f"data file not found: {path} (set data.dir or ROUTEGEN_DATA_DIR; see data/README.md)")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as e:
                        raise DataError(f"corrupt data file {path}: line {lineno} is not JSON ({e.msg})") from None
    except (OSError, EOFError) as e:
        raise DataError(f"corrupt data file {path}: {e}") from None


def problem_from_record(record: dict, source: str = "") -> Problem:
    try:
        route = Route.from_record(record)
        grade = Grade.from_font(record["grade_font"]) if record.get("grade_font") else None
        return Problem(
            id=str(record["id"]),
            board=str(record["board"]),
            angle=int(record["angle"]),
            route=route,
            grade=grade,
            grade_v=int(record["grade_v"]) if record.get("grade_v") is not None else grade.v,
            source=source,
            repeats=record.get("repeats"),
            benchmark=record.get("benchmark"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise DataError(f"malformed problem {record.get('id', '?')} in {source or 'input'}: {e}") from None


def load_problems(
    data_dir: str | Path | None = None,
    board: str = "2016",
    angle: int = 40,
    label: str = "font",
    include_v_only: bool | None = None,
    include_noisy: bool = False,
) -> list[Problem]:
    """Problems of one board and angle that carry a label on the given scale, in file order.

    `include_v_only` defaults to True for V labels (the V-only file adds 6C/6C+ and 7B/7B+ problems). With
    Font labels its problems carry a class range (LabelScale.class_range) and only ever go to training.
    `include_noisy` adds the OCR-graded 2017 file (for generator pre-training; its grades are noisy).
    """
    board = str(board)
    if board not in MAIN_FILES:
        raise DataError(f"unknown board {board!r} (expected one of {', '.join(MAIN_FILES)})")
    if angle not in ANGLES[board]:
        raise DataError(f"board {board} has no problems at {angle} degrees (angles: {ANGLES[board]})")
    scale = LabelScale(label)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    files = [MAIN_FILES[board]]
    if (include_v_only if include_v_only is not None else label == "v") and board in V_ONLY_FILES:
        files.append(V_ONLY_FILES[board])
    if include_noisy and board in NOISY_FILES:
        files.append(NOISY_FILES[board])
    problems = []
    for name in files:
        source = name.removesuffix(".jsonl.gz")
        for record in read_jsonl(data_dir / name):
            p = problem_from_record(record, source)
            if p.angle == angle and scale.class_range(p.grade, p.grade_v) is not None:
                problems.append(p)
    return problems


def hold_set_key(route: Route) -> str:
    """Identity of a hold set regardless of roles: problems sharing it must land in one split."""
    return " ".join(sorted(str(h) for h in route.hold_set))


def split_problems(
    problems: list[Problem], label: str = "font", seed: int = 0, val: float = 0.1, test: float = 0.1
) -> dict[str, list[Problem]]:
    """Deterministic, grade-stratified, leak-free train / val / test split.

    Problems with identical hold sets form one group (never split apart); groups are shuffled with `seed`
    inside each grade stratum and cut by the fractions, so every grade keeps its share in every split.
    Problems known only as a grade range (V-only problems on the Font scale) are training data: val and test
    stay exactly the splits of the precisely graded problems, with or without them.
    """
    scale = LabelScale(label)
    groups: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        groups[hold_set_key(p.route)].append(p)
    strata: dict[int, list[str]] = defaultdict(list)
    out: dict[str, list[Problem]] = {"train": [], "val": [], "test": []}
    for key in sorted(groups):
        graded = [p for p in groups[key] if scale.class_of(p.grade, p.grade_v) is not None]
        if graded:
            groups[key] = graded  # a range-only duplicate of a graded hold set would leak; drop it
            strata[scale.class_of(graded[0].grade, graded[0].grade_v)].append(key)
        else:
            out["train"].extend(groups[key])
    rng = random.Random(seed)
    for stratum in sorted(strata):
        keys = strata[stratum]
        rng.shuffle(keys)
        n_test, n_val = round(len(keys) * test), round(len(keys) * val)
        for i, key in enumerate(keys):
            name = "test" if i < n_test else "val" if i < n_test + n_val else "train"
            out[name].extend(groups[key])
    for name in out:
        out[name].sort(key=lambda p: p.id)
    return out


def write_manifest(splits: dict[str, list[Problem]], path: str | Path, **meta) -> None:
    """The ids of every split (and how they were made), so any result can be reproduced."""
    from routegen.io import atomic_write_text

    body = {**meta, **{name: [p.id for p in ps] for name, ps in splits.items()}}
    atomic_write_text(path, json.dumps(body, indent=1) + "\n")
