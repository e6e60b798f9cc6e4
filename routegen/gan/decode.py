"""From the cGAN's per-cell logits (4, 18, 11: none/start/middle/end) to a Route, naive or repaired to validity.

`naive_decode` samples a class per cell (argmax at temperature 0) and keeps what comes out, valid or not: the
generator's own validity. `decode` starts from the same sample and repairs it so check_route always passes:
  1. fixed holds keep their roles; starts above row 6 and ends below row 18 become middle holds (starts on
     row 18 ends), middle holds on row 18 (where only ends go) are dropped;
  2. 1-2 starts in rows <= 6 and 1-2 ends on row 18 (the most likely extra ones demoted, extra ends dropped,
     a missing one added);
  3. gaps of more than 8 rows are bridged with the most likely middle hold in reach;
  4. more than 14 holds: the least likely free middle holds go (never opening a gap); fewer than 3: add some.
With a DecodePrior (routegen/gan/prior.py) the counts of starts, ends and holds come from the training data
instead of the sample, the gap / move limits are the data's, not just the rule's, and (with the grade's
move-length shares) middle holds are placed one at a time where the moves they make are likely, or (placement
"chain", routegen/gan/chain.py) drawn all at once as one chain of moves, nothing split or bridged afterwards
unless fewer holds than drawn cannot close the gaps; with the grade's start / end hold shares (prior.hold_weight
> 0) the free start and end holds are drawn by the Gumbel-perturbed score log p_gen(cell) + hold_weight x
log q_grade(cell) before the middle holds are placed around them.
"""

from __future__ import annotations

import bisect
import math
from functools import cache

import numpy as np
import torch

from routegen.board import COLS, ROWS, Board, cell_distance, cell_row, consecutive_cells, hold_from_cell
from routegen.gan.chain import chain_middles, offset_bins
from routegen.gan.prior import DecodePrior
from routegen.route import (
    MAX_HOLDS,
    MAX_ROW_GAP,
    MAX_START_ROW,
    MIN_HOLDS,
    ROLES,
    FixedHoldsError,
    Route,
    check_route,
)

NONE, START, MIDDLE, END = 0, 1, 2, 3


