"""V-only problems as Font training data: class ranges, split invariance, and the range likelihood of every head."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from routegen.data import LabelScale, hold_set_key, load_problems, split_problems
from routegen.datamodule import MoonBoardDataModule
from routegen.errors import RoutegenError
from routegen.grader.losses import CornHead, CrossEntropyHead, MSEHead
from routegen.grades import parse_grade

FONT = LabelScale("font")


def test_class_range_of_graded_and_v_only_problems():
    assert FONT.class_range(parse_grade("7A"), 6) == (6, 6)
    assert FONT.class_range(None, 5) == (4, 5)  # V5 = 6C or 6C+
    assert FONT.class_range(None, 8) == (8, 9)  # V8 = 7B or 7B+
    assert FONT.class_range(None, 2) is None  # no Font class of ours is V2
    assert LabelScale("v").class_range(None, 5) == (2, 2)


@pytest.fixture(scope="module")
def both(data_dir):
    graded = load_problems(data_dir, label="font")
    with_v = load_problems(data_dir, label="font", include_v_only=True)
    return graded, with_v


def test_v_only_problems_only_add_training_data(both):
    graded, with_v = both
    extra = [p for p in with_v if p.grade is None]
    assert len(extra) > 5000 and {p.grade_v for p in extra} == {5, 8}
    a, b = split_problems(graded, "font", seed=3), split_problems(with_v, "font", seed=3)
    for name in ("val", "test"):  # the figures stay comparable: same ids with and without the V-only file
        assert [p.id for p in a[name]] == [p.id for p in b[name]]
    graded_sets = {hold_set_key(p.route) for p in graded}
    shared = [p for p in extra if hold_set_key(p.route) in graded_sets]  # same holds, other roles: dropped
    assert len(shared) < 20
    assert len(b["train"]) == len(a["train"]) + len(extra) - len(shared)
    assert not {p.id for p in shared} & {p.id for ps in b.values() for p in ps}


def test_datamodule_yields_ranges_and_fractional_counts(data_dir, tmp_path):
    dm = MoonBoardDataModule(dir=str(data_dir), include_v_only=True, batch_size=512)
    dm.setup()
    grid, low, high = next(iter(dm.train_dataloader()))
    assert grid.shape[1:] == (3, 18, 11) and (high >= low).all() and (high > low).any()
    assert set((high - low).tolist()) <= {0, 1}
    for split in ("val", "test"):  # exactly graded
        _, low, high = dm.datasets[split].tensors
        assert (low == high).all()
    counts = dm.class_counts
    assert counts.sum().item() == pytest.approx(len(dm.splits["train"]))
    assert counts[4] > 0 and counts[5] > 0 and counts[4] != round(counts[4].item())  # V5 mass shared by 6C, 6C+


def test_generators_refuse_range_labels(data_dir):
    from routegen.ar.module import ARTransformerModule

    dm = MoonBoardDataModule(dir=str(data_dir), include_v_only=True)
    module = ARTransformerModule(net={"n_layer": 1, "n_embd": 16, "n_head": 2})

    class FakeTrainer:
        datamodule = dm

    with pytest.raises(RoutegenError, match="include_v_only"):
        module.attach_datamodule(FakeTrainer(), "fit")


def _range_nll(probs: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    return torch.stack([-probs[i, low[i] : high[i] + 1].sum().log() for i in range(len(low))])


def test_corn_is_unchanged_for_exact_labels_and_is_the_range_likelihood_otherwise():
    torch.manual_seed(0)
    C, head = 16, CornHead(16)
    out, y = torch.randn(64, C - 1) * 3, torch.randint(0, C, (64,))
    k = torch.arange(C - 1)
    at_risk, target = (y[:, None] >= k).float(), (y[:, None] > k).float()
    corn = (F.binary_cross_entropy_with_logits(out, target, reduction="none") * at_risk).sum() / at_risk.sum()
    assert head(out, y).item() == pytest.approx(corn.item(), rel=1e-5)
    assert head(out, y, y).item() == pytest.approx(corn.item(), rel=1e-5)
    low, high = torch.tensor([4, 8, 14]), torch.tensor([5, 9, 15])
    for i in range(3):  # normalised by the steps it reaches: low + 1, or low when the range ends on the last class
        steps = low[i].item() + (high[i].item() < C - 1)
        got = head(out[i : i + 1], low[i : i + 1], high[i : i + 1]).item() * steps
        want = _range_nll(head.probs(out[i : i + 1]), low[i : i + 1], high[i : i + 1]).item()
        assert got == pytest.approx(want, rel=1e-4)


def test_cross_entropy_and_mse_ranges():
    torch.manual_seed(1)
    ce = CrossEntropyHead(16)
    out, low, high = torch.randn(3, 16), torch.tensor([4, 8, 3]), torch.tensor([5, 9, 3])
    want = _range_nll(out.softmax(-1), low, high).mean()
    assert ce(out, low, high).item() == pytest.approx(want.item(), rel=1e-5)
    mse = MSEHead(16)
    inside = torch.tensor([[4.5], [9.0], [3.0]])
    assert mse(inside, low, high).item() == 0.0
    assert mse(torch.tensor([[6.0], [9.0], [3.0]]), low, high).item() == pytest.approx(1 / 3)


def test_range_loss_trains_probability_into_the_range():
    torch.manual_seed(2)
    for head in (CornHead(16), CrossEntropyHead(16)):
        logits = torch.zeros(1, head.out_dim, requires_grad=True)
        opt = torch.optim.Adam([logits], lr=0.1)
        for _ in range(300):
            opt.zero_grad()
            head(logits, torch.tensor([4]), torch.tensor([5])).backward()
            opt.step()
        p = head.probs(logits.detach())[0]
        assert p[4:6].sum() > 0.9
