"""The frozen critic: loading, frozen state that survives a parent's .train(), gradients, scores."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from grader_helpers import save_grader

from routegen.checkpoints import CheckpointError
from routegen.encoding import routes_to_grids
from routegen.grader.critic import Critic
from routegen.route import parse_route

ROUTES = ["[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]", "C5 E6 | E8 F11 C13 D15 | D18", "A5 | B8 C10 E12 F14 | J18"]


@pytest.fixture(scope="module")
def routes():
    return [parse_route(r)[0] for r in ROUTES]


@pytest.fixture(scope="module")
def critic_path(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    save_grader(run / "checkpoints" / "best.ckpt", data_hparams={"board": "2016", "seed": 3}, dropout=0.5)
    return run


def test_load_from_run_dir_is_frozen_and_stays_in_eval(critic_path):
    critic = Critic.load(critic_path)
    assert critic.board == "2016" and critic.scale.name == "font" and critic.data_hparams["seed"] == 3
    assert not any(p.requires_grad for p in critic.parameters())
    parent = torch.nn.Module()
    parent.critic = critic
    parent.train()
    assert not critic.training and not any(m.training for m in critic.modules())


def test_dropout_stays_off_under_a_training_parent(critic_path, routes):
    critic = Critic.load(critic_path)
    parent = torch.nn.Sequential(critic).train()
    grids = routes_to_grids(routes)
    assert torch.equal(parent[0].probs(grids), critic.probs(grids))


def test_expected_number_is_differentiable_wrt_relaxed_grids(critic_path, routes):
    critic = Critic.load(critic_path)
    relaxed = (routes_to_grids(routes) * 0.9 + 0.01).requires_grad_(True)
    e = critic.expected_number(relaxed)
    assert e.shape == (3,) and ((e >= 1) & (e <= 16)).all()
    e.sum().backward()
    assert relaxed.grad.abs().sum() > 0


def test_a_parent_optimiser_gets_no_critic_parameters(critic_path):
    class Gen(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.critic = Critic.load(critic_path)
            self.w = torch.nn.Parameter(torch.zeros(1))

    gen = Gen()
    assert [n for n, p in gen.named_parameters() if p.requires_grad] == ["w"]


def test_score_fields_are_consistent(critic_path, routes):
    critic = Critic.load(critic_path)
    scores = critic.score(routes)
    probs = critic.probs(routes_to_grids(routes))
    for s, p in zip(scores, probs):
        assert s.number == s.grade.number and s.v == s.grade.v
        assert s.top3[0][0] == s.grade.font and s.confidence == pytest.approx(s.top3[0][1])
        assert [q for _, q in s.top3] == sorted((q for _, q in s.top3), reverse=True)
        assert s.expected == pytest.approx(float(p @ torch.arange(1.0, 17.0)), abs=1e-4)
    assert critic.score([]) == []


@pytest.mark.parametrize("label,loss", [("v", "ce"), ("v", "mse"), ("font", "mse"), ("font", "ordinal")])
def test_other_scales_and_losses_map_onto_the_numbered_scale(tmp_path, routes, label, loss):
    critic = Critic.load(save_grader(tmp_path / "g.ckpt", label=label, loss=loss, arch="mlp"))
    grids = routes_to_grids(routes)
    e = critic.expected_number(grids)
    assert ((e >= 1) & (e <= 16)).all()
    for s in critic.score(routes):
        assert 1 <= s.number <= 16 and s.grade.v == s.v
        if label == "v":
            assert s.top3[0][0].startswith("V")


def test_wrong_kind_and_non_checkpoints_are_checkpoint_errors(tmp_path):
    other = tmp_path / "ar.ckpt"
    torch.save({"state_dict": {}, "routegen_kind": "ar_transformer"}, other)
    with pytest.raises(CheckpointError, match="holds a ar_transformer model; this needs a checkpoint of kind grader"):
        Critic.load(other)
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        Critic.load(junk)
    with pytest.raises(CheckpointError, match="no checkpoints"):
        Critic.load(tmp_path)


def test_write_hparams_sets_values_atomically_in_place_or_to_a_copy(critic_path, tmp_path):
    from routegen.checkpoints import load_module, read_checkpoint, write_hparams

    copy = write_hparams(critic_path, tmp_path / "copy.ckpt", predict={"rule": "median", "prior_power": 0.3})
    assert load_module(copy, expect="grader").predict_rule == ("median", 0.3)
    assert read_checkpoint(critic_path)["hyper_parameters"]["predict"]["rule"] != "median"  # the source is untouched
    write_hparams(copy, predict={"prior_power": 0.45})  # a nested group is merged, not replaced
    assert read_checkpoint(copy)["hyper_parameters"]["predict"] == {"rule": "median", "prior_power": 0.45}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.ckpt"]  # no temporary file left behind
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        write_hparams(junk, predict={"rule": "argmax"})
    assert junk.read_text() == "not a checkpoint"


def test_an_old_grader_checkpoint_says_how_to_retrain_it(critic_path, tmp_path):
    from routegen.checkpoints import read_checkpoint

    old = read_checkpoint(critic_path)
    del old["routegen_layout"]
    torch.save(old, tmp_path / "old.ckpt")
    with pytest.raises(CheckpointError, match=r"older routegen .*`python train.py experiment=critic`$"):
        Critic.load(tmp_path / "old.ckpt")
