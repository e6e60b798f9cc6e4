"""Route features for the fidelity yardstick's two-sample classifier (routegen/generation/fidelity.py).

Every hold x role as a one-hot cell, about thirty summary statistics (counts, span, row / column statistics,
move lengths and gaps), row and column histograms, and the grade number: richer than the hand-made features
of generation.metrics (its own FEATURE_NAMES and route_features), which real_vs_generated_auc's logistic
regression uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routegen.board import COLS, NUM_CELLS, ROWS, hold_from_cell
from routegen.route import ROLES, Route, move_lengths

_SUMMARY = (
    ["holds", "n_start", "n_middle", "n_end", "span", "row_min", "row_max_middle", "row_mean", "row_std"]
    + ["col_mean", "col_std", "col_min", "col_max", "col_range", "start_width", "end_col", "start_row_max"]
    + ["move_mean", "move_max", "move_min", "move_std", "move_sum", "move_first", "move_last", "dx_sum", "dx_max"]
    + ["gap_max", "gap_mean", "same_row_pairs", "rows_used"]
)
FEATURE_NAMES: tuple[str, ...] = tuple(
    [f"{role}:{hold_from_cell(c)}" for role in ROLES for c in range(NUM_CELLS)]
    + _SUMMARY
    + [f"row{r}" for r in range(1, ROWS + 1)]
    + [f"col{c}" for c in "ABCDEFGHIJK"[:COLS]]
    + ["grade"]
)


def row_gaps(route: Route) -> list[int]:
    """Rows between consecutive holds, in cell order ([0] for a route of one hold)."""
    rows = [h.row for h in sorted(route.hold_set, key=lambda h: h.cell)]
    return [b - a for a, b in zip(rows, rows[1:])] or [0]


def _summary(route: Route) -> list[float]:
    holds = sorted(route.hold_set, key=lambda h: h.cell)
    rows = [h.row for h in holds] or [0]
    cols = [h.col for h in holds] or [0]
    moves = move_lengths(route) or [0.0]
    gaps = row_gaps(route)
    dx = [abs(b - a) for a, b in zip(cols, cols[1:])] or [0]
    middle_rows = [h.row for h in route.middle] or [0]
    start_cols = [h.col for h in route.start] or [0]
    end_cols = [h.col for h in route.end] or [0]
    return [
        len(holds), len(route.start), len(route.middle), len(route.end), max(rows) - min(rows), min(rows),
        max(middle_rows), float(np.mean(rows)), float(np.std(rows)),
        float(np.mean(cols)), float(np.std(cols)), min(cols), max(cols), max(cols) - min(cols),
        max(start_cols) - min(start_cols), float(np.mean(end_cols)), max([h.row for h in route.start] or [0]),
        float(np.mean(moves)), max(moves), min(moves), float(np.std(moves)), float(sum(moves)), moves[0], moves[-1],
        float(sum(dx)), max(dx),
        max(gaps), float(np.mean(gaps)), sum(g == 0 for g in gaps), len(set(rows)),
    ]  # fmt: skip


def route_features(routes: Sequence[Route], grades: Sequence[float]) -> np.ndarray:
    """(N, len(FEATURE_NAMES)) float64: hold x role one-hot (3 x 198), summary statistics, row and column
    histograms, and the grade number (target grade for generated routes, true grade for real ones)."""
    n, k = len(routes), len(FEATURE_NAMES)
    x = np.zeros((n, k))
    base = 3 * NUM_CELLS
    for i, r in enumerate(routes):
        for j, role in enumerate(ROLES):
            for h in getattr(r, role):
                x[i, j * NUM_CELLS + h.cell] = 1.0
        x[i, base : base + len(_SUMMARY)] = _summary(r)
        for h in r.hold_set:
            x[i, base + len(_SUMMARY) + h.row - 1] += 1
            x[i, base + len(_SUMMARY) + ROWS + h.col] += 1
    x[:, -1] = np.asarray(grades, dtype=float)
    return x
