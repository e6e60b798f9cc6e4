"""gan_spread: start, middle and end holds drawn with the grade's hold shares (decode.hold_weight) spread a
collapsed generator's routes over the holds real routes use; weight 0 is today's decoding, fixed holds stay, a seed fixes
the routes; `routegen calibrate --hold-weight` counts the shares into an older checkpoint and picks the weight."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from generator_helpers import save_cgan

from routegen.board import NUM_CELLS, cell_row
from routegen.gan.decode import decode
from routegen.gan.prior import (
    END,
    MIDDLE,
    START,
    DecodePrior,
    DecodePriors,
    data_prior,
    generator_log_shares,
    hold_log_shares,
)
from routegen.generation.metrics import hold_spread
from routegen.route import check_route, parse_route

FIXED = ["C5 | | D18", "A5 B3 | F10 | D18 E18", " | G8 | ", "K5 | D17 | ", " | | A18"]
EIGHT = dict(hold_counts=[0] * 5 + [1] + [0] * 6, start_threshold=1.01, end_threshold=1.01)  # 8 holds, 1 start, 1 end


def collapsed_logits(seed: int, favourite: int = 2) -> torch.Tensor:
    """Random logits of a generator that puts the end hold on column `favourite` of row 18 (C18) every time and
    its start on F5."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((4, 18, 11), generator=g) * 2
    logits[0] += 3.0
    logits[3, 17, favourite] += 6.0
    logits[1, 4, 5] += 6.0
    return logits


def row18(board) -> list[int]:
    return sorted(h.cell for h in board.holds if cell_row(h.cell) == 18)


def starts(board) -> list[int]:
    return sorted(h.cell for h in board.holds if cell_row(h.cell) <= 6)


def log_shares(cells: list[int], others: float = -20.0) -> list[float]:
    """A hold prior that likes `cells` equally and (nearly) nothing else."""
    out = [others] * NUM_CELLS
    for c in cells:
        out[c] = -math.log(len(cells))
    return out


def decode_all(prior, board, seeds=range(60), logits=collapsed_logits, fixed=None, temperature=1.0):
    return [decode(logits(s), board, fixed, temperature, torch.Generator().manual_seed(s), prior) for s in seeds]


def test_a_strong_hold_prior_moves_the_end_holds_to_its_cells(board2016):
    ends = row18(board2016)
    liked = [ends[0], ends[-1]]
    off = decode_all(DecodePrior(**EIGHT), board2016)
    on = decode_all(DecodePrior(**EIGHT, end_logq=log_shares(liked), hold_weight=1.0), board2016)
    share = {name: sum(r.end[0].cell in liked for r in rs) / len(rs) for name, rs in (("off", off), ("on", on))}
    assert share["off"] < 0.1 and share["on"] > 0.95, share
    assert {r.end[0].cell for r in on} == set(liked)  # Gumbel noise: both liked cells, not just one
    assert all(check_route(r, board2016).ok for r in off + on)
    # without end shares the end holds are as without the prior; the start shares alone move the starts
    only_start = decode_all(DecodePrior(**EIGHT, start_logq=log_shares([starts(board2016)[0]]), hold_weight=1.0),
                            board2016)  # fmt: skip
    assert all(r.start[0].cell == starts(board2016)[0] for r in only_start)


def test_the_generator_share_correction_spreads_a_collapsed_generator(board2016):
    """q uniform over row 18 and m the collapsed generator's own shares: weight 1 spreads the end holds over the
    row about evenly, where a plain product with q (no m) keeps the generator's favourite on top."""
    ends = row18(board2016)
    q = log_shares(ends)
    batch = torch.stack([collapsed_logits(1000 + s) for s in range(128)])
    m = generator_log_shares(batch, END)
    assert sum(math.exp(m[c]) for c in range(17 * 11, 18 * 11)) == pytest.approx(1.0, abs=1e-6)  # over row 18
    assert max(ends, key=lambda c: m[c]) == parse_route("C18")[0].holds[0].cell  # the generator's favourite
    routes = {
        "off": decode_all(DecodePrior(**EIGHT), board2016, range(200)),
        "product": decode_all(DecodePrior(**EIGHT, end_logq=q, hold_weight=1.0), board2016, range(200)),
        "corrected": decode_all(DecodePrior(**EIGHT, end_logq=q, end_logm=m, hold_weight=1.0), board2016, range(200)),
    }
    spread = {k: hold_spread(rs) for k, rs in routes.items()}
    assert spread["off"]["end_top"] == "C18" and spread["off"]["end_top_share"] > 0.7, spread
    assert spread["product"]["end_top"] == "C18", spread  # a uniform q doesn't undo a confident generator
    assert spread["corrected"]["end_top_share"] < 0.25 and spread["corrected"]["end_effective"] > 0.8 * len(ends)
    assert spread["corrected"]["end_effective"] > spread["product"]["end_effective"] + 1, spread


