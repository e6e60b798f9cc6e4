"""Fitting the chain placement's move corrections (hparams decode.chain_delta; gan/chain.py, docs/gan.md).

The chain draws middle holds with weight p_gen(cell) x q(move) ** move_weight per move. The generator's
per-cell probabilities are smooth, so neighbouring cells are likely together and the chain still strings too
many short moves (0.61 moves under 1.5 cells between middle holds per route, against 0.37 in real routes), and
its last move into the end hold comes out too long. So each kind of move (KINDS: from a start into the chain,
between middle holds, into an end hold, and between the two start holds where a 2nd start is drawn) gets a log
correction per move bin, fitted per grade by iterative proportional fitting: decode routes of the grade,
compare the shares of their moves of each kind with the training routes' shares, add the log ratio, again. A
bin neither side uses keeps 0 (both shares are smoothed toward the training routes' shares: gan/prior.py
move_log_shares). The middle holds' sideways offsets from the route's line (gan/chain.py offset_bins) are
fitted the same way, in the same rounds: a chain of moves alone wanders sideways like a random walk. So are
the turns at middle holds (the sideways direction of the move in by that of the move out: gan/chain.py), as a
chain of moves alone zigzags less than real routes do."""

from __future__ import annotations

import numpy as np

from routegen.board import consecutive_cells
from routegen.gan.chain import OFFSET_BINS, TURNS, offset_bins, turn_of
from routegen.gan.prior import MOVE_BINS, move_bin, move_log_shares
from routegen.generation.base import real_routes_by_grade, resolve_grade

KINDS = ("enter", "inner", "leave", "starts")  # "starts": between two start holds (decode._hold_pick draws the 2nd)
FITTED = (*KINDS, "offset", "turn")  # each grade's corrections, in this order: the move kinds, offset bins, turns
ROUNDS = 4  # fitting rounds: the turns, fitted at half steps, settle by the 4th
ROUTES = 512  # decoded routes per grade and round
STEP_LIMIT = 2.0  # the most one round changes a bin's log weight (a bin decoded rarely has a noisy share)
STEP = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5)  # of the log ratio taken per round: a turn also moves the moves' shares


def move_kind(role_a: str, role_b: str) -> int | None:
    """The index in KINDS of the move between consecutive holds of these roles; None for a move neither the chain
    nor the 2nd start's draw makes (start to end, end to end)."""
    if role_a == role_b == "start":
        return 3
    if "middle" not in (role_a, role_b):
        return None
    if role_a == "start":
        return 0
    return 2 if role_b == "end" else 1


def kind_counts(routes) -> np.ndarray:
    """(len(KINDS), MOVE_BINS) how many moves of each kind fall in each bin."""
    out = np.zeros((len(KINDS), MOVE_BINS))
    for r in routes:
        role = {h.cell: name for name in ("start", "middle", "end") for h in getattr(r, name)}
        for a, b in consecutive_cells(role):
            if (k := move_kind(role[a], role[b])) is not None:
                out[k, move_bin(a, b)] += 1
    return out


def offset_counts(routes) -> np.ndarray:
    """(OFFSET_BINS,) how many middle holds lie in each bin of sideways offset from their route's line."""
    out = np.zeros(OFFSET_BINS)
    for r in routes:
        if r.middle and r.start and r.end:
            cells = [h.cell for h in r.middle]
            out += np.bincount(offset_bins(cells, [h.cell for h in r.start], [h.cell for h in r.end]),
                               minlength=OFFSET_BINS)  # fmt: skip
    return out


def turn_counts(routes) -> np.ndarray:
    """(TURNS * TURNS,) how many middle holds are entered going one way and left going another (turn_of: left,
    straight up, right), the way in first."""
    out = np.zeros(TURNS * TURNS)
    for r in routes:
        middle = {h.cell for h in r.middle}
        cells = sorted(h.cell for h in (*r.start, *r.middle, *r.end))
        for a, b, c in zip(cells, cells[1:], cells[2:]):
            if b in middle:
                out[turn_of(a, b) * TURNS + turn_of(b, c)] += 1
    return out


def fitted_counts(routes) -> list[np.ndarray]:
    """The counts that FITTED's corrections are fitted to: per move kind (kind_counts), offset_counts, then
    turn_counts."""
    return [*kind_counts(routes), offset_counts(routes), turn_counts(routes)]


def fit_chain_delta(
    module, train_problems, *, seed: int = 0, rounds: int = ROUNDS, n: int = ROUTES, grades=None
) -> tuple[dict, np.ndarray]:
    """({str(grade class): [a log correction per move bin for each of KINDS, per offset bin, per turn]} for every grade
    the module was trained on (or the grade numbers in `grades`) that has training routes, fitted against them;
    (rounds, len(FITTED)) the total variation distance between the decoded and the training routes' shares per
    round, averaged over the grades). Sets the corrections in module.hparams.decode as it goes (each round
    decodes with the last)."""
    real = {number: fitted_counts(rs) for number, rs in real_routes_by_grade(module, train_problems).items()}
    pooled = [sum(counts[i] for counts in real.values()) for i in range(len(FITTED))]
    delta: dict[str, list] = {}
    module.hparams.decode["chain_delta"] = delta
    tv = []
    for number in sorted(module.trained_grades if grades is None else grades):
        if number not in real:
            continue
        c, mine = resolve_grade(module, number), real[number]
        target = [np.asarray(move_log_shares(mine[i], pooled[i])) for i in range(len(FITTED))]
        current = [np.zeros(len(t)) for t in target]
        for r in range(rounds):
            delta[str(c)] = [x.tolist() for x in current]
            decoded = fitted_counts(module.generate([number] * n, seed=seed + 1000 * r + number, realism=1))
            tv.append([_tv(decoded[i], mine[i]) for i in range(len(FITTED))])
            for i in range(len(FITTED)):
                # the decoded shares, smoothed toward the grade's real ones (the pooled shares add under one count)
                have = np.asarray(move_log_shares(decoded[i], mine[i] + pooled[i] / max(pooled[i].sum(), 1)))
                current[i] += STEP[i] * np.clip(target[i] - have, -STEP_LIMIT, STEP_LIMIT)
        delta[str(c)] = [x.tolist() for x in current]
    return delta, np.asarray(tv).reshape(-1, rounds, len(FITTED)).mean(0)


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between two count vectors' shares."""
    return 0.5 * float(np.abs(a / max(a.sum(), 1) - b / max(b.sum(), 1)).sum())
