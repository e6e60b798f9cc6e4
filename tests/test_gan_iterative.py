"""gan/iterative: a route drawn hold by hold through the generator, each hold seen before the next is drawn;
counts from the grade's training routes, row gaps closed, fixed holds kept, a seed fixes the routes. And the
completion term that trains the generator for it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from routegen.board import COLS, ROWS
from routegen.encoding import board_mask, routes_to_grids
from routegen.gan.iterative import draw_counts, gap_rows, iterative_routes
from routegen.gan.losses import completion_loss
from routegen.gan.module import CGANModule
from routegen.gan.nets import role_rows
from routegen.gan.prior import data_prior
from routegen.route import MAX_ROW_GAP, check_route, parse_route

EIGHT = {"hold_counts": [[0] * 5 + [1] + [0] * 6], "two_start_rates": [0.0], "two_end_rates": [0.0]}  # 8 holds


class LadderGenerator(torch.nn.Module):
    """A stand-in generator: starts anywhere low, ends anywhere on row 18, and middle holds only in the row
    above the highest start or middle hold fixed so far. Drawn independently, its middle holds would all sit in
    the row above the start's row."""

    def __init__(self, board) -> None:
        super().__init__()
        self.register_buffer("allowed", role_rows(board_mask(board)))

    def forward(self, noise, grade, fixed):
        logits = torch.zeros((len(grade), 4, ROWS, COLS))
        logits[:, 1:] = -30.0
        logits[:, 1, :6] = logits[:, 3, 17] = 0.0
        for i, f in enumerate(fixed):
            used = torch.nonzero(f[:2].sum((0, 2))).flatten()
            logits[i, 2, min(int(used.max()) + 1 if len(used) else 0, ROWS - 2)] = 5.0
        return logits


def ladder_module(board, prior=EIGHT):
    return SimpleNamespace(generator=LadderGenerator(board), hparams=SimpleNamespace(decode_prior=prior))


def test_each_hold_is_drawn_given_the_holds_before_it(board2016):
    m = ladder_module(board2016)
    n = 40
    routes = iterative_routes(m, torch.zeros((n, 1, ROWS, COLS)), torch.zeros(n, dtype=torch.long),
                              torch.zeros((n, 3, ROWS, COLS)), 1.0, torch.Generator().manual_seed(0))  # fmt: skip
    for r in routes:
        start_row = max(h.row for h in r.start)
        rows = sorted(h.row for h in r.middle)
        assert len(r.start) == 1 and len(r.end) == 1 and len(rows) >= 6
        assert rows == list(range(start_row + 1, start_row + 1 + len(rows)))  # a ladder: each on the last
        assert check_route(r, board2016).ok  # a start low enough leaves a gap under the end: closed by the ladder


def test_counts_follow_the_grade_prior_and_fixed_holds_count_toward_them():
    gen = torch.Generator().manual_seed(0)
    fixed = routes_to_grids([parse_route("C5 | | ")[0], parse_route("A5 B3 | F10 | D18 E18")[0]])
    todo = draw_counts(EIGHT, [0, 0], fixed, gen)
    assert todo[0] == ["end"] + ["middle"] * 6
    assert todo[1] == ["middle"] * 3  # two starts, two ends and one middle given: 8 holds in all
    two = {"hold_counts": [[1] + [0] * 11], "two_start_rates": [1.0], "two_end_rates": [1.0]}
    assert draw_counts(two, [0], torch.zeros((1, 3, ROWS, COLS)), gen)[0] == ["start", "start", "end", "end"]


def test_row_gaps_over_the_limit_are_found():
    fixed = routes_to_grids([parse_route("C2 | | D18")[0], parse_route("C5 | D12 | D18")[0]])
    rows = gap_rows(fixed)
    assert rows[0].nonzero().flatten().tolist() == list(range(2, 17))  # rows 3..17 (0-based 2..16)
    assert not rows[1].any()
    assert MAX_ROW_GAP < 16 - 1


@pytest.fixture(scope="module")
def small_cgan():
    torch.manual_seed(0)
    m = CGANModule(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8},
                   decode={"placement": "iterative"})  # fmt: skip
    routes = [
        parse_route(t)[0] for t in ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18", "J5 | I9 H12 G16 | H18"]
    ]
    m.hparams.decode_prior = data_prior({c: routes for c in range(16)}, 16)
    return m.eval()


