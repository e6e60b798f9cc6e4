"""A second, feature-free two-sample test for the fidelity yardstick: leave-one-out 1-nearest-neighbour accuracy
between routes (Lopez-Paz & Oquab 2017; Xu et al. 2018 for generators).

Pool n generated and n real routes of one grade; each route's nearest other route votes for its side. 0.5 =
the two samples cannot be told apart. Above 0.5 the generated routes sit apart from real ones; below 0.5 they
sit too close to them (copies and near copies of real routes). The distance is the symmetric Chamfer distance
between the routes' holds on the board: the mean distance (in cells) from each hold of one route to the
nearest hold of the other, both ways, averaged. Holds a cell apart count as nearly the same, where a distance
on hold sets (Jaccard) would see two different holds and nothing more. Nothing is fitted and no summary
feature is used: it checks the classifier test (fidelity.py), whose feature family the realism trees
(realism.py) also use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routegen.board import COLS, NUM_CELLS
from routegen.route import Route

_CELL = np.arange(NUM_CELLS)
CELL_DISTANCE = np.hypot(_CELL[:, None] % COLS - _CELL[None, :] % COLS, _CELL[:, None] // COLS - _CELL[None, :] // COLS)


def chamfer_distances(routes: Sequence[Route]) -> np.ndarray:
    """(N, N) symmetric Chamfer distance between the routes' hold sets (see the module docstring)."""
    x = np.zeros((len(routes), NUM_CELLS))
    for i, r in enumerate(routes):
        x[i, [h.cell for h in r.hold_set]] = 1.0
    # per route, every cell's distance to its nearest hold (a route has holds: check_route needs 3)
    to_nearest = np.stack([CELL_DISTANCE[:, row > 0].min(1) for row in x])
    mean_out = (x @ to_nearest.T) / x.sum(1, keepdims=True)  # [i, j]: mean over i's holds of the way to j's
    return (mean_out + mean_out.T) / 2


def nn_accuracy(generated: Sequence[Route], real: Sequence[Route], seed: int = 0) -> float:
    """Leave-one-out 1-NN accuracy (chamfer_distances) of the pooled routes; ties between equally near
    neighbours are broken at random (seeded); NaN when a side is empty."""
    if not generated or not real:
        return float("nan")
    side = np.r_[np.ones(len(generated)), np.zeros(len(real))]
    dist = chamfer_distances([*generated, *real])
    dist += np.random.default_rng(seed).uniform(0, 1e-9, dist.shape)  # random tie-break, not "first listed"
    np.fill_diagonal(dist, np.inf)
    return float(np.mean(side[dist.argmin(1)] == side))
