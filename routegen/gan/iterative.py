"""Iterative placement: a route drawn hold by hold, each hold seen by the generator before the next is drawn.

One generator pass gives every cell's role probabilities at once, and drawing the cells independently loses how
a route's holds sit relative to each other. The generator also takes fixed holds (route completion), and trained
with the completion term (`loss.completion_weight`) its output given some fixed holds is the distribution of a
real route's other holds. So a route can be drawn like a masked model's: its starts, then its ends, then its
middle holds, one per pass, each fixed before the next pass. The counts come from the grade's training routes
(hold count, two-start and two-end shares); a row gap a climber cannot span is closed with middle holds drawn
inside it. docs/gan.md, "Iterative placement".
"""

from __future__ import annotations

import torch

from routegen.gan.decode import classes_to_route
from routegen.route import MAX_HOLDS, MAX_ROW_GAP, MIN_HOLDS, Route

ROLE_OF = {"start": 0, "middle": 1, "end": 2}  # channel in the (3, 18, 11) fixed grid; class = channel + 1
GAP_ROUNDS = 3  # passes that may close a row gap (one hold each); two real gaps in one route are rare


def draw_counts(prior: dict, classes: list[int], fixed: torch.Tensor, gen: torch.Generator) -> list[list[str]]:
    """Per route, the roles still to place, in order: starts, ends, middles. The hold count is drawn from the
    grade's training routes, one or two starts and ends from their shares; fixed holds count toward them."""
    out = []
    for c, fx in zip(classes, fixed):
        weights = torch.tensor(prior["hold_counts"][c], dtype=torch.float) + 1e-3
        total = MIN_HOLDS + int(torch.multinomial(weights, 1, generator=gen))
        starts = 1 + int(torch.rand((), generator=gen) < prior["two_start_rates"][c])
        ends = 1 + int(torch.rand((), generator=gen) < prior["two_end_rates"][c])
        have = fx.sum((1, 2)).long().tolist()  # fixed starts, middles, ends
        starts, ends = max(starts, have[0]), max(ends, have[2])
        middles = max(0, total - starts - ends, have[1])
        todo = ["start"] * (starts - have[0]) + ["end"] * (ends - have[2]) + ["middle"] * (middles - have[1])
        out.append(todo[: max(0, MAX_HOLDS - sum(have))])
    return out


def pick_cells(weights: torch.Tensor, temperature: float, gen: torch.Generator) -> torch.Tensor:
    """(N, 198) weights of the allowed cells, each row with some > 0 -> (N,) one cell each, drawn in proportion
    (the heaviest at temperature 0)."""
    if temperature == 0:
        return weights.argmax(1)
    return torch.multinomial(weights, 1, generator=gen).squeeze(1)


def role_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """(N, 4, 18, 11) logits -> (N, 3, 18, 11) probabilities of start / middle / end per cell."""
    return torch.softmax(logits / max(temperature, 1e-6), dim=1)[:, 1:]


def place(fixed: torch.Tensor, probs: torch.Tensor, roles: list[str | None], allowed: torch.Tensor,
          temperature: float, gen: torch.Generator, rows: torch.Tensor | None = None) -> None:  # fmt: skip
    """Fix one hold in each route whose role is given (None: none), drawn from that role's probabilities over
    the free cells it may take (and, with `rows` (N, 18) bool, only in those rows). In place."""
    todo = [i for i, r in enumerate(roles) if r is not None]
    if not todo:
        return
    idx = torch.tensor(todo)
    ch = torch.tensor([ROLE_OF[roles[i]] for i in todo])
    free = fixed[idx].sum(1) == 0  # (n, 18, 11)
    w = probs[idx, ch] * free * allowed[ch]
    if rows is not None:
        w = w * rows[idx][:, :, None]
    w = w.flatten(1)
    some = w.sum(1) > 0  # a route with no free cell for the role (or underflow) places nothing
    idx, ch, w = idx[some], ch[some], w[some]
    if len(idx):
        cells = pick_cells(w, temperature, gen)
        fixed[idx, ch, cells // fixed.shape[-1], cells % fixed.shape[-1]] = 1.0


def gap_rows(fixed: torch.Tensor) -> torch.Tensor:
    """(N, 3, 18, 11) -> (N, 18) bool: the rows strictly inside each route's widest row gap over MAX_ROW_GAP."""
    used = fixed.sum((1, 3)) > 0  # (N, 18)
    out = torch.zeros_like(used)
    for i, u in enumerate(used):
        rows = torch.nonzero(u).flatten().tolist()
        gaps = [(b - a, a, b) for a, b in zip(rows, rows[1:]) if b - a > MAX_ROW_GAP]
        if gaps:
            _, a, b = max(gaps)
            out[i, a + 1 : b] = True
    return out


@torch.no_grad()
def iterative_routes(module, z: torch.Tensor, y: torch.Tensor, fixed: torch.Tensor, temperature: float,
                     gen: torch.Generator, guidance: float = 1.0) -> list[Route]:  # fmt: skip
    """One route per row of z (noise), y (grade classes) and fixed ((N, 3, 18, 11) given holds), drawn hold by
    hold through the generator; the noise stays the same for every pass of a route. guidance != 1: each pass
    contrasts the grade with "any grade" (UNetGenerator.guided)."""
    fixed = fixed.detach().cpu().clone().float()
    todo = draw_counts(module.hparams.decode_prior, y.tolist(), fixed, gen)
    allowed = module.generator.allowed.cpu() > 0  # (3, 18, 11) where each role may go
    passes = max((len(t) for t in todo), default=0)
    for step in range(passes + GAP_ROUNDS):
        if step < passes:
            roles, rows = [t[step] if step < len(t) else None for t in todo], None
        else:  # close row gaps: a middle hold inside the widest one
            rows = gap_rows(fixed)
            full = fixed.sum((1, 2, 3)) >= MAX_HOLDS
            roles = ["middle" if rows[i].any() and not full[i] else None for i in range(len(fixed))]
            if not any(roles):
                break
        f = fixed.to(z.device)
        logits = (module.generator(z, y, f) if guidance == 1 else module.generator.guided(z, y, f, guidance)).cpu()
        place(fixed, role_probs(logits, temperature), roles, allowed, temperature, gen, rows)
    classes = torch.cat([1 - fixed.sum(1, keepdim=True), fixed], dim=1).argmax(1)  # (N, 18, 11)
    return [classes_to_route(c) for c in classes]