def middle_favourite_logits(seed: int) -> torch.Tensor:
    """collapsed_logits whose generator also puts a middle hold on E8 every time (the trained cGAN's habit)."""
    logits = collapsed_logits(seed)
    logits[2] -= 2.0
    logits[2, 7, 4] = 12.0
    return logits


def test_the_middle_share_correction_spreads_an_overused_middle_hold(board2016):
    """The trained cGAN put E8 in 61% of its routes (real: 12%): with the grade's middle shares q and the
    generator's own m, weight 1 brings the favourite down to about q's share; weight 0 leaves it."""
    e8 = parse_route("E8")[0].holds[0].cell
    middles = [h.cell for h in board2016.holds if 7 <= cell_row(h.cell) <= 12]
    q = log_shares(middles)  # the grade likes these middles equally: E8 among them
    batch = torch.stack([middle_favourite_logits(1000 + s) for s in range(128)])
    m = generator_log_shares(batch, MIDDLE)
    assert sum(math.exp(x) for c, x in enumerate(m) if cell_row(c) < 18) == pytest.approx(1.0, abs=1e-6)
    shares = dict(middle_logq=q, middle_logm=m)
    routes = {w: decode_all(DecodePrior(**EIGHT, **shares, hold_weight=w), board2016, range(200),
                            logits=middle_favourite_logits) for w in (0.0, 1.0)}  # fmt: skip
    used = {w: sum(any(h.cell == e8 for h in r.middle) for r in rs) / len(rs) for w, rs in routes.items()}
    assert used[0.0] > 0.8 and used[1.0] < 0.4, used
    assert all(check_route(r, board2016).ok for rs in routes.values() for r in rs)


def test_fixed_holds_stay_and_routes_stay_valid(board2016):
    ends = row18(board2016)
    prior = DecodePrior(**EIGHT, start_logq=log_shares(starts(board2016)[:2]), end_logq=log_shares(ends[:1]),
                        hold_weight=5.0)  # fmt: skip
    for text in FIXED:
        fixed, _ = parse_route(text)
        for temperature in (0.0, 1.0):
            for route in decode_all(prior, board2016, range(15), fixed=fixed, temperature=temperature):
                assert check_route(route, board2016).ok, (text, route)
                for role in ("start", "middle", "end"):
                    assert set(getattr(fixed, role)) <= set(getattr(route, role)), (text, route)
                if fixed.end:  # a fixed end is kept: the prior only chooses free ones
                    assert set(route.end) - set(fixed.end) <= {h for h in route.end if h.cell == ends[0]}


def test_weight_0_is_todays_decoding(board2016):
    ends = row18(board2016)
    shares = dict(start_logq=log_shares(starts(board2016)[:1]), end_logq=log_shares(ends[:1]),
                  start_logm=[0.0] * NUM_CELLS, end_logm=[0.0] * NUM_CELLS)  # fmt: skip
    for base in (EIGHT, dict(hold_counts=[1] * 12, start_threshold=0.05, end_threshold=0.05)):
        for move in ({}, {"move_logq": [-3.0] * 198, "move_weight": 0.3}):
            today = decode_all(DecodePrior(**base, **move), board2016, range(30))
            zero = decode_all(DecodePrior(**base, **move, **shares, hold_weight=0.0), board2016, range(30))
            assert today == zero


def test_decode_priors_weight_0_and_counts(board2016):
    """DecodePriors: weight 0 (or counts without start / end shares, an older checkpoint) builds today's prior;
    with shares and a weight, q from the counts and m from the calibration logits."""
    routes = {0: [parse_route("A5 | C9 | D18")[0], parse_route("A5 B4 | C9 | E18")[0]], 1: []}
    counts = data_prior(routes, 2)
    assert sum(counts["start_counts"][0]) == 3 and sum(counts["end_counts"][0]) == 2
    assert counts["end_counts"][0][parse_route("D18")[0].holds[0].cell] == 1 and not any(counts["end_counts"][1])
    pooled = [sum(x) for x in zip(*counts["end_counts"])]
    for c in (0, 1):
        q = hold_log_shares(counts["end_counts"][c], pooled)
        assert sum(math.exp(x) for x in q) == pytest.approx(1.0)
    free = lambda c, n, seed: torch.stack([collapsed_logits(seed + i) for i in range(n)])  # noqa: E731
    priors = DecodePriors(counts, free)
    assert priors.get(0, 0.3, 0.0) == priors.get(0, 0.3) and priors.get(0, 0.3).hold_tables == {}
    p = priors.get(0, 0.3, 1.0)
    assert p.hold_weight == 1.0 and set(p.hold_tables) == {START, MIDDLE, END}
    no_middle = {k: v for k, v in counts.items() if k != "middle_counts"}  # counted before middle shares
    assert set(DecodePriors(no_middle, free).get(0, 0.3, 1.0).hold_tables) == {START, END}
    old = {k: v for k, v in counts.items() if k not in ("start_counts", "middle_counts", "end_counts")}
    assert DecodePriors(old, free).get(0, 0.3, 1.0).hold_tables == {}  # nothing to draw with: today's decoding


