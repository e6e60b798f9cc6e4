"""Route <-> token round trips, the vectorised grid tokenizer, and bad input."""

from __future__ import annotations

import pytest
import torch

from routegen.ar.tokenizer import BOS, EOS, NULL, PAD, PREFIX_LEN, RouteTokenizer, TokenizerError
from routegen.data import load_problems
from routegen.encoding import routes_to_grids
from routegen.route import parse_route


@pytest.fixture(scope="module")
def tok():
    return RouteTokenizer()


def test_encode_decode_round_trip(tok):
    route, _ = parse_route("C5 E6 | E8 F11 C13 D15 | D18")
    seq = tok.encode(route, "2016", 40, 7)
    assert seq[:PREFIX_LEN] == [tok.board_token("2016"), tok.angle_token(40), tok.grade_token(7), BOS]
    assert seq[-1] == EOS and len(seq) == PREFIX_LEN + 7 + 1
    holds = seq[PREFIX_LEN:-1]
    assert holds == sorted(holds)  # canonical order is ascending token id
    assert tok.decode(seq) == route


def test_canonical_order_start_middle_end_bottom_to_top(tok):
    route, _ = parse_route("F5 C5 | F11 E8 | D18")
    holds = [tok.decode([t]) for t in tok.encode(route, "2016", 40, 0)[PREFIX_LEN:-1]]
    assert [str(r) for r in holds] == ["C5 |  | ", "F5 |  | ", " | E8 | ", " | F11 | ", " |  | D18"]


def test_grids_to_tokens_matches_encode_on_real_problems(tok, data_dir):
    routes = [p.route for p in load_problems(data_dir)[:300]]
    grades = torch.arange(len(routes)) % 16
    tokens, ok = tok.grids_to_tokens(routes_to_grids(routes), "2016", 40, grades + tok.grade_offset)
    assert tokens.shape == (len(routes), tok.seq_len) and ok.all()
    for r, g, row in zip(routes, grades.tolist(), tokens.tolist()):
        seq = tok.encode(r, "2016", 40, g)
        assert row == seq + [PAD] * (tok.seq_len - len(seq))


def test_grids_longer_than_max_holds_are_flagged(tok):
    route, _ = parse_route(", ".join(f"{c}{r}" for c, r in zip("ABCDEFGHIJKABCDE", range(2, 18))) + ", A18")
    _, ok = tok.grids_to_tokens(routes_to_grids([route]), "2016", 40, torch.tensor([tok.grade_offset]))
    assert not ok[0]
    with pytest.raises(TokenizerError, match="17 holds"):
        tok.encode(route, "2016", 40, 0)


def test_null_grade_and_bad_conditions(tok):
    assert tok.grade_token(None) == NULL
    with pytest.raises(TokenizerError, match="'2019'"):
        tok.board_token("2019")
    with pytest.raises(TokenizerError, match="33"):
        tok.angle_token(33)
    with pytest.raises(TokenizerError, match="16"):
        tok.grade_token(16)