def test_an_untrained_generator_still_gives_valid_routes_that_keep_fixed_holds(small_cgan, board2016):
    for fixed in (None, parse_route("C5 | | D18")[0], parse_route(" | G8 | ")[0]):
        routes = small_cgan.generate([4, 6, 9] * 20, fixed=fixed, seed=1)
        assert all(check_route(r, board2016).ok for r in routes)
        for r in routes if fixed else ():
            assert set(fixed.start) <= set(r.start) and set(fixed.middle) <= set(r.middle)
            assert set(fixed.end) <= set(r.end)


def test_a_seed_fixes_the_routes(small_cgan):
    a, b = (small_cgan.generate([4, 9] * 10, seed=3) for _ in range(2))
    assert a == b and a != small_cgan.generate([4, 9] * 10, seed=4)


def test_completion_loss_counts_only_free_cells_per_hold_to_place(board2016):
    real = routes_to_grids([parse_route("C5 | E8 F11 | D18")[0]])
    target = torch.cat([1 - real.sum(1, keepdim=True), real], dim=1)
    board = board_mask(board2016)
    sure = (target * 2 - 1) * 20  # logits certain of the real route
    none = torch.zeros_like(real)
    assert completion_loss(sure, real, none, board) < 1e-6
    flat = torch.zeros_like(sure)  # every class 1/4 in every cell
    ce = torch.log(torch.tensor(4.0)) * board.sum() / 4  # 4 holds to place
    assert completion_loss(flat, real, none, board).item() == pytest.approx(ce.item(), rel=1e-5)
    fixed = routes_to_grids([parse_route("C5 | | D18")[0]])  # 2 fixed: 2 holds left, 2 fewer cells
    ce_fixed = torch.log(torch.tensor(4.0)) * (board.sum() - 2) / 2
    assert completion_loss(flat, real, fixed, board).item() == pytest.approx(ce_fixed.item(), rel=1e-5)


def test_training_with_the_completion_term_validates_iterative_routes(monkeypatch):
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader, TensorDataset

    import routegen.gan.module as module

    calls = []
    monkeypatch.setattr(module, "iterative_routes", lambda *a: calls.append(len(a[2])) or iterative_routes(*a))

    torch.manual_seed(0)
    m = CGANModule(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8},
                   loss={"completion_weight": 1.0}, decode={"placement": "iterative"})  # fmt: skip
    real = [parse_route(t)[0] for t in ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18"]]
    m.hparams.decode_prior = data_prior({c: real for c in range(16)}, 16)
    grids = routes_to_grids(real * 4)
    loader = DataLoader(TensorDataset(grids, torch.arange(len(grids)) % 16), batch_size=8)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(m, train_dataloaders=loader, val_dataloaders=loader)
    logged = trainer.callback_metrics
    assert logged["train/completion_ce_epoch"] > 0 and logged["val/batch_unique"] > 0
    assert logged["val/naive_holds"] > 0 and calls == [8]  # the validation batch, drawn hold by hold
    assert logged["val/completion_ce"] > 0  # the held-out completion term, to compare checkpoints by


def test_heldout_completion_ce_asks_the_same_questions_every_epoch():
    torch.manual_seed(0)
    m = CGANModule(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8},
                   loss={"completion_weight": 1.0})  # fmt: skip
    real = routes_to_grids([parse_route(t)[0] for t in ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18"]])
    y = torch.tensor([4, 9])
    first = m.heldout_completion_ce(real, y, batch_idx=0)
    assert first == m.heldout_completion_ce(real, y, batch_idx=0)  # same subsets and noise for the same batch
    assert first != m.heldout_completion_ce(real, y, batch_idx=1)
    opt = torch.optim.Adam(m.generator.parameters(), lr=1e-2)
    for step in range(30):  # fit the completion term on these two routes: their held-out CE must fall
        fixed = m.random_fixed(real, torch.Generator().manual_seed(step), prob=1.0)
        loss = m.completion_term(m.generator(m.noise(2, torch.Generator().manual_seed(step)), y, fixed), real, fixed)
        opt.zero_grad(), loss.backward(), opt.step()
    assert m.heldout_completion_ce(real, y, batch_idx=0) < first - 0.5
