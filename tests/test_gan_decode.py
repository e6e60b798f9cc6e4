"""gan_decode: the repaired decode is always valid and keeps fixed holds; the naive one is the raw sample."""

from __future__ import annotations

import pytest
import torch

from routegen.gan.decode import decode, naive_decode
from routegen.route import FixedHoldsError, check_fixed, check_route, move_lengths, parse_route

FIXED = ["C5 | | D18", "A5 B3 | F10 | D18 E18", " | G8 | ", "K5 | D17 | "]


def random_logits(seed: int, none_bias: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((4, 18, 11), generator=g) * 3
    logits[0] += none_bias
    return logits


@pytest.mark.parametrize("none_bias", [-5.0, 0.0, 3.0, 8.0, 30.0])  # from "a hold everywhere" to "no hold at all"
def test_decode_always_valid(board2016, none_bias):
    for seed in range(60):
        g = torch.Generator().manual_seed(seed)
        for temperature in (0.0, 1.0, 2.0):
            route = decode(random_logits(seed, none_bias), board2016, temperature=temperature, generator=g)
            assert check_route(route, board2016).ok, (seed, route, check_route(route, board2016))


def test_decode_keeps_fixed_holds_in_their_roles(board2016):
    for text in FIXED:
        fixed, _ = parse_route(text)
        for seed in range(40):
            route = decode(random_logits(seed, 3.0), board2016, fixed, generator=torch.Generator().manual_seed(seed))
            assert check_route(route, board2016).ok
            for name in ("start", "middle", "end"):
                assert set(getattr(fixed, name)) <= set(getattr(route, name)), (text, route)


def test_naive_decode_is_the_raw_sample(board2016):
    # random logits put holds nearly everywhere: the naive decode breaks rules the repaired one fixes
    naive = [naive_decode(random_logits(s), 1.0, torch.Generator().manual_seed(s)) for s in range(20)]
    assert sum(check_route(r, board2016).ok for r in naive) == 0
    logits = random_logits(0)
    assert naive_decode(logits, 0.0) == naive_decode(logits, 0.0)  # argmax: deterministic
    pinned = naive_decode(logits, 1.0, fixed=parse_route("C5 | | D18")[0])
    assert parse_route("C5 | | D18")[0].start[0] in pinned.start


def test_decode_is_deterministic_for_a_seed(board2016):
    logits = random_logits(3, 3.0)
    a = decode(logits, board2016, generator=torch.Generator().manual_seed(7))
    b = decode(logits, board2016, generator=torch.Generator().manual_seed(7))
    assert a == b


def test_fixed_hold_off_the_board(board2016):
    off = next(h for h in (parse_route(f"{c}{r}")[0].holds[0] for c in "ABCDEFGHIJK" for r in range(1, 19))
               if h not in board2016)  # fmt: skip
    fixed, _ = parse_route(f"{off} | | D18") if off.row <= 6 else parse_route(f" | {off} | D18")
    with pytest.raises(FixedHoldsError, match="not on the"):
        check_fixed(fixed, board2016)


def test_fixed_holds_without_a_valid_completion(board2016):
    # 12 fixed holds in rows <= 6 and an end: closing the 12-row gap needs a 14th and a 15th hold
    fixed, _ = parse_route("A5 | G2 J2 B3 D3 B4 G4 I4 C5 D5 F5 H5 | D18")
    with pytest.raises(FixedHoldsError, match="need more than 14"):
        decode(random_logits(0, 3.0), board2016, fixed)


def test_prior_decode_valid_keeps_fixed_and_takes_counts_from_the_prior(board2016):
    from routegen.gan.prior import DecodePrior

    six = DecodePrior([0, 0, 0, 1] + [0] * 8, start_threshold=1.01, end_threshold=1.01)  # 6 holds, 1 start, 1 end
    counts, long_moves = [], []
    for seed in range(60):
        for none_bias in (-5.0, 3.0, 30.0):
            g = torch.Generator().manual_seed(seed)
            route = decode(random_logits(seed, none_bias), board2016, generator=g, prior=six)
            assert check_route(route, board2016).ok, (seed, route)
            assert len(route.start) == 1 and len(route.end) == 1
            assert all(h.row < 18 for h in route.middle)  # no training route has a middle hold on row 18
            rows = sorted(h.row for h in route.hold_set)
            assert max(b - a for a, b in zip(rows, rows[1:])) <= six.max_gap
            counts.append(len(route.hold_set))
            long_moves.append(max(move_lengths(route)) > six.max_move)
    assert sum(n == 6 for n in counts) / len(counts) > 0.9  # more only where a long gap or move needs a hold
    assert sum(long_moves) / len(long_moves) < 0.1  # moves are split where a hold fits between (best effort)
    two = DecodePrior([1] * 12, start_threshold=0.0, end_threshold=0.0)  # a 2nd start / end always clears
    route = decode(random_logits(0, 3.0), board2016, generator=torch.Generator().manual_seed(0), prior=two)
    assert len(route.start) == 2 and len(route.end) == 2
    for text in FIXED:
        fixed, _ = parse_route(text)
        for seed in range(20):
            route = decode(random_logits(seed, 3.0), board2016, fixed, generator=torch.Generator().manual_seed(seed),
                           prior=six)  # fmt: skip
            assert check_route(route, board2016).ok
            for name in ("start", "middle", "end"):
                assert set(getattr(fixed, name)) <= set(getattr(route, name)), (text, route)


def test_data_prior_and_calibration():
    from routegen.gan.prior import calibrate, data_prior, second_best

    routes = [parse_route(t)[0] for t in ["C5 E6 | E8 F11 | D18", "A5 | C9 E12 | K18", "J5 | H12 | H18 G18"]]
    prior = data_prior({0: routes[:2], 2: routes[2:]}, 3)
    assert prior["hold_counts"][0][:3] == [0, 1, 1] and prior["hold_counts"][1] == [0] * 12
    assert prior["two_start_rate"] == pytest.approx(1 / 3) and prior["two_end_rate"] == pytest.approx(1 / 3)
    logits = torch.randn((400, 4, 18, 11), generator=torch.Generator().manual_seed(0)) * 2
    s_cut, e_cut = calibrate(logits, 0.5, 0.05)
    assert (second_best(logits, 1) >= s_cut).float().mean() == pytest.approx(0.5, abs=0.01)
    assert (second_best(logits, 3) >= e_cut).float().mean() == pytest.approx(0.05, abs=0.01)
    assert calibrate(logits, 0.0, 0.0) == (1.01, 1.01)


def test_data_prior_counts_moves_by_rows_up_and_columns_across():
    import math

    from routegen.gan.prior import data_prior, move_bin, move_log_shares

    route, _ = parse_route("C5 E6 | E8 F11 | D18")  # moves: (1 up, 2 across), (2, 0), (3, 1), (7, 2)
    moves = data_prior({0: [route]}, 2)["move_counts"]
    assert {i for i, n in enumerate(moves[0]) if n} == {1 * 11 + 2, 2 * 11 + 0, 3 * 11 + 1, 7 * 11 + 2}
    assert sum(moves[0]) == 4 and sum(moves[1]) == 0
    assert move_bin(46, 59) == move_bin(59, 46) == 13  # C5 <-> E6, either way
    pooled = [a + b for a, b in zip(*moves)]
    for counts in moves:
        shares = move_log_shares(counts, pooled)
        assert sum(math.exp(x) for x in shares) == pytest.approx(1.0)
    assert move_log_shares(moves[1], pooled) == pytest.approx(move_log_shares(pooled, pooled, strength=1e9))
    assert max(move_log_shares(moves[0], pooled)) == move_log_shares(moves[0], pooled)[13]


def test_move_prior_places_holds_where_the_moves_are_likely(board2016):
    """A move prior that only likes 3-rows-straight-up moves makes such moves common; counts, validity and
    fixed holds are as without it."""
    from routegen.gan.prior import MOVE_BINS, DecodePrior, move_bin

    like = [-20.0] * MOVE_BINS
    like[move_bin(0, 3 * 11)] = 0.0
    eight = dict(hold_counts=[0] * 5 + [1] + [0] * 6, start_threshold=1.01, end_threshold=1.01)  # 8 holds
    shares = {}
    for name, prior in (("off", DecodePrior(**eight)), ("on", DecodePrior(**eight, move_logq=like, move_weight=1.0))):
        straight = []
        for seed in range(40):
            g = torch.Generator().manual_seed(seed)
            route = decode(random_logits(seed, 3.0), board2016, generator=g, prior=prior)
            assert check_route(route, board2016).ok and len(route.hold_set) >= 8
            cells = sorted(h.cell for h in route.hold_set)
            straight += [move_bin(a, b) == move_bin(0, 33) for a, b in zip(cells, cells[1:])]
        shares[name] = sum(straight) / len(straight)
    assert shares["on"] > 2 * shares["off"] and shares["on"] > 0.25, shares
    assert_fixed_holds_kept(board2016, DecodePrior(**eight, move_logq=like, move_weight=1.0), range(10))


def assert_fixed_holds_kept(board, prior, seeds) -> None:
    """Every FIXED route decodes to a valid route that keeps its fixed holds in their roles, for each seed."""
    for text in FIXED:
        fixed, _ = parse_route(text)
        for seed in seeds:
            g = torch.Generator().manual_seed(seed)
            route = decode(random_logits(seed, 3.0), board, fixed, generator=g, prior=prior)
            assert check_route(route, board).ok
            for role in ("start", "middle", "end"):
                assert set(getattr(fixed, role)) <= set(getattr(route, role)), (text, route)


def test_decode_never_places_a_middle_hold_on_row_18(board2016):
    from routegen.gan.nets import role_rows

    for seed in range(30):
        logits = random_logits(seed, 3.0)
        logits[2, 17] += 40  # the generator wants middle holds across row 18 (and a third end)
        logits[3, 17, :3] += 40
        for temperature in (0.0, 1.0):
            route = decode(logits, board2016, temperature=temperature, generator=torch.Generator().manual_seed(seed))
            assert all(h.row < 18 for h in route.middle), str(route)
            assert check_route(route, board2016).ok
    allowed = role_rows(torch.ones(18, 11, dtype=torch.bool))
    assert not allowed[1, 17].any() and allowed[1, :17].all()  # the generator's own output mask
