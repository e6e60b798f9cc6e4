"""Decoding priors for the cGAN: how many holds, starts and ends real routes of a grade have (docs/gan.md).

The generator learns *where* holds go better than *how many*: left alone it gives too many end holds (1.34 per
route vs 1.02 in the data) and too few holds at hard grades (long moves), which a realism classifier spots at
once. So the decoder takes the counts from the training data instead:
  - a 2nd start / 2nd end hold only when the generator's probability for it clears a threshold, calibrated on
    the generator's own outputs so that the share of 2-start / 2-end routes matches the training data's;
  - the total hold count drawn from the training routes' hold-count distribution for the grade, the middle
    holds then sampled without replacement from the generator's per-cell middle probabilities;
  - with the grade's move shares (moves between consecutive holds, counted by rows up and columns across),
    each middle hold is placed one at a time, its cell weighted by the generator's probability times how
    common the moves it makes are in real routes of the grade (to the power move_weight). Placed independently,
    holds cluster and leave long moves (move-length spread 1.28 vs 1.11 cells in real routes): a realism
    classifier's strongest cue;
  - with the grade's start / end hold shares q (how often each cell starts / ends a training route of the
    grade), the free start and end holds are drawn by the Gumbel-perturbed score
        log p_gen(cell) + hold_weight x (log q_grade(cell) - log m_grade(cell)),
    m the generator's own average share of the cell (its per-route probabilities over the role's cells,
    normalised and averaged over CALIBRATION_N free routes of the grade). Left alone the generator sends most
    routes to one end hold (68 % on C18, 2.5 effective end holds vs 7.6 in real routes), and it does so for
    every noise: its per-route probabilities barely vary. A plain product p_gen x q ** w cannot undo that (the
    generator's favourite keeps winning until q ** w collapses the routes onto q's own favourite instead);
    dividing by m can: at weight 1 the holds are drawn about as often as q says, while a route the generator
    aims elsewhere than usual keeps that preference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from routegen.board import COLS, NUM_CELLS, ROWS, consecutive_cells
from routegen.route import MAX_HOLDS, MIN_HOLDS

START, MIDDLE, END = 1, 2, 3
MOVE_BINS = ROWS * COLS  # a move's (rows up, columns across): rows * COLS + |columns|
_CELLS = np.arange(NUM_CELLS)
MOVE_BIN_OF = (np.abs(_CELLS[:, None] // COLS - _CELLS // COLS) * COLS
               + np.abs(_CELLS[:, None] % COLS - _CELLS % COLS))  # (198, 198): move_bin of every pair  # fmt: skip


@dataclass(frozen=True)
class DecodePrior:
    hold_counts: Sequence[float]  # weights of total hold counts MIN_HOLDS..MAX_HOLDS (index 0 = MIN_HOLDS)
    start_threshold: float  # keep a 2nd start when its probability is at least this
    end_threshold: float
    max_gap: int = 5  # most rows between consecutive holds (decode.max_gap); 5 or less in 98 % of the training
    # routes, 6 - 8 in the other 2 % (more at the hard grades): at 5 the decoder never makes them (rule: 8)
    max_move: float = 7.1  # longest move (cells, Euclidean) of 90 % of the training routes: longer ones are split
    move_logq: Sequence[float] | None = None  # log share of the grade's moves per move_bin (None: not used)
    move_weight: float = 1.0  # how much the move lengths weigh against the generator's probabilities
    start_logq: Sequence[float] | None = None  # log share of the grade's start holds per cell (None: not used)
    end_logq: Sequence[float] | None = None  # log share of the grade's end holds per cell (None: not used)
    middle_logq: Sequence[float] | None = None  # log share of the grade's middle holds per cell (None: not used)
    start_logm: Sequence[float] | None = None  # log of the generator's own average start share per cell (None: 0)
    end_logm: Sequence[float] | None = None
    middle_logm: Sequence[float] | None = None
    hold_weight: float = 0.0  # how much the hold shares weigh against the generator's probabilities
    placement: str = "greedy"  # middle holds with move shares: "greedy" (one at a time) or "chain" (gan/chain.py)
    chain_delta: Sequence | None = None  # chain: log corrections per move bin and kind, per offset bin, per turn

    @cached_property
    def move_table(self) -> np.ndarray | None:
        """(198, 198) log share of the move between any two cells; None without move shares."""
        return None if self.move_logq is None else np.asarray(self.move_logq, dtype=float)[MOVE_BIN_OF]

    @cached_property
    def chain_kernels(self):
        """The chain placement's move weights per kind of move (gan/chain.py Kernels): the grade's move shares **
        move_weight, times exp(the fitted correction of the kind) where there is one."""
        from routegen.gan.chain import Kernels, move_kernel

        base = move_kernel(self.move_table, self.move_weight, self.max_gap, COLS)
        if self.chain_delta is None:
            return Kernels(base, base, base)
        return Kernels(*(base * np.exp(np.asarray(d, dtype=float)[MOVE_BIN_OF]) for d in self.chain_delta[:3]))

    @cached_property
    def start_pair_delta(self) -> np.ndarray | None:
        """(198, 198) the fitted log correction of the move between two start holds (chain_delta's 4th kind), for
        the chain placement only (fitted with it)."""
        delta = self._chain_entry(3)
        return None if delta is None else delta[MOVE_BIN_OF]

    @cached_property
    def chain_offset(self) -> np.ndarray | None:
        """(OFFSET_BINS,) the fitted log weight of a middle hold's sideways offset from the route's line (chain
        placement only; chain_delta's 5th entry, gan/chain_fit.py)."""
        return self._chain_entry(4)

    @cached_property
    def chain_turn(self) -> np.ndarray | None:
        """(3, 3) the fitted weight of a middle hold's turn: the sideways direction of the move into it by that of
        the move out of it (gan/chain.py turn_of; chain placement only; chain_delta's 6th entry)."""
        from routegen.gan.chain import TURNS

        delta = self._chain_entry(5)
        return None if delta is None else np.exp(delta.reshape(TURNS, TURNS))

    def _chain_entry(self, i: int) -> np.ndarray | None:
        """chain_delta's i-th entry as an array under the chain placement; None otherwise, or where the corrections
        predate that entry."""
        if self.placement != "chain" or self.chain_delta is None or len(self.chain_delta) <= i:
            return None
        return np.asarray(self.chain_delta[i], dtype=float)

    @cached_property
    def hold_tables(self) -> dict[int, np.ndarray]:
        """{START: (198,) log q - log m of the start holds (the grade's share over the generator's), MIDDLE: ...,
        END: ...}; a role without shares is left out; empty at weight 0."""
        if self.hold_weight <= 0:
            return {}
        out = {}
        for k, q, m in ((START, self.start_logq, self.start_logm), (MIDDLE, self.middle_logq, self.middle_logm),
                        (END, self.end_logq, self.end_logm)):  # fmt: skip
            if q is not None:
                out[k] = np.asarray(q, dtype=float) - (0.0 if m is None else np.asarray(m, dtype=float))
        return out

    def draw_holds(self, generator: torch.Generator | None) -> int:
        w = torch.tensor([float(x) for x in self.hold_counts]) + 1e-9
        return MIN_HOLDS + int(torch.multinomial(w, 1, generator=generator))


def data_prior(routes_by_class: dict[int, list], num_classes: int) -> dict:
    """Counts from training routes (class index -> Routes): per class the number of routes with 3..14 holds,
    the moves per move_bin, how often each cell is a start / end hold (start_counts, end_counts: 198 per class)
    and the shares of routes with two starts / two ends (pooled, and per class: the pooled share where a class
    has no routes). Plain lists: they go into the hparams."""
    counts = [[0] * (MAX_HOLDS - MIN_HOLDS + 1) for _ in range(num_classes)]
    every = [r for rs in routes_by_class.values() for r in rs]
    for c, rs in routes_by_class.items():
        for r in rs:
            n = len(r.hold_set)
            if MIN_HOLDS <= n <= MAX_HOLDS:
                counts[c][n - MIN_HOLDS] += 1
    moves = [[0] * MOVE_BINS for _ in range(num_classes)]
    for c, rs in routes_by_class.items():
        for r in rs:
            for a, b in consecutive_cells(h.cell for h in r.hold_set):
                moves[c][move_bin(a, b)] += 1
    out = {"hold_counts": counts, "move_counts": moves} | role_counts(routes_by_class, num_classes)
    for role in ("start", "end"):
        pooled = _two(every, role) if every else 0.0
        out[f"two_{role}_rate"] = pooled
        out[f"two_{role}_rates"] = [_two(routes_by_class[c], role) if routes_by_class.get(c) else pooled
                                    for c in range(num_classes)]  # fmt: skip
    return out


def role_counts(routes_by_class: dict[int, list], num_classes: int) -> dict:
    """{"start_counts", "middle_counts", "end_counts"}: per class, how many of its routes use each of the 198 cells
    in that role."""
    out = {}
    for role in ("start", "middle", "end"):
        counts = [[0] * NUM_CELLS for _ in range(num_classes)]
        for c, rs in routes_by_class.items():
            for r in rs:
                for h in getattr(r, role):
                    counts[c][h.cell] += 1
        out[f"{role}_counts"] = counts
    return out


def hold_log_shares(counts: Sequence[int], pooled: Sequence[int], strength: float = 50.0) -> list[float]:
    """Log shares of a grade's start (middle, end) holds per cell, smoothed like move_log_shares: toward every grade's
    shares (`strength` pseudo-holds), those toward uniform (one pseudo-hold per cell). A cell no training route
    uses keeps a small share (about 1 / all training holds), so the prior never forbids what the rules allow."""
    return move_log_shares(counts, pooled, strength)


def move_bin(a: int, b: int) -> int:
    """The bin of the move between cells a and b: rows apart * COLS + columns apart."""
    return int(MOVE_BIN_OF[a, b])


def move_log_shares(counts: Sequence[int], pooled: Sequence[int], strength: float = 50.0) -> list[float]:
    """Log shares of a grade's moves per bin, smoothed toward every grade's shares (`strength` pseudo-moves) and
    then toward uniform (one pseudo-move), so that rare grades and rare moves get sensible values."""
    n_pooled = sum(pooled) + len(pooled)
    prior = [(c + 1) / n_pooled for c in pooled]
    total = sum(counts) + strength
    return [math.log((c + strength * q) / total) for c, q in zip(counts, prior)]


def _two(routes: list, role: str) -> float:
    return sum(len(getattr(r, role)) == 2 for r in routes) / len(routes)


def generator_log_shares(logits: torch.Tensor, role: int) -> list[float]:
    """(B, 4, 18, 11) logits -> per cell the log of the generator's average share of `role` (START / MIDDLE /
    END): each route's role probabilities normalised over the cells where the role may go (rows <= 6 / below
    row 18 / row 18; the generator already gives ~0 off the board), then averaged over the routes. Cells where
    the role can't go: 0."""
    rows = torch.arange(NUM_CELLS) // COLS + 1
    allowed = {START: rows <= 6, MIDDLE: rows < ROWS, END: rows == ROWS}[role]
    logp = torch.log_softmax(logits.double(), dim=1)[:, role].flatten(1)[:, allowed]  # (B, cells)
    share = torch.softmax(logp, dim=1).mean(0).clamp_min(1e-12)
    out = torch.zeros(NUM_CELLS, dtype=torch.float64)
    out[allowed] = share.log()
    return out.tolist()


def second_best(logits: torch.Tensor, role: int) -> torch.Tensor:
    """(B, 4, 18, 11) logits -> (B,) probability of the 2nd most likely cell for `role`."""
    p = torch.softmax(logits.float(), dim=1)[:, role].flatten(1)
    return p.topk(2, dim=1).values[:, 1]


def calibrate(logits: torch.Tensor, two_start_rate: float, two_end_rate: float) -> tuple[float, float]:
    """Thresholds on the 2nd-best start / end probability so that the given shares of these logits clear them."""

    def cut(values: torch.Tensor, rate: float) -> float:
        if rate <= 0:
            return 1.01  # never
        return float(torch.quantile(values, min(1.0, max(0.0, 1.0 - rate))))

    return cut(second_best(logits, START), two_start_rate), cut(second_best(logits, END), two_end_rate)


# --- The cGAN's decoding priors: the training routes' counts per grade (in the hparams) + calibrated thresholds


def decode_counts(problems, scale) -> dict:
    """data_prior of training problems, grouped by their class on `scale` (what the hparams keep)."""
    by_class: dict[int, list] = {}
    for p in problems:
        if (c := scale.class_of(p.grade, p.grade_v)) is not None:
            by_class.setdefault(c, []).append(p.route)
    return data_prior(by_class, scale.num_classes)


class DecodePriors:
    """The cGAN's DecodePrior per grade class, built on first use from `counts` (data_prior of the training split)
    and the generator's own outputs: its 2nd start / end thresholds are calibrated on CALIBRATION_N free routes of
    the grade (fixed seed), to the training routes' share of 2-start / 2-end routes of the grade.

    `free_logits(grade_class, n, seed)` -> (n, 4, 18, 11) CPU logits of the generator for n free routes."""

    CALIBRATION_N = 128

    def __init__(self, counts: dict, free_logits: Callable[[int, int, int], torch.Tensor]) -> None:
        self.counts = counts
        self.free_logits = free_logits
        self.reset()

    def reset(self) -> None:
        """Forget the calibration: the generator has changed (a training epoch)."""
        self._thresholds: dict[int, tuple[float, float]] = {}
        self._gen_shares: dict[int, dict[str, list[float]]] = {}  # grade -> start_logm, end_logm
        self._priors: dict[tuple, DecodePrior] = {}

    def get(self, grade_class: int, move_weight: float, hold_weight: float = 0.0, placement: str = "greedy",
            chain_delta: Sequence | None = None, max_gap: int = 5) -> DecodePrior:
        """The grade's prior; move_weight > 0 also places middle holds by the grade's move shares, hold_weight > 0
        draws start / end holds by the grade's start / end shares (when the counts have them: checkpoints from
        before them get them from `routegen calibrate --hold-weight`)."""
        c, saved = grade_class, self.counts
        if c not in self._thresholds:
            logits = self.free_logits(c, self.CALIBRATION_N, 12345 + c)
            self._thresholds[c] = calibrate(logits, saved["two_start_rates"][c], saved["two_end_rates"][c])
            self._gen_shares[c] = {f"{name}_logm": generator_log_shares(logits, k)
                                   for name, k in (("start", START), ("middle", MIDDLE), ("end", END))}
        # the prior keeps chain_delta, so its id stays valid as a key
        key = (c, move_weight, hold_weight, placement, id(chain_delta), max_gap)
        if key not in self._priors:  # cached: its move table is built once per grade
            counts, moves = saved["hold_counts"][c], saved["move_counts"]
            shares = {}
            if hold_weight > 0 and saved.get("start_counts") and saved.get("end_counts"):
                # middle shares: only in counts made since they were added (`routegen calibrate --hold-weight`)
                for role in ("start", "middle", "end"):
                    if per_class := saved.get(f"{role}_counts"):
                        shares[f"{role}_logq"] = hold_log_shares(per_class[c], [sum(x) for x in zip(*per_class)])
                        shares[f"{role}_logm"] = self._gen_shares[c][f"{role}_logm"]
            self._priors[key] = DecodePrior(
                counts if sum(counts) else [1.0] * len(counts),
                *self._thresholds[c],
                max_gap=max_gap,
                move_logq=move_log_shares(moves[c], [sum(m) for m in zip(*moves)]) if move_weight > 0 else None,
                move_weight=move_weight,
                placement=placement,
                chain_delta=chain_delta,
                hold_weight=hold_weight if shares else 0.0,
                **shares,
            )
        return self._priors[key]
