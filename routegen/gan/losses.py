"""The cGAN's losses and its relaxation, torch only: hinge losses, straight-through Gumbel-softmax, the
structure hinge on expected counts and the mode-seeking pair distance (docs/gan.md)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_hinge_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def g_hinge_loss(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def gumbel_straight_through(
    logits: torch.Tensor, tau: float, generator: torch.Generator | None, noise_scale: float = 1.0
) -> torch.Tensor:
    """(B, K, ...) logits -> one-hot sample over dim 1 forward, softmax((logits + s * g) / tau) gradients backward.

    noise_scale s = 1 is the Gumbel-softmax; s = 0 the straight-through argmax, so that the generator's noise
    input is its only source of variety. F.gumbel_softmax takes no generator; ours must, for per-rank
    reproducible noise."""
    u = torch.rand(logits.shape, generator=generator, device=logits.device).clamp(1e-10, 1 - 1e-10)
    soft = torch.softmax((logits - noise_scale * torch.log(-torch.log(u))) / tau, dim=1)
    hard = F.one_hot(soft.argmax(1), logits.shape[1]).movedim(-1, 1).to(soft.dtype)
    return hard - soft.detach() + soft


def structure_loss(p: torch.Tensor) -> torch.Tensor:
    """Hinge on expected counts from soft probabilities (B, 4, 18, 11): 1-2 starts, 1-2 ends, 3-14 holds."""
    starts, ends, holds = p[:, 1].sum((1, 2)), p[:, 3].sum((1, 2)), p[:, 1:].sum((1, 2, 3))
    out = p.new_zeros(())
    for n, lo, hi in ((starts, 1.0, 2.0), (ends, 1.0, 2.0), (holds, 3.0, 14.0)):
        out = out + (F.relu(lo - n) + F.relu(n - hi)).mean()
    return out


def pair_distance(p: torch.Tensor) -> torch.Tensor:
    """(B, 4, 18, 11) soft outputs whose first and second halves share conditions -> (B // 2,) expected number
    of cells whose class differs within each pair. The noise distance is constant in expectation, so this is
    the mode-seeking ratio (Mao et al. 2019) up to a constant."""
    h = p.shape[0] // 2
    return (p[:h] - p[h : 2 * h]).abs().sum((1, 2, 3)) / 2


def random_fixed(real: torch.Tensor, gen: torch.Generator, prob: float) -> torch.Tensor:
    """Per route, with probability `prob`: a random subset (keep rate ~ U(0, 1)) of its holds as fixed; the
    completion term's question. real (B, 3, 18, 11) one-hot."""
    B = real.shape[0]
    use = torch.rand((B, 1, 1, 1), generator=gen, device=real.device) < prob
    rate = torch.rand((B, 1, 1, 1), generator=gen, device=real.device)
    keep = torch.rand(real.shape, generator=gen, device=real.device) < rate
    return real * (use & keep)


def completion_loss(logits: torch.Tensor, real: torch.Tensor, fixed: torch.Tensor, board: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the real route's role in every on-board cell that is not fixed, per hold to place
    (nats), averaged over routes: the generator's cells as p(role | grade, fixed holds), pix2pix's
    reconstruction term for route completion. logits (B, 4, 18, 11), real and fixed (B, 3, 18, 11) one-hot,
    board (18, 11) bool."""
    target = torch.cat([1 - real.sum(1, keepdim=True), real], dim=1).argmax(1)  # (B, 18, 11) class per cell
    free = board[None] & (fixed.sum(1) == 0)  # (B, 18, 11)
    ce = F.cross_entropy(logits, target, reduction="none") * free
    to_place = (real.sum(1) * free).sum((1, 2)).clamp(min=1)
    return (ce.sum((1, 2)) / to_place).mean()


def route_stats(p: torch.Tensor) -> torch.Tensor:
    """(B, 4, 18, 11) one-hot or soft outputs -> (B, 21) expected counts: starts, middles, ends, holds per row.
    With the hold count per row fixed, so are the move lengths the realism classifier sees (docs/gan.md)."""
    return torch.cat([p[:, 1:].sum((2, 3)), p[:, 1:].sum((1, 3))], dim=1)


def stats_gap(fake: torch.Tensor, target: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-grade moment matching: sum over grades (weighted by their share of the batch) of the L1 distance
    between the fakes' mean statistics and the real routes' mean for that grade. fake (B, S), target (C, S)."""
    sums = fake.new_zeros(num_classes, fake.shape[1]).index_add(0, y, fake - target[y])
    counts = torch.bincount(y, minlength=num_classes).to(fake.dtype)
    seen = counts > 0
    return ((sums[seen] / counts[seen, None]).abs().sum(1) * counts[seen]).sum() / len(y)
