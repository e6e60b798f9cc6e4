"""gan/likelihood: a completion-trained generator's leave-one-out pseudo-log-likelihood of a route, checked
against a hold-by-hold computation from the generator's probabilities."""

from __future__ import annotations

import math

import pytest
import torch
from generator_helpers import COUNTS, SMALL_CGAN

from routegen.data import load_problems
from routegen.encoding import route_to_grid
from routegen.gan.likelihood import pseudo_log_likelihood
from routegen.gan.module import CGANModule
from routegen.generation.base import resolve_grade


@pytest.fixture(scope="module")
def module():
    torch.manual_seed(0)
    m = CGANModule(**SMALL_CGAN, class_counts=COUNTS).eval()
    m.noise = lambda n, gen: torch.zeros((n, SMALL_CGAN["generator"]["noise_ch"], 18, 11))  # noise-free: exact
    return m


@torch.no_grad()
def by_hand(module, route, number) -> float:
    """Per hold: fix the others, then p(its cell) among the free cells, each weighted p(role) / p(none)."""
    grid, scores = route_to_grid(route), []
    board = module.generator.board[0] > 0
    for role, row, col in grid.nonzero().tolist():
        fixed = grid.clone()
        fixed[role, row, col] = 0
        y = torch.tensor([resolve_grade(module, number)])
        p = torch.softmax(module.generator(module.noise(1, None), y, fixed[None])[0], dim=0)  # (4, 18, 11)
        w = torch.where(board & (fixed.sum(0) == 0), p[role + 1] / p[0], torch.zeros(()))
        scores.append(math.log(w[row, col] / w.sum()))
    return sum(scores) / len(scores)


def test_pseudo_log_likelihood_is_the_hold_by_hold_score(module, data_dir):
    real = [p for p in load_problems(data_dir) if p.grade is not None and 4 <= p.grade.number <= 15][:3]
    routes, numbers = [p.route for p in real], [p.grade.number for p in real]
    got = pseudo_log_likelihood(module, routes, numbers)
    for route, number, value in zip(routes, numbers, got):
        assert value.item() == pytest.approx(by_hand(module, route, number), abs=1e-4)
    assert torch.allclose(pseudo_log_likelihood(module, routes, numbers, batch=3), got, atol=1e-5)
    assert (got < 0).all()
