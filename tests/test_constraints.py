"""Constrained decoding: never an invalid route, never forbids a real valid one, keeps fixed holds."""

from __future__ import annotations

import pytest
import torch

from routegen.ar.constraints import RouteConstraint, fill_table
from routegen.ar.tokenizer import EOS, PREFIX_LEN, RouteTokenizer
from routegen.data import load_problems
from routegen.route import FixedHoldsError, check_route, parse_route

TOK = RouteTokenizer()


def decode_with_logits(board, logits_fn, batch: int, fixed=None, seed: int = 0):
    """Drive the constraint with arbitrary logits (no model): the masks alone must guarantee validity."""
    g = torch.Generator().manual_seed(seed)
    c = RouteConstraint(TOK, board, batch, fixed=fixed)
    seqs = [[] for _ in range(batch)]
    for _ in range(TOK.max_holds + 1):
        logits = logits_fn(g, batch).masked_fill(~c.allowed(), float("-inf"))
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=g).squeeze(-1)
        nxt = torch.where(c.done, torch.zeros_like(nxt), nxt)
        c.update(nxt)
        for s, t in zip(seqs, nxt.tolist()):
            s.append(t)
        if c.done.all():
            break
    assert c.done.all(), "every sequence ends with EOS within max_holds + 1 tokens"
    return [TOK.decode(s) for s in seqs]


def uniform(g, b):
    return torch.zeros(b, TOK.vocab_size)


def spiky(g, b):  # random, very peaked preferences: pushes into corners (long routes, odd roles, EOS early)
    return torch.randn(b, TOK.vocab_size, generator=g) * 8


@pytest.mark.parametrize("logits_fn", [uniform, spiky])
@pytest.mark.parametrize("seed", range(5))
def test_masks_alone_give_valid_routes(board2016, logits_fn, seed):
    routes = decode_with_logits(board2016, logits_fn, 400, seed=seed)
    bad = [str(r) for r in routes if not check_route(r, board2016).ok]
    assert not bad, bad[:5]
    assert len({r.hold_set for r in routes}) > 300  # and they differ


def test_masks_valid_on_the_2017_board(board2017):
    routes = decode_with_logits(board2017, spiky, 400, seed=1)
    assert all(check_route(r, board2017).ok for r in routes)


def test_masks_allow_every_valid_real_problem(board2016, data_dir):
    """Teacher-force real valid problems: the constraint must never forbid one of their tokens."""
    routes = [p.route for p in load_problems(data_dir)[:4000] if check_route(p.route, board2016).ok]
    seqs = [TOK.encode(r, "2016", 40, 0)[PREFIX_LEN:] for r in routes]
    c = RouteConstraint(TOK, board2016, len(seqs))
    width = max(map(len, seqs))
    tokens = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
    for step in range(width):
        allowed = c.allowed()
        live = ~c.done
        t = tokens[:, step]
        refused = live & ~allowed[torch.arange(len(seqs)), t]
        assert not refused.any(), [str(routes[i]) for i in torch.nonzero(refused).flatten()[:3]]
        c.update(t)
    assert c.done.all()


@pytest.mark.parametrize(
    "fixed_text", ["F5, E18", "C5 | G12 | ", " | D9 J13 | A18 K18", "A5 C5 | |", " | D3 I16 |", "G4 | G17 |"]
)
def test_fixed_holds_are_always_kept(board2016, fixed_text):
    fixed, _ = parse_route(fixed_text)
    routes = decode_with_logits(board2016, spiky, 300, fixed=fixed, seed=3)
    for r in routes:
        assert check_route(r, board2016).ok, str(r)
        for name in ("start", "middle", "end"):
            assert set(getattr(fixed, name)) <= set(getattr(r, name)), (str(r), fixed_text)


def test_fixed_holds_too_far_apart_for_14_holds(board2016):
    """12 fixed middle holds crammed in the top rows leave no budget to bridge from a start: an error, not a hang."""
    mids = " ".join(f"{c}{r}" for r in (15, 16) for c in "ABCDEFG"[:6])
    fixed, _ = parse_route(f" | {mids} | ")
    c = RouteConstraint(TOK, board2016, 2, fixed=fixed)
    with pytest.raises(FixedHoldsError, match="no valid route"):
        c.allowed()


def test_fill_table_bridges_gaps(board2016):
    fill = fill_table(board2016)
    assert fill[10, 18] == 0 and fill[9, 18] == 1 and fill[2, 18] == 1 and fill[1, 18] == 2
    assert fill[5, 13] == 0 and fill[5, 14] == 1


def test_unconstrained_only_masks_specials(board2016):
    c = RouteConstraint(TOK, board2016, 3, constrained=False)
    a = c.allowed()
    assert a[:, TOK.hold_offset :].all() and a[:, EOS].all() and not a[:, :EOS].any()


def test_no_middle_token_on_row_18_even_when_the_model_wants_one(board2016):
    def row18_middles(g, b):  # every middle token on row 18 far likelier than anything else
        logits = torch.randn(b, TOK.vocab_size, generator=g)
        for h in board2016.holds:
            if h.row == 18:
                logits[:, TOK.hold_offset + 198 + h.cell] += 20
        return logits

    routes = decode_with_logits(board2016, row18_middles, 200, seed=1)
    assert all(h.row < 18 for r in routes for h in r.middle)
    assert all(check_route(r, board2016).ok for r in routes)
    with pytest.raises(FixedHoldsError, match="row 18"):
        RouteConstraint(TOK, board2016, 1, fixed=parse_route("F5 | E18 | A18")[0])
