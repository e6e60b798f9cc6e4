"""The grader zoo, loss heads and grading metrics: shapes, gradients to relaxed routes, sparse = dense, math."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from routegen.data import LabelScale
from routegen.encoding import routes_to_grids
from routegen.grader.losses import CornHead, build_loss, class_weights, predict_class
from routegen.grader.metrics import evaluate_classes, expected_calibration_error, flat_metrics, grading_metrics, v_view
from routegen.grader.module import ARCH_ARGS, GraderModule
from routegen.grader.nets import TransformerGrader, build_grader
from routegen.route import parse_route

ROUTES = [
    "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]",
    "C5 E6 | E8 F11 C13 D15 | D18",
    "A5 | B8 C10 E12 F14 | J18",
    "F5 | G7 | K18",
]


@pytest.fixture(scope="module")
def hard():
    return routes_to_grids([parse_route(r)[0] for r in ROUTES])


@pytest.mark.parametrize("arch", list(ARCH_ARGS))
@pytest.mark.parametrize("loss,out_dim", [("ce", 16), ("ordinal", 15), ("mse", 1)])
def test_every_arch_and_loss_reads_hard_and_relaxed_grids_and_passes_gradients(arch, loss, out_dim, hard):
    torch.manual_seed(0)
    m = GraderModule(net={"arch": arch, "d_model": 32, "n_layer": 1, "hidden": 32}, loss={"name": loss}).eval()
    assert m(hard).shape == (4, out_dim)
    relaxed = (0.7 * hard + 0.3 * torch.rand_like(hard) * 0.05).requires_grad_(True)
    probs = m.probs(relaxed)
    assert probs.shape == (4, 16) and torch.allclose(probs.sum(1), torch.ones(4), atol=1e-5)
    m.loss_head.expected(m(relaxed)).sum().backward()
    assert relaxed.grad is not None and relaxed.grad.abs().sum() > 0


def test_transformer_sparse_and_dense_paths_agree_on_hard_routes(hard):
    torch.manual_seed(0)
    net = TransformerGrader(out_dim=16, d_model=32, n_layer=2, n_head=4, dropout=0.0).eval()
    with torch.no_grad():
        sparse, dense = net.forward_sparse(hard), net.forward_dense(hard)
    assert torch.allclose(sparse, dense, atol=1e-3), (sparse - dense).abs().max()
    assert torch.equal(net(hard), sparse)  # hard input without grad takes the sparse path
    assert net(hard.clone().requires_grad_(True)).shape == (4, 16)  # with grad: the dense path


def test_transformer_depends_on_holds_and_roles_not_on_batch_neighbours(hard):
    torch.manual_seed(0)
    net = TransformerGrader(out_dim=16, d_model=32, n_layer=2, n_head=4, dropout=0.0).eval()
    with torch.no_grad():
        alone = net(hard[:1])
        assert torch.allclose(net(hard)[:1], alone, atol=1e-5)  # padding to a longer route changes nothing
        swapped = hard[:1].clone()
        swapped[0, [0, 2]] = swapped[0, [2, 0]]  # start <-> end roles
        assert not torch.allclose(net(swapped), alone)


def test_empty_grid_gives_finite_output():
    net = TransformerGrader(out_dim=16, d_model=16, n_layer=1, n_head=2).eval()
    assert torch.isfinite(net(torch.zeros(2, 3, 18, 11))).all()


def test_build_grader_rejects_unknown_arch_and_sizes():
    with pytest.raises(ValueError, match="unknown grader arch 'cnn'"):
        build_grader("cnn", 16)
    with pytest.raises(TypeError):
        build_grader("linear", 16, d_model=3)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        build_loss("hinge", 16)


def test_corn_probabilities_are_a_distribution_and_learnable():
    head = CornHead(5)
    out = torch.randn(8, 4)
    p = head.probs(out)
    assert torch.allclose(p.sum(1), torch.ones(8), atol=1e-6) and (p >= 0).all()
    # large positive logits up to step k and negative after -> class k
    out = torch.tensor([[9.0, 9.0, -9.0, -9.0]])
    assert head.probs(out).argmax().item() == 2
    y = torch.tensor([2])
    assert head(out, y) < head(-out, y)


def test_mse_head_probs_are_one_hot_of_rounded_prediction():
    head = build_loss("mse", 16)
    out = torch.tensor([[3.4], [20.0], [-2.0]])
    assert head.probs(out).argmax(1).tolist() == [3, 15, 0]
    assert head.expected(out).tolist() == pytest.approx([3.4, 15.0, 0.0])


def test_predict_rules():
    probs = torch.tensor([[0.4, 0.0, 0.2, 0.4], [0.1, 0.1, 0.7, 0.1]])
    assert predict_class(probs, "argmax").tolist() == [0, 2]
    assert predict_class(probs, "median").tolist() == [2, 2]
    assert predict_class(probs, "expected").tolist() == [2, 2]  # 1.6 -> 2, 1.8 -> 2


def test_class_weights_mean_one_and_zero_for_unseen():
    w = class_weights(torch.tensor([100.0, 25.0, 0.0]), power=0.5)
    assert w[2] == 0 and w[:2].mean().item() == pytest.approx(1.0) and w[1] == pytest.approx(2 * w[0])


def test_grading_metrics_by_hand():
    y = np.array([0, 1, 2, 3])
    pred = np.array([0, 2, 2, 0])
    probs = np.eye(4)[pred]
    m = grading_metrics(y, pred, probs, 4)
    assert m["exact"] == 0.5 and m["within1"] == 0.75 and m["mae"] == 1.0
    assert m["ece"] == pytest.approx(0.5)  # confidence 1 everywhere, accuracy 0.5
    perfect = grading_metrics(y, y, np.eye(4)[y], 4)
    assert perfect["qwk"] == pytest.approx(1.0) and perfect["macro_f1"] == 1.0 and perfect["ece"] == 0.0


def test_ece_of_calibrated_predictions_is_small():
    rng = np.random.default_rng(0)
    probs = np.tile([0.7, 0.3], (20000, 1))
    y = (rng.random(20000) > 0.7).astype(int)  # class 0 with probability 0.7
    assert expected_calibration_error(probs, y) < 0.02


def test_font_predictions_are_scored_on_v_of_the_predicted_font_grade():
    font = LabelScale("font")
    classes, probs = np.array([0, 1, 2, 3]), np.eye(16)[[0, 1, 2, 3]]  # 6A 6A+ 6B 6B+
    v_classes, v_probs, n = v_view(font, classes, probs)
    assert n == 12 and v_classes.tolist() == [0, 0, 1, 1]  # V3 V3 V4 V4
    assert np.allclose(v_probs.sum(1), 1)
    table = evaluate_classes(font, np.array([0, 2, 3]), np.array([1, 3, 3]), np.eye(16)[[1, 3, 3]], np.array([3, 3, 2]))
    assert table["font model"]["exact"] == pytest.approx(1 / 3) and table["v model"]["exact"] == 1.0
    assert table["font most frequent"]["exact"] == pytest.approx(1 / 3)  # always 6B+
    flat = flat_metrics(table)
    assert flat["test/font_exact"] == pytest.approx(1 / 3) and flat["test/v_exact"] == 1.0
    assert "test/font_most" not in " ".join(flat)


def test_v_labelled_tables_have_only_v_rows():
    v = LabelScale("v")
    table = evaluate_classes(v, np.array([0, 1]), np.array([0, 1]), np.eye(12)[[0, 1]], np.array([0, 1, 1]))
    assert set(table) == {"v model", "v most frequent", "v median"} and table["v model"]["exact"] == 1.0


def test_group_argmax_and_prior_adjustment():
    probs = torch.tensor([[0.40, 0.35, 0.25, 0.0]])
    groups = torch.tensor([0, 1, 1, 2])  # classes 1 and 2 share a group (like 6C / 6C+ share V5)
    assert predict_class(probs, "argmax").item() == 0
    assert predict_class(probs, "group_argmax", groups=groups).item() == 1  # group 1 holds 0.60
    prior = torch.tensor([0.8, 0.1, 0.1, 0.0])
    assert predict_class(probs, "argmax", prior, prior_power=1.0).item() == 1  # 0.35 / 0.1 beats 0.40 / 0.8
    assert predict_class(probs, "argmax", prior, prior_power=0.0).item() == 0
    # a class never seen in training (prior 0) is not boosted to infinity
    assert predict_class(torch.tensor([[0.9, 0.05, 0.04, 0.01]]), "argmax", prior, 1.0).item() == 0
