"""Routes as tensors: a (3, 18, 11) hold x role presence grid (start, middle, end channels).

The same layout carries hard routes (0/1) and relaxed ones (probabilities from a generator), so every grader
that reads grids can judge a generator's soft output and pass gradients back to it.
"""

from __future__ import annotations

import torch

from routegen.board import COLS, ROWS, Board
from routegen.route import ROLES, Route

GRID_SHAPE = (len(ROLES), ROWS, COLS)  # (3, 18, 11)


def route_to_grid(route: Route) -> torch.Tensor:
    grid = torch.zeros(GRID_SHAPE)
    for r, name in enumerate(ROLES):
        for h in getattr(route, name):
            grid[r, h.row - 1, h.col] = 1.0
    return grid


def routes_to_grids(routes: list[Route]) -> torch.Tensor:
    """(B, 3, 18, 11)"""
    if not routes:
        return torch.zeros((0, *GRID_SHAPE))
    return torch.stack([route_to_grid(r) for r in routes])


def board_mask(board: Board) -> torch.Tensor:
    """(18, 11) bool: True where the board carries a hold."""
    return torch.tensor(board.cell_mask()).reshape(ROWS, COLS)
