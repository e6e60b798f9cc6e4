"""Middle holds drawn as one chain of moves (the cGAN's "chain" placement, docs/gan.md).

A route's moves are the steps between its holds in cell order (board.consecutive_cells). Given the pinned holds
(starts, ends, fixed ones) and a number of middle holds, this draws the middle holds from

    P(middles) ~ prod_c p(c) x prod_(a, b) consecutive e(a, b)

p(c): exp of the generator's per-cell middle score (with the grade's hold shares, as the greedy placement uses
it), e(a, b): the grade's move share to the power move_weight, 0 where the rows are more than max_gap apart. The
greedy placement (decode._place_by_moves) adds one hold at a time where it helps most and leaves what it cannot
undo: clusters of close holds, long moves split afterwards, more holds than were drawn. Here every move counts
at once, exactly: the chain between two consecutive pinned holds is a path through the cells between them, so
forward filtering (a product of small matrices per hold) gives every path's weight and backward sampling draws
one. Probabilities, not logs: each step is renormalised and its scale kept, so nothing underflows.

A Markov chain of moves has no memory of where the route is going: each move's sideways step is right on its
own, but the steps add up like a random walk, and the middle holds wander further from the line between the
starts and the end than in real routes (their column spread: 1.90 against 1.64 at 6B+). So p(c) can also carry a
fitted weight per bin of the cell's sideways offset from that line (offset_bins; gan/chain_fit.py fits it).

Nor does it remember which way the last move went: real routes zigzag (left hand, right hand), and of their
middle holds reached by a sideways move 75.6% are left by a move the other way, against 67.4% for the chain
without turns (bench/bench_moves.py, validation). With a `turn` table (3 x 3: the sideways way of the move into a
middle hold, left / straight up / right, by that of the move out of it) each path's state is its last cell and
the way it came in, so the same forward filtering stays exact with three times the states.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from routegen.board import COLS, NUM_CELLS

_CELLS = np.arange(NUM_CELLS)
OFFSET_STEP = 0.5  # columns per offset bin
OFFSET_BINS = 13  # |offset| 0, 0.5, ..., 6 columns: the last bin takes everything further out
TURNS = 3  # a move's sideways direction: left, straight up, right (the sign of its column change, + 1)


class Kernels(NamedTuple):
    """(198, 198) move weights e(a, b) by the moves' kind: from a start hold into a middle one (enter), between
    middle holds (inner: also to and from a fixed middle hold or a start above it), from a middle into an end
    hold (leave)."""

    enter: np.ndarray
    inner: np.ndarray
    leave: np.ndarray


def move_kernel(move_table: np.ndarray, move_weight: float, max_gap: int, cols: int) -> np.ndarray:
    """(198, 198) e(a, b): the move share ** move_weight for a before b in cell order and rows at most max_gap
    apart, else 0 (the board's cells are row-major with `cols` columns)."""
    rows = _CELLS // cols
    ok = (_CELLS[:, None] < _CELLS[None, :]) & (rows[None, :] - rows[:, None] <= max_gap)
    return np.where(ok, np.exp(move_weight * (move_table - move_table.max())), 0.0)


def offset_bins(cells, starts, ends, cols: int = COLS) -> np.ndarray:
    """Per cell, the bin of its sideways distance (columns) from the route's line: from the start holds' centre
    to the end holds' centre, straight up below the starts and above the ends."""
    cells, starts, ends = np.asarray(cells), np.asarray(sorted(starts)), np.asarray(sorted(ends))
    (r0, c0), (r1, c1) = ((np.mean(h // cols), np.mean(h % cols)) for h in (starts, ends))
    along = np.clip((cells // cols - r0) / max(r1 - r0, 1.0), 0.0, 1.0)
    offset = np.abs(cells % cols - (c0 + (c1 - c0) * along))
    return np.minimum(np.round(offset / OFFSET_STEP).astype(int), OFFSET_BINS - 1)


def turn_of(a, b, cols: int = COLS):
    """The sideways direction of the move a -> b (cells): 0 left, 1 straight up, 2 right."""
    return np.sign(np.asarray(b) % cols - np.asarray(a) % cols) + 1


def chain_middles(
    pinned: list[int],
    free: list[int],
    score: np.ndarray,
    kernels: Kernels,
    count: int,
    most: int,
    generator: torch.Generator | None,
    starts: frozenset[int] = frozenset(),
    ends: frozenset[int] = frozenset(),
    turn: np.ndarray | None = None,
    cols: int = COLS,
) -> list[int]:
    """Indices into `free` of the middle holds drawn (see the module docstring): `count` of them, or the fewest
    above `count` (up to `most`) that chain every pinned hold within the kernel's gap; [] when none can.
    score: (len(free),) log p(c) of the free cells; pinned: cells in cell order, the last one an end hold;
    kernels: the move weights per kind, the pinned `starts` and `ends` telling the kinds; turn: (TURNS, TURNS)
    weights of a middle hold's move in by its move out (turn_of), None for none; cols: the board's columns."""
    free_arr = np.asarray(free)
    weight = np.exp(score - score.max())
    bounds = [None, *pinned]  # segment i runs from bounds[i] (None: the route's first hold) to pinned[i]
    segments = []
    for lo, hi in zip(bounds, pinned):
        idx = np.nonzero((free_arr < hi) & ((free_arr > lo) if lo is not None else True))[0]
        enter = kernels.enter if lo in starts else kernels.inner
        leave = kernels.leave if hi in ends else kernels.inner
        kinds = (enter, kernels.inner, leave)
        segments.append(_Segment(lo, hi, idx, free_arr[idx], weight[idx], kinds, most, turn, cols))
    for k in range(count, most + 1):
        split = _split(segments, k, generator)
        if split is not None:
            return [int(i) for seg, j in zip(segments, split) for i in seg.draw(j, generator)]
    return []


class _Segment:
    """The paths from `lo` through j free cells to `hi` (j = 0..most): their total weight (log, `log_total`) and
    the forward vectors to draw one back from, computed up to the j asked for (`grow`): most routes chain with
    the drawn count and never need the rest. With a turn table a path's state is (its last cell, the direction of
    the move into it); without one there is one direction, and this is a plain chain of cells."""

    def __init__(self, lo, hi, idx, cells, weight, kernels, most, turn=None, cols=COLS):
        enter, inner_kernel, leave = kernels
        self.idx, self.weight, self.most = idx, weight[:, None], min(most, len(cells))
        self.turn = np.ones((1, 1)) if turn is None else np.asarray(turn, dtype=float)
        states = len(self.turn)
        inner = inner_kernel[cells[:, None], cells]
        way = turn_of(cells[:, None], cells, cols) if states > 1 else np.zeros(inner.shape, dtype=int)
        self.inner = [np.where(way == s, inner, 0.0) for s in range(states)]  # moves a -> b going way s
        out_way = turn_of(cells, hi, cols) if states > 1 else np.zeros(len(cells), dtype=int)
        # a route's first hold has no move into it, so no turn: its row of weights is flat
        self._turns = (np.ones_like(self.turn) if lo is None else self.turn, self.turn)
        # into_hi[b, s]: the last move b -> hi, after a move into b going way s (the first cell's, the others')
        self._into_hi = tuple(leave[cells, hi][:, None] * t[:, out_way].T for t in self._turns)
        # forward[j][b, s]: weight of the paths lo -> ... -> b with b the (j+1)-th free cell, entered going way s,
        # renormalised; its log scale goes into the totals
        self.forward: list[np.ndarray] = []
        self._totals = [_log(inner_kernel[lo, hi]) if lo is not None else 0.0]
        first = np.zeros((len(cells), states))
        in_way = turn_of(lo, cells, cols) if states > 1 and lo is not None else np.full(len(cells), states // 2)
        first[np.arange(len(cells)), in_way] = enter[lo, cells] if lo is not None else 1.0  # no lo: any way (flat row)
        self._next = first * self.weight
        self._scale = 0.0

    @property
    def log_total(self) -> np.ndarray:
        return np.asarray(self._totals, dtype=float)

    def grow(self, j: int) -> None:
        """Forward vectors and totals for up to j free cells (fewer where no longer path reaches hi)."""
        while len(self.forward) < min(j, self.most) and self._next is not None:
            vec = self._next
            top = vec.max() if vec.size else 0.0
            if top <= 0:
                self._next = None
                break
            vec, self._scale = vec / top, self._scale + np.log(top)
            step = len(self.forward)
            self.forward.append(vec)
            self._totals.append(self._scale + _log(float((vec * self._into_hi[step > 0]).sum())))
            came = vec @ self._turns[step > 0]  # came[a, t]: the paths into a, weighted for leaving a going way t
            self._next = np.stack([came[:, t] @ self.inner[t] for t in range(len(self.turn))], axis=1) * self.weight

    def draw(self, j: int, generator) -> list[int]:
        """j free cells (indices into `free`) drawn as a path to hi, last to first."""
        out, after = [], self._into_hi[j > 1]
        states = len(self.turn)
        for step in range(j - 1, -1, -1):
            pick = _draw((self.forward[step] * after).ravel(), generator)
            b, way = divmod(pick, states)
            out.append(self.idx[b])
            turn = self._turns[step > 1]  # at the cell before b
            after = self.inner[way][:, b][:, None] * turn[:, way][None, :]  # moves a -> b going `way`
        return out


def _split(segments: list[_Segment], k: int, generator) -> list[int] | None:
    """How many of k middle holds each segment gets, drawn in proportion to the paths' total weight; None when no
    split chains every pinned hold."""
    table = [np.array([0.0] + [-np.inf] * k)]  # table[i][t]: log weight of t holds in the first i segments
    for seg in segments:
        seg.grow(k)
        prev, totals = table[-1], seg.log_total
        most = min(k, len(totals) - 1)
        terms = np.full((k + 1, most + 1), -np.inf)  # terms[t, j]: t holds so far, j of them in this segment
        for j in range(most + 1):
            terms[j:, j] = prev[: k + 1 - j] + totals[j]
        table.append(np.logaddexp.reduce(terms, axis=1))
    if not np.isfinite(table[-1][k]):
        return None
    split, t = [], k
    for i in range(len(segments) - 1, -1, -1):
        totals = segments[i].log_total
        j = np.arange(min(t, len(totals) - 1) + 1)
        logw = table[i][t - j] + totals[j]
        pick = int(j[_draw(np.exp(logw - logw.max()), generator)])
        split.append(pick)
        t -= pick
    return split[::-1]


def _log(x: float) -> float:
    return float(np.log(x)) if x > 0 else -np.inf


def _draw(weights: np.ndarray, generator) -> int:
    """An index drawn in proportion to non-negative weights (not all 0)."""
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    cum = np.cumsum(weights)
    return int(min(np.searchsorted(cum, u * cum[-1], side="right"), len(weights) - 1))
