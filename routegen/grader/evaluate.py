"""What scoring a trained grader needs: labelled routes (its own split, rebuilt from the checkpoint, or a file)
and its class probabilities of them. `routegen evaluate` and `routegen calibrate` build on these."""

from __future__ import annotations

from pathlib import Path

import torch

from routegen.board import load_board
from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.grades import Grade
from routegen.io import at_line, read_numbered_rows
from routegen.route import Route


def grader_probs(module, routes: list[Route], batch: int = 1024) -> torch.Tensor:
    """(N, C) the grader's class probabilities of routes, in batches (no gradients)."""
    with torch.no_grad():
        return torch.cat([module.probs(routes_to_grids(routes[i : i + batch])) for i in range(0, len(routes), batch)])


def split_data(module, split: str, data_dir: str | Path | None = None) -> tuple[list[Route], list[int]]:
    """Routes and true classes of the split the grader was trained with, rebuilt from the data settings saved
    in its checkpoint."""
    from routegen.data import load_problems, split_problems

    hp = module.data_hparams
    if not hp:
        raise RoutegenError("this checkpoint has no saved data settings; use --input with a labelled file")
    problems = load_problems(data_dir or hp.get("dir"), hp["board"], hp["angle"], hp["label"], hp.get("include_v_only"))
    splits = split_problems(problems, hp["label"], hp["seed"], hp["val_fraction"], hp["test_fraction"])
    ps = splits[split]
    return [p.route for p in ps], [module.scale.class_of(p.grade, p.grade_v) for p in ps]


def labelled_input(path: str | Path, module) -> tuple[list[Route], list[int]]:
    """Routes and true classes from a labelled .jsonl(.gz) file (data schema or route strings, with
    grade_font or grade_v), on the grader's board and label scale."""
    board, scale = load_board(module.hparams.board), module.scale
    routes, labels = [], []
    for i, row in read_numbered_rows(path):
        with at_line(path, i):
            route, grade = Route.from_row(row, board)
            if grade is None and row.get("grade_v") is not None:
                try:
                    grade = Grade.from_v(int(str(row["grade_v"]).lstrip("Vv")))
                except ValueError:
                    raise RoutegenError(f"unknown grade_v {row['grade_v']!r}") from None
        label = scale.class_of(grade, grade.v if grade is not None else None)
        if label is None:
            raise RoutegenError(f"{path}: line {i} has no grade on the {scale.name} scale (grade_font / grade_v)")
        routes.append(route)
        labels.append(label)
    return routes, labels