def sample_classes(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """(4, 18, 11) logits -> (18, 11) class per cell: a categorical sample, or the argmax at temperature 0."""
    if temperature <= 0:
        return logits.argmax(0)
    probs = torch.softmax(logits.float() / temperature, dim=0).permute(1, 2, 0).reshape(-1, 4)
    return torch.multinomial(probs, 1, generator=generator).reshape(logits.shape[1:])


def classes_to_route(classes: torch.Tensor) -> Route:
    flat = classes.flatten()
    return Route(*(tuple(hold_from_cell(int(c)) for c in torch.nonzero(flat == k).flatten()) for k in (1, 2, 3)))


def naive_decode(
    logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None, fixed: Route | None = None
) -> Route:
    """The sampled classes as they come (fixed holds pinned in their roles); may break any validity rule."""
    classes = sample_classes(logits, temperature, generator).flatten()
    for k, name in zip((START, MIDDLE, END), ROLES):
        for h in getattr(fixed, name, ()) if fixed else ():
            classes[h.cell] = k
    return classes_to_route(classes)


def decode(
    logits: torch.Tensor,
    board: Board,
    fixed: Route | None = None,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    prior: DecodePrior | None = None,
) -> Route:
    """A valid route from (4, 18, 11) logits (see the module docstring); fixed holds always in their roles
    (checked by the caller, once per batch: routegen.route.check_fixed). With a prior, the counts of starts, ends and holds come from it (routegen/gan/prior.py), not the sample."""
    logp = torch.log_softmax(logits.float(), dim=0).flatten(1)  # (4, 198)
    score = {k: logp[k].tolist() for k in (START, MIDDLE, END)}
    sampled = sample_classes(logits, temperature, generator).flatten().tolist()
    on_board = _hold_cells(board.holds)[0]
    role: dict[int, int] = {c: sampled[c] for c in on_board if sampled[c] != NONE}  # cell -> class
    pinned: set[int] = set()
    for k, name in zip((START, MIDDLE, END), ROLES):
        for h in getattr(fixed, name, ()) if fixed else ():
            role[h.cell] = k
            pinned.add(h.cell)
    row = cell_row
    target, limit = MAX_HOLDS, MAX_ROW_GAP
    if prior is not None:
        role, target = _prior_roles(role, pinned, score, board, prior, temperature, generator)
        limit = prior.max_gap

    # 1-2. roles in their rows, 1-2 of each; row 18 is for end holds only (a middle there is dropped)
    for c in [c for c, v in role.items() if v == MIDDLE and row(c) == ROWS and c not in pinned]:
        del role[c]
    for k, ok_row in ((START, lambda r: r <= MAX_START_ROW), (END, lambda r: r == ROWS)):
        for c in [c for c, v in role.items() if v == k and not ok_row(row(c)) and c not in pinned]:
            role[c] = END if row(c) == ROWS else MIDDLE  # a start on row 18 can only be an end
        have = [c for c, v in role.items() if v == k]
        extra = sorted((c for c in have if c not in pinned), key=lambda c: score[k][c])
        while len(have) > 2:
            c = extra.pop(0)
            if k == END:  # an extra end hold sits on row 18, where no middle hold may go
                del role[c]
            else:
                role[c] = MIDDLE
            have.remove(c)
        if not have:
            spots = [c for c in on_board if ok_row(row(c)) and c not in pinned]
            role[max(spots, key=lambda c: score[k][c])] = k

    # 3. bridge gaps with the most likely middle hold in reach of the lower side
    while gap := _first_gap(role, limit):  # the prior's limit is tighter than the rule's (data: <= 5 rows 98 %)
        lo, hi = gap
        spots = [c for c in on_board if c not in role and lo < row(c) <= lo + limit and row(c) < ROWS]
        role[max(spots, key=lambda c: score[MIDDLE][c])] = MIDDLE
    reach = prior.max_move if prior is not None and not _chained(prior, temperature) else math.inf
    while len(role) < MAX_HOLDS and (move := _longest_move(role))[0] > reach:  # best effort: split the move
        d, a, b = move
        spots = [c for c in on_board if c not in role and row(a) <= row(c) < ROWS and row(c) <= row(b)
                 and 0 < cell_distance(a, c) < d and 0 < cell_distance(c, b) < d]  # fmt: skip
        if not spots:
            break
        role[max(spots, key=lambda c: score[MIDDLE][c])] = MIDDLE

    # 4. hold count: at most the prior's drawn count if it can be met without a gap over its limit, at most 14
    for most, lim in ((target, limit), (MAX_HOLDS, MAX_ROW_GAP)):
        while len(role) > most:
            free = [c for c, v in role.items() if v == MIDDLE and c not in pinned]
            free.sort(key=lambda c: score[MIDDLE][c])
            worst = max(reach, _longest_move(role)[0]) if most != MAX_HOLDS else math.inf
            drop = next((c for c in free if _droppable(role, c, lim, worst)), None)
            if drop is None and most == MAX_HOLDS:  # only fixed holds far apart, e.g. 13 low ones and an end
                raise FixedHoldsError(f"the fixed holds {fixed} need more than {MAX_HOLDS} holds to close every gap")
            if drop is None:
                break
            del role[drop]
    while len(role) < MIN_HOLDS:
        spots = [c for c in on_board if c not in role and row(c) < ROWS]
        role[max(spots, key=lambda c: score[MIDDLE][c])] = MIDDLE

    route = Route(*(tuple(hold_from_cell(c) for c, v in role.items() if v == k) for k in (START, MIDDLE, END)))
    assert check_route(route, board).ok, f"decoding bug: {route} is {check_route(route, board)}"
    return route


def _prior_roles(role, pinned, score, board: Board, prior: DecodePrior, temperature, generator) -> tuple[dict, int]:
    """Rebuild the sampled roles with the prior's counts: the best sampled start / end (or the most likely one),
    a 2nd one only above the prior's threshold, then middles drawn without replacement up to a hold count drawn
    from the prior (returned too). With the grade's start / end shares (prior.hold_tables) the free starts and
    ends are drawn by _hold_pick instead of taken from the sample. Fixed holds stay."""
    _, start_cells, end_cells, below_top = _hold_cells(board.holds)
    new = {c: role[c] for c in pinned}
    for k, cells, cut in ((START, start_cells, prior.start_threshold), (END, end_cells, prior.end_threshold)):
        spots = [c for c in cells if c not in new]
        if not spots:
            continue
        # the calibrated test: is the generator's 2nd most likely cell for the role likely enough?
        two = len(spots) > 1 and math.exp(sorted(score[k][c] for c in spots)[-2]) >= cut
        logq = prior.hold_tables.get(k)
        if not any(v == k for v in new.values()):
            if logq is not None:
                new[_hold_pick(spots, score[k], logq, new, k, prior, temperature, generator)] = k
            else:
                sampled = [c for c in spots if role.get(c) == k]
                new[max(sampled or spots, key=lambda c: score[k][c])] = k
            spots = [c for c in spots if c not in new]
        if sum(v == k for v in new.values()) < 2 and spots and two:
            if logq is not None:
                new[_hold_pick(spots, score[k], logq, new, k, prior, temperature, generator)] = k
            else:
                new[max(spots, key=lambda c: score[k][c])] = k
    free = [c for c in below_top if c not in new]  # no training route has a middle on row 18
    keys = torch.tensor([score[MIDDLE][c] for c in free])
    if temperature > 0:  # Gumbel top-k: sampling without replacement in proportion to p ** (1 / temperature)
        u = torch.rand(len(free), generator=generator).clamp(1e-10, 1 - 1e-10)
        keys = keys / temperature - torch.log(-torch.log(u))
    if (logq := prior.hold_tables.get(MIDDLE)) is not None:  # the grade's middle shares over the generator's own
        keys = keys + prior.hold_weight * torch.from_numpy(logq[np.asarray(free)]).float()
    target = prior.draw_holds(generator)
    count = max(0, min(target - len(new), len(free)))
    chosen = None
    if _chained(prior, temperature):  # no Gumbel keys: the chain is drawn from the scores themselves
        scores = np.asarray([score[MIDDLE][c] for c in free]) / temperature
        if (logq := prior.hold_tables.get(MIDDLE)) is not None:
            scores = scores + prior.hold_weight * logq[np.asarray(free)]
        most = max(count, MAX_HOLDS - len(new))
        starts, ends = (frozenset(c for c, v in new.items() if v == k) for k in (START, END))
        if prior.chain_offset is not None and starts and ends:  # the fitted weight of the offset from the line
            scores = scores + prior.chain_offset[offset_bins(free, starts, ends)]
        kernels = prior.chain_kernels
        chosen = chain_middles(sorted(new), free, scores, kernels, count, most, generator, starts, ends,
                               prior.chain_turn) or None  # fmt: skip
    if chosen is not None:
        target = len(new) + len(chosen)  # more than drawn only when fewer can't chain the pinned holds
    elif prior.move_logq is None:
        chosen = keys.argsort(descending=True)[:count].tolist()
    else:
        chosen = _place_by_moves(sorted(new), free, keys, count, prior)
    for i in chosen:
        new[free[i]] = MIDDLE
    return new, target


@cache
def _hold_cells(holds: tuple) -> tuple[tuple[int, ...], ...]:
    """The cells of a board's holds, in cell order: all of them, those in the start rows, on the top row (ends),
    and below it (middles); tuples, as they are cached and shared by every route decoded on the board."""
    cells = tuple(h.cell for h in holds)
    starts = tuple(c for c in cells if cell_row(c) <= MAX_START_ROW)
    return cells, starts, tuple(c for c in cells if cell_row(c) == ROWS), tuple(c for c in cells if cell_row(c) < ROWS)


def _chained(prior: DecodePrior, temperature: float) -> bool:
    """Whether middle holds are drawn as a chain (a draw, so not at temperature 0: the greedy placement there)."""
    return prior.placement == "chain" and prior.move_logq is not None and temperature > 0


def _hold_pick(spots, logp, logq: np.ndarray, new: dict, k: int, prior: DecodePrior, temperature, generator) -> int:
    """The start (k=START) or end hold among `spots` with the highest log p_gen(cell) / temperature + hold_weight x
    log q_grade(cell) + Gumbel noise (no noise, and no division, at temperature 0): a draw in proportion to
    p_gen ** (1 / temperature) x q ** hold_weight. A 2nd hold of the role also counts the move from the 1st
    (move_weight x the log share of that move in the grade's routes, as middle holds are placed)."""
    cells = np.asarray(spots)
    total = np.asarray([logp[c] for c in spots], dtype=float)
    if temperature > 0:
        u = torch.rand(len(spots), generator=generator, dtype=torch.float64).clamp(1e-12, 1 - 1e-12).numpy()
        total = total / temperature - np.log(-np.log(u))
    total += prior.hold_weight * logq[cells]
    same = [c for c, v in new.items() if v == k]
    if same and prior.move_table is not None:
        total += prior.move_weight * prior.move_table[same[0], cells]
        if k == START and prior.start_pair_delta is not None:  # the chain's fitted correction of start pairs
            total += prior.start_pair_delta[same[0], cells]
    return int(cells[int(total.argmax())])


def _place_by_moves(placed: list[int], free: list[int], keys: torch.Tensor, count: int, prior: DecodePrior) -> list:
    """Indices into `free` of `count` middle holds placed one at a time: each time the free cell whose key (the
    generator's log-probability, Gumbel-perturbed when sampling) plus move_weight x the change in the log-shares
    of the moves it makes (rows up, columns across: gan_prior.move_bin) is highest. Inserting c between its
    neighbours a, b (cell order) replaces the move a-b by a-c and c-b: log q(a-c) + log q(c-b) - log q(a-b).
    NumPy: for ~130 candidates and ~8 steps per route its per-call cost is a fraction of torch's."""
    table, cells = prior.move_table, np.asarray(free)
    base = keys.numpy().astype(float)
    chosen: list[int] = []
    for _ in range(count):
        total = base.copy()
        if placed:
            p = np.asarray(placed)
            i = np.searchsorted(p, cells)  # placed[i - 1] < cell < placed[i]
            a, b = p[np.maximum(i - 1, 0)], p[np.minimum(i, len(p) - 1)]
            has_a, has_b = i > 0, i < len(p)
            delta = (np.where(has_a, table[a, cells], 0.0) + np.where(has_b, table[cells, b], 0.0)
                     - np.where(has_a & has_b, table[a, b], 0.0))  # fmt: skip
            total += prior.move_weight * delta
        total[chosen] = -math.inf
        j = int(total.argmax())
        chosen.append(j)
        bisect.insort(placed, free[j])
    return chosen


def _droppable(role: dict[int, int], cell: int, limit: int, reach: float) -> bool:
    """Whether dropping `cell` keeps every row gap within `limit` and every move within `reach`."""
    rest = {c: v for c, v in role.items() if c != cell}
    return not _first_gap(rest, limit) and (reach == math.inf or _longest_move(rest)[0] <= reach)


def _longest_move(role: dict[int, int]) -> tuple[float, int, int]:
    """The longest move between consecutive holds (board.consecutive_cells: as every move is measured)."""
    return max(((cell_distance(a, b), a, b) for a, b in consecutive_cells(role)), default=(0.0, -1, -1))


def _first_gap(role: dict[int, int], limit: int = MAX_ROW_GAP) -> tuple[int, int] | None:
    rows = sorted({cell_row(c) for c in role})
    return next(((a, b) for a, b in zip(rows, rows[1:]) if b - a > limit), None)


def fixed_grid(fixed: Route | None) -> torch.Tensor:
    """(3, 18, 11) 0/1 mask of the fixed holds per role (zeros when none)."""
    from routegen.encoding import route_to_grid

    return route_to_grid(fixed) if fixed is not None else torch.zeros(3, ROWS, COLS)
