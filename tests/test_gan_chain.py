"""The cGAN's chain placement (routegen/gan/chain.py): draws exactly from its path distribution, and decodes
valid routes with the drawn hold count, fixed holds kept."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import torch
from test_gan_decode import assert_fixed_holds_kept, random_logits

from routegen.gan.chain import Kernels, chain_middles, move_kernel
from routegen.gan.decode import decode
from routegen.gan.prior import DecodePrior, move_bin
from routegen.route import check_route, parse_route


def _path_weight(cells, pinned, score, kernel) -> float:
    """exp(sum of scores) x the product of the kernel along the cells in order (brute force)."""
    path = sorted([*cells, *pinned])
    w = math.exp(sum(score[c] for c in cells))
    for a, b in zip(path, path[1:]):
        w *= kernel[a, b]
    return w


def test_chain_draws_middle_holds_in_proportion_to_their_path_weight():
    """On a 6-cell toy board (3 rows of 2), every set of 2 middle holds around two pinned cells comes out as often
    as its exact path weight says, the ones that break the gap limit never."""
    rng = np.random.default_rng(0)
    table = np.log(rng.uniform(0.2, 1.0, (6, 6)))
    rows = np.arange(6) // 2
    kernel = np.where((np.arange(6)[:, None] < np.arange(6)) & (rows - rows[:, None] <= 1), np.exp(table), 0.0)
    pinned, free = [2, 5], [0, 1, 3, 4]
    score = dict(zip(free, rng.normal(size=4)))
    exact = {s: _path_weight(s, pinned, score, kernel) for s in itertools.combinations(free, 2)}
    total = sum(exact.values())
    g = torch.Generator().manual_seed(0)
    n = 20000
    drawn = Counter(
        tuple(
            sorted(
                free[i]
                for i in chain_middles(
                    pinned, free, np.array(list(score.values())), Kernels(kernel, kernel, kernel), 2, 2, g
                )
            )
        )
        for _ in range(n)
    )
    assert set(drawn) == {s for s, w in exact.items() if w > 0}
    for s, w in exact.items():
        p = w / total
        assert abs(drawn[s] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-9, (s, drawn[s] / n, p)


def test_chain_with_turns_draws_middle_holds_in_proportion_to_their_path_weight():
    """With a turn table, each middle hold also weighs the sideways direction of its move in by that of its move
    out (none at a route's first hold): on an 8-cell toy board (4 rows of 2, one free cell below the first pinned
    one) every set of 3 middle holds comes out as often as its exact weight says."""
    from routegen.gan.chain import turn_of

    cols = 2
    rng = np.random.default_rng(1)
    rows = np.arange(8) // cols
    kernel = np.where((np.arange(8)[:, None] < np.arange(8)) & (rows - rows[:, None] <= 1),
                      rng.uniform(0.2, 1.0, (8, 8)), 0.0)  # fmt: skip
    turn = rng.uniform(0.1, 3.0, (3, 3))
    pinned, free = [5, 7], [0, 1, 2, 3, 4, 6]
    score = dict(zip(free, rng.normal(size=len(free))))

    def weight(cells) -> float:
        path = sorted([*cells, *pinned])
        w = _path_weight(cells, pinned, score, kernel)
        for a, b, c in zip(path, path[1:], path[2:]):
            w *= turn[turn_of(a, b, cols), turn_of(b, c, cols)] if b in cells else 1.0
        return w

    exact = {s: weight(s) for s in itertools.combinations(free, 3)}
    total = sum(exact.values())
    g = torch.Generator().manual_seed(0)
    n = 20000
    kernels, scores = Kernels(kernel, kernel, kernel), np.array(list(score.values()))

    def draw() -> tuple:
        return tuple(
            sorted(free[i] for i in chain_middles(pinned, free, scores, kernels, 3, 3, g, turn=turn, cols=cols))
        )

    drawn = Counter(draw() for _ in range(n))
    assert set(drawn) == {s for s, w in exact.items() if w > 0}
    for s, w in exact.items():
        p = w / total
        assert abs(drawn[s] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-9, (s, drawn[s] / n, p)


def test_chain_adds_holds_only_where_fewer_cannot_close_a_gap():
    """No middle hold can't bridge 4 rows with a 2-row gap limit: the fewest that can (1) are drawn instead."""
    cols = 2
    kernel = move_kernel(np.zeros((198, 198)), 1.0, max_gap=2, cols=cols)[:10, :10]
    kernels = Kernels(kernel, kernel, kernel)
    pinned, free = [0, 8], [2, 3, 4, 5, 6, 7]  # rows 0..4 of a 2-column board; pinned on rows 0 and 4
    g = torch.Generator().manual_seed(0)
    picked = chain_middles(pinned, free, np.zeros(6), kernels, 0, 3, g)
    assert len(picked) == 1 and free[picked[0]] in (4, 5)  # the only row (2) in reach of both
    assert chain_middles(pinned, free, np.zeros(6), kernels, 0, 0, g) == []  # none can: []