def test_hold_prior_decoding_is_deterministic_for_a_seed(board2016):
    ends = row18(board2016)
    prior = DecodePrior(**EIGHT, end_logq=log_shares(ends), hold_weight=1.0, move_logq=[-3.0] * 198, move_weight=0.3)
    a = decode_all(prior, board2016, range(20))
    b = decode_all(prior, board2016, range(20))
    assert a == b
    other = [decode(collapsed_logits(s), board2016, None, 1.0, torch.Generator().manual_seed(s + 1), prior)
             for s in range(20)]  # fmt: skip
    assert other != a
    argmax = decode_all(prior, board2016, [3, 3], logits=lambda s: collapsed_logits(3), temperature=0.0)
    assert argmax[0] == argmax[1]


def test_best_hold_weight_takes_the_closest_spread_within_auc_noise():
    from routegen.gan.calibrate import best_hold_weight, format_hold_weights

    real = {"start_top": "F5", "start_top_share": 0.3, "start_effective": 16.0, "end_top": "E18",
            "end_top_share": 0.2, "end_effective": 8.0}  # fmt: skip

    def row(w, aucs, gap):
        return {"weight": w, "aucs": aucs, "auc": float(np.mean(aucs)), "spread": real, "gap": gap}

    table = {"real": real, "n_real": 10,
             "rows": [row(0.0, [0.70, 0.71], 1.0), row(0.5, [0.70, 0.72], 0.3), row(1.0, [0.80, 0.81], 0.0)]}  # fmt: skip
    assert best_hold_weight(table) == 0.5  # 1.0 spreads best but is far less real
    table["rows"][2] = row(1.0, [0.71, 0.725], 0.05)  # within noise now
    assert best_hold_weight(table) == 1.0
    assert "1.0" in format_hold_weights(table) and "E18" in format_hold_weights(table)


# --- routegen calibrate --hold-weight on a tiny untrained cGAN whose decode prior has no start / end shares


@pytest.fixture(scope="module")
def old_cgan(tmp_path_factory, tiny_data):
    return save_cgan(tmp_path_factory.mktemp("cgan") / "cgan.ckpt", tiny_data, hold_shares=False)


def test_calibrate_hold_weight_counts_the_shares_and_picks_a_weight(old_cgan, tiny_data, tmp_path, capsys):
    from routegen.board import load_board
    from routegen.checkpoints import load_module, read_checkpoint
    from routegen.cli import main
    from routegen.data import load_problems, split_problems
    from routegen.gan.calibrate import HOLD_WEIGHTS
    from routegen.gan.prior import decode_counts
    from routegen.grades import parse_grade

    out = tmp_path / "c.ckpt"
    args = ["calibrate", "--ckpt", old_cgan, "--out", out, "--hold-weight", "auto", "-n", "10", "--grades", "6B+,7A",
            "--data-dir", tiny_data]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    text = capsys.readouterr().out
    hp = read_checkpoint(out)["hyper_parameters"]
    assert hp["decode"]["hold_weight"] in HOLD_WEIGHTS and hp["decode"]["move_weight"] == 0.3  # the rest kept
    assert f"decode.hold_weight={hp['decode']['hold_weight']}" in text and "real " in text
    m = load_module(old_cgan)
    want = decode_counts(split_problems(load_problems(tiny_data), "font", 0)["train"], m.scale)
    assert hp["decode_prior"]["end_counts"] == want["end_counts"]
    assert hp["decode_prior"]["start_counts"] == want["start_counts"]
    assert hp["decode_prior"]["hold_counts"] == want["hold_counts"]  # merged into the decode prior
    gan = load_module(out)
    assert gan.hparams.decode["hold_weight"] == hp["decode"]["hold_weight"]
    routes = gan.generate([parse_grade("6B+").number] * 8, seed=1)
    assert routes == gan.generate([parse_grade("6B+").number] * 8, seed=1)
    assert all(check_route(r, load_board("2016")).ok for r in routes)

    # another split than the one it was trained with: refused
    bad = ["calibrate", "--ckpt", old_cgan, "--out", tmp_path / "d.ckpt", "--hold-weight", "1", "-n", "10",
           "--grades", "6B+,7A", "--data-dir", tiny_data, "--split-seed", "1"]  # fmt: skip
    assert main([str(a) for a in bad]) != 0
    assert "hold counts differ" in capsys.readouterr().err
    assert not (tmp_path / "d.ckpt").exists()
