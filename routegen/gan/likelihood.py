"""How typical a completion-trained cGAN generator finds a route: its leave-one-out pseudo-log-likelihood.

A generator trained with the completion term (docs/gan.md, "Iterative placement") gives, for a route with some
holds fixed, each free cell's role probabilities. Hold out one hold, fix the rest, and ask where the missing
hold of its role goes: a softmax over the free on-board cells of log p(role) - log p(none). The log-probability
of the cell it really is at, averaged over the route's holds, is the score. It is another family of density
model than the AR transformer's chain rule (routegen/ar/module.py log_likelihood), so it can judge the AR's routes
too (bench/bench_likelihood.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from routegen.encoding import routes_to_grids
from routegen.generation.base import resolve_grade
from routegen.route import Route


@torch.no_grad()
def pseudo_log_likelihood(module, routes: Sequence[Route], grades: Sequence[int], *, batch: int = 1024,
                          seed: int = 0) -> torch.Tensor:  # fmt: skip
    """(N,) mean over each route's holds of log p(the held-out hold is where it is | the other holds, grade), in
    nats; `module` a CGANModule, `grades` on the numbered scale. The generator's noise is drawn from `seed`."""
    gen_net = module.generator
    board = gen_net.board[0] > 0  # (18, 11) cells with a hold on the board
    grids = routes_to_grids(list(routes)).to(module.device)  # (N, 3, 18, 11)
    classes = torch.tensor([resolve_grade(module, g) for g in grades], device=module.device)
    route_of, role, row, col = grids.nonzero(as_tuple=True)  # one question per hold
    cols = grids.shape[-1]
    total = torch.zeros(len(routes), device=module.device)
    rng = torch.Generator(device=module.device).manual_seed(seed)
    was_training = gen_net.training
    gen_net.eval()
    try:
        for s in range(0, len(route_of), batch):
            r, o, y, x = (t[s : s + batch] for t in (route_of, role, row, col))
            q = torch.arange(len(r), device=module.device)
            fixed = grids[r].clone()
            fixed[q, o, y, x] = 0  # the held-out hold
            logits = gen_net(module.noise(len(r), rng), classes[r], fixed)  # (B, 4, 18, 11)
            odds = logits[q, o + 1] - logits[:, 0]  # (B, 18, 11): its role against "none", per cell
            free = board[None] & (fixed.sum(1) == 0)
            where = torch.log_softmax(odds.masked_fill(~free, float("-inf")).flatten(1), dim=1)
            total.index_add_(0, r, where[q, y * cols + x])
    finally:
        gen_net.train(was_training)
    holds = torch.bincount(route_of, minlength=len(routes)).clamp(min=1)
    return (total / holds).cpu()