def test_chain_placement_decodes_valid_routes_with_the_drawn_count(board2016):
    like = [math.log(1e-4)] * (18 * 11)
    like[move_bin(0, 3 * 11)] = 0.0  # three rows straight up: by far the likeliest move
    like[move_bin(0, 2 * 11 + 1)] = math.log(0.5)
    eight = dict(hold_counts=[0] * 5 + [1] + [0] * 6, start_threshold=1.01, end_threshold=1.01)  # 8 holds
    prior = DecodePrior(**eight, move_logq=like, move_weight=1.0, placement="chain")
    counts, straight = [], []
    for seed in range(30):
        g = torch.Generator().manual_seed(seed)
        route = decode(random_logits(seed, 3.0), board2016, generator=g, prior=prior)
        assert check_route(route, board2016).ok, route
        counts.append(len(route.hold_set))
        cells = sorted(h.cell for h in route.hold_set)
        straight += [move_bin(a, b) in (move_bin(0, 33), move_bin(0, 23)) for a, b in zip(cells, cells[1:])]
        again = decode(random_logits(seed, 3.0), board2016, generator=torch.Generator().manual_seed(seed), prior=prior)
        assert again == route  # a seed fixes the draw
    assert sum(n == 8 for n in counts) / len(counts) > 0.9
    assert sum(straight) / len(straight) > 0.6  # the chain follows the likely moves
    assert_fixed_holds_kept(board2016, prior, range(5))


def _widest_gaps(prior, board, seeds) -> list[int]:
    widest = []
    for seed in seeds:
        route = decode(random_logits(seed, 0.5), board, generator=torch.Generator().manual_seed(seed), prior=prior)
        assert check_route(route, board).ok, route
        rows = sorted(h.row for h in route.hold_set)
        widest.append(max(b - a for a, b in zip(rows, rows[1:])))
    return widest


def test_max_gap_bounds_the_chains_row_gaps(board2016):
    """Four holds and moves that all reach far: at max_gap 5 no gap is wider than 5 rows; at 8 (the rule) some
    are, none wider."""
    far = [0.0 if r >= 4 else math.log(1e-3) for r in range(18) for _ in range(11)]  # 4+ rows up
    four = dict(hold_counts=[0, 1] + [0] * 10, start_threshold=1.01, end_threshold=1.01, move_logq=far,
                move_weight=1.0, placement="chain")  # fmt: skip
    five = _widest_gaps(DecodePrior(**four), board2016, range(40))
    eight = _widest_gaps(DecodePrior(**four, max_gap=8), board2016, range(40))
    assert max(five) <= 5 and 5 < max(eight) <= 8


def test_moves_are_counted_by_their_kind():
    from routegen.gan.chain_fit import KINDS, kind_counts

    route, _ = parse_route("A5 C5 | B8 C8 D12 | D18")  # starts A5, C5; middles B8, C8, D12; end D18
    counts = kind_counts([route])
    per_kind = dict(zip(KINDS, counts.sum(1)))
    assert per_kind == {"enter": 1, "inner": 2, "leave": 1, "starts": 1}  # C5-B8; B8-C8, C8-D12; D12-D18; A5-C5
    cell = {name: parse_route(f"{name} | | ")[0].start[0].cell for name in ("B8", "C8")}
    assert counts[KINDS.index("inner"), move_bin(cell["B8"], cell["C8"])] == 1


