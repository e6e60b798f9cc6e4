import torch

from routegen.encoding import board_mask, route_to_grid, routes_to_grids
from routegen.route import parse_route


def test_grid_layout(board2016):
    route, _ = parse_route("H5 E6 | C9 F10 | H18")
    grid = route_to_grid(route)
    assert grid.shape == (3, 18, 11) and grid.sum() == 5
    assert grid[0, 4, 7] == 1  # start H5: channel 0, row index 4, column H
    assert grid[2, 17, 7] == 1  # end H18
    assert grid[1, 8, 2] == 1 and grid[1, 9, 5] == 1  # middle C9, F10
    assert routes_to_grids([route, route]).shape == (2, 3, 18, 11)
    mask = board_mask(board2016)
    assert mask.sum() == 140 and bool((grid.sum(0) > 0)[~mask].any()) is False
    assert torch.equal(routes_to_grids([]), torch.zeros(0, 3, 18, 11))