def test_offsets_are_measured_from_the_line_between_starts_and_ends():
    from routegen.gan.chain import OFFSET_BINS, OFFSET_STEP, offset_bins
    from routegen.gan.chain_fit import offset_counts

    cell = {name: parse_route(f"{name} | | ")[0].start[0].cell for name in ("A5", "C5", "B8", "E10", "F18", "K12")}
    # starts A5, C5 (centre column B, row 5), end F18: the line runs from B5 to F18
    got = offset_bins([cell["B8"], cell["E10"], cell["K12"]], [cell["A5"], cell["C5"]], [cell["F18"]])
    line_at = {8: 1 + 4 * 3 / 13, 10: 1 + 4 * 5 / 13, 12: 1 + 4 * 7 / 13}  # column index of the line at each row
    want = [round(abs(c - line_at[r]) / OFFSET_STEP) for c, r in ((1, 8), (4, 10), (10, 12))]
    assert got.tolist() == [want[0], want[1], OFFSET_BINS - 1]  # K12 lies beyond the last bin
    route, _ = parse_route("A5 C5 | B8 E10 K12 | F18")
    assert offset_counts([route]).tolist() == np.bincount(got, minlength=OFFSET_BINS).tolist()


def test_turns_are_counted_at_middle_holds_by_the_way_in_and_out():
    from routegen.gan.chain import TURNS
    from routegen.gan.chain_fit import turn_counts

    route, _ = parse_route("A5 C5 | B8 D10 D12 | E18")  # in cell order A5 C5 B8 D10 D12 E18
    left, up, right = range(TURNS)
    want = np.zeros(TURNS * TURNS)
    for way_in, way_out in ((left, right), (right, up), (up, right)):  # at B8 (from C5), D10, D12
        want[way_in * TURNS + way_out] += 1
    assert turn_counts([route]).tolist() == want.tolist()


def test_fitting_the_chain_brings_its_short_moves_toward_the_real_ones(tiny_data):
    """A small random cGAN decoded by the chain: fitting the move corrections on the training routes of two grades
    brings the share of middle-to-middle moves under 1.5 cells toward the training routes' share."""
    from generator_helpers import SMALL_CGAN

    from routegen.board import cell_distance
    from routegen.data import load_problems, split_problems
    from routegen.gan.chain_fit import fit_chain_delta
    from routegen.gan.module import CGANModule

    torch.manual_seed(0)
    module = CGANModule(**SMALL_CGAN)
    train = split_problems(load_problems(tiny_data), "font", 0)["train"]
    module.set_decode_prior(train)
    module.hparams.decode.update(placement="chain", move_weight=1.0)
    grades = (4, 7)  # 6B+, 7A

    def short_share(routes) -> float:
        pairs = [
            (a, b)
            for r in routes
            for a, b in zip(sorted(h.cell for h in r.middle), sorted(h.cell for h in r.middle)[1:])
        ]
        return sum(cell_distance(a, b) < 1.5 for a, b in pairs) / len(pairs)

    real = short_share([p.route for p in train if p.grade.number in grades])
    before = short_share(module.generate([g for g in grades for _ in range(200)], seed=1, realism=1))
    delta, tv = fit_chain_delta(module, train, n=200, grades=grades)  # ROUNDS rounds
    after = short_share(module.generate([g for g in grades for _ in range(200)], seed=1, realism=1))
    assert len(delta) == 2 and all(len(d) == 6 for d in delta.values())  # 4 move kinds, the offsets, the turns
    assert abs(after - real) < 0.5 * abs(before - real), (before, after, real)
    assert tv[-1, 1] < tv[0, 1]  # the inner moves' shares got closer
    assert tv[-1, 4] < tv[0, 4]  # and the middle holds' offsets from the route's line
    assert tv[-1, 5] < tv[0, 5]  # and the turns at middle holds
