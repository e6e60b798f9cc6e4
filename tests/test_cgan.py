"""The cGAN: shapes, the manual-optimisation step, the frozen critic, route completion, the generate() contract,
training through the Hydra config (fast_dev_run) and a checkpoint that loads without the critic's own files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra_helpers import compose_train
from torch.utils.data import DataLoader, TensorDataset

from routegen.checkpoints import load_module
from routegen.encoding import board_mask, routes_to_grids
from routegen.errors import RoutegenError
from routegen.gan.module import CGANModule
from routegen.gan.prior import data_prior
from routegen.generation.base import resolve_grade
from routegen.generation.sampling import sample_routes
from routegen.grader.module import GraderModule
from routegen.route import check_route, parse_route
from routegen.training import train

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8})
REAL = ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18", "J5 | I9 H12 G16 | H18", "D5 F5 | D9 | E18"]


@pytest.fixture(scope="module")
def critic_ckpt(tmp_path_factory) -> str:
    """A tiny stand-in critic: an untrained grader saved in the Lightning checkpoint layout."""
    torch.manual_seed(0)
    g = GraderModule(net={"arch": "transformer", "d_model": 16, "n_layer": 1, "n_head": 2})
    path = tmp_path_factory.mktemp("critic") / "critic.ckpt"
    torch.save({"state_dict": g.state_dict(), "hyper_parameters": dict(g.hparams), "routegen_kind": "grader",
                "routegen_layout": 2, "pytorch-lightning_version": pl.__version__}, path)  # fmt: skip
    return str(path)


def small_module(critic_ckpt: str | None = None, **loss) -> CGANModule:
    m = CGANModule(critic_ckpt=critic_ckpt, loss=loss, **SMALL)
    m.setup("fit")  # no datamodule: only the critic is attached
    return m


def test_shapes_and_forced_cells(board2016):
    m = small_module()
    fixed = routes_to_grids([parse_route("C5 | | D18")[0]] * 2)
    logits = m.generator(m.noise(2, torch.Generator().manual_seed(0)), torch.tensor([3, 9]), fixed)
    assert logits.shape == (2, 4, 18, 11)
    cls = logits.argmax(1)
    assert (cls[:, ~board_mask(board2016)] == 0).all()  # off-board cells: no hold
    assert (cls[:, 4, 2] == 1).all() and (cls[:, 17, 3] == 3).all()  # C5 start, D18 end
    grid, _ = m.relaxed(torch.tensor([3, 9]), fixed, 0.5, torch.Generator().manual_seed(1))
    assert grid.shape == (2, 3, 18, 11) and set(grid.detach().unique().tolist()) <= {0.0, 1.0}
    assert m.discriminator(grid, torch.tensor([3, 9])).shape == (2,)


def test_training_step_updates_generator_and_discriminator_not_the_critic(critic_ckpt):
    m = small_module(critic_ckpt, critic_batch=0)
    snap = lambda net: [p.detach().clone() for p in net.parameters()]  # noqa: E731
    g0, d0, c0 = snap(m.generator), snap(m.discriminator), snap(m.critic)
    grids = routes_to_grids([parse_route(t)[0] for t in REAL] * 4)
    loader = DataLoader(TensorDataset(grids, torch.arange(len(grids)) % 16), batch_size=8)
    trainer = pl.Trainer(max_steps=4, limit_val_batches=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")  # fmt: skip
    trainer.fit(m, train_dataloaders=loader)
    assert trainer.global_step == 4  # two optimiser steps per batch
    changed = lambda before, net: any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))  # noqa: E731
    assert changed(g0, m.generator) and changed(d0, m.discriminator)
    assert all(torch.equal(a, b) for a, b in zip(c0, m.critic.parameters()))
    assert not any(p.requires_grad for p in m.critic.parameters())
    assert not m.critic.training and m.training


def test_the_critic_term_joins_at_its_epoch_and_fades_in(critic_ckpt):
    m = small_module(critic_ckpt, critic_weight=2.0, critic_from_epoch=1, critic_ramp_epochs=1)
    calls, score = [], m.critic.expected_number
    m.critic.expected_number = lambda grids: calls.append(len(grids)) or score(grids)
    weights, calls_per_epoch = [], []

    class Record(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            weights.append(module.critic_weight(batch_idx))

        def on_train_epoch_end(self, trainer, module):
            calls_per_epoch.append(len(calls))

    grids = routes_to_grids([parse_route(t)[0] for t in REAL] * 4)
    loader = DataLoader(TensorDataset(grids, torch.arange(len(grids)) % 16), batch_size=4)  # 4 batches an epoch
    trainer = pl.Trainer(max_epochs=3, limit_val_batches=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                         callbacks=[Record()])  # fmt: skip
    trainer.fit(m, train_dataloaders=loader)
    assert weights == [0.0] * 4 + [0.0, 0.5, 1.0, 1.5] + [2.0] * 4  # off, a linear ramp over one epoch, full
    assert calls_per_epoch == [0, 3, 7]  # the critic is not even run before it counts
    assert trainer.callback_metrics["train/critic_weight_epoch"] == pytest.approx(2.0)


def test_a_completion_model_without_the_gan_learns_any_grade_too(critic_ckpt):
    m = small_module(critic_ckpt, adversarial_weight=0.0, critic_weight=0.0, completion_weight=1.0,
                     cond_dropout=0.5, diversity_weight=0.0)  # fmt: skip
    assert m.generator.grade.num_embeddings == 17  # the 16 grades and "any grade"
    seen = []
    embed = m.generator.grade.forward
    m.generator.grade.forward = lambda g: seen.append(g.clone()) or embed(g)
    snap = lambda net: [p.detach().clone() for p in net.parameters()]  # noqa: E731
    g0, d0 = snap(m.generator), snap(m.discriminator)
    grids = routes_to_grids([parse_route(t)[0] for t in REAL] * 4)
    loader = DataLoader(TensorDataset(grids, torch.arange(len(grids)) % 16), batch_size=16)
    trainer = pl.Trainer(max_steps=2, limit_val_batches=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")  # fmt: skip
    trainer.fit(m, train_dataloaders=loader)
    changed = lambda before, net: any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))  # noqa: E731
    assert changed(g0, m.generator) and not changed(d0, m.discriminator)  # no GAN: the discriminator idles
    asked = torch.cat(seen)
    assert (asked == 16).any() and (asked < 16).any()  # some fakes drawn for "any grade", the rest for theirs
    assert "train/d_loss_epoch" not in trainer.callback_metrics and "train/completion_ce_epoch" in trainer.callback_metrics


def test_guidance_contrasts_the_grade_with_any_grade(board2016):
    torch.manual_seed(0)
    m = CGANModule(loss={"cond_dropout": 0.1}, **SMALL)
    z, y = m.noise(2, torch.Generator().manual_seed(0)), torch.tensor([3, 9])
    fixed = routes_to_grids([parse_route("C5 | | D18")[0]] * 2)
    cond, free = m.generator(z, y, fixed), m.generator(z, torch.full_like(y, 16), fixed)
    assert torch.equal(m.generator.guided(z, y, fixed, 1.0), cond)
    assert torch.allclose(m.generator.guided(z, y, fixed, 2.5), free + 2.5 * (cond - free))
    assert (m.generator.guided(z, y, fixed, 2.5).argmax(1)[:, 4, 2] == 1).all()  # fixed holds stay forced
    m.hparams.decode["placement"] = "iterative"
    m.hparams.decode_prior = data_prior({c: [parse_route(t)[0] for t in REAL] for c in range(16)}, 16)
    plain, guided = m.generate([7] * 6, seed=1), m.generate([7] * 6, seed=1, guidance=3.0)
    assert guided == m.generate([7] * 6, seed=1, guidance=3.0) and guided != plain
    assert all(check_route(r, board2016).ok for r in guided)
    m.hparams.decode["guidance"] = 3.0  # the checkpoint's default, as `routegen calibrate --guidance` writes it
    assert m.generate([7] * 6, seed=1) == guided


def test_straight_through_argmax_draws_no_per_cell_noise():
    from routegen.gan.losses import gumbel_straight_through

    logits = torch.randn((6, 4, 18, 11), generator=torch.Generator().manual_seed(0))
    draws = [gumbel_straight_through(logits, 0.5, torch.Generator().manual_seed(s), noise_scale=0.0) for s in (1, 2)]
    assert torch.equal(draws[0], draws[1]) and torch.equal(draws[0].argmax(1), logits.argmax(1))
    gumbel = [gumbel_straight_through(logits, 0.5, torch.Generator().manual_seed(s)) for s in (1, 2)]
    assert not torch.equal(gumbel[0], gumbel[1])  # the default Gumbel draw varies with its generator


def test_minibatch_std_tells_a_repeated_route_from_varied_ones():
    from routegen.gan.nets import ProjectionDiscriminator, minibatch_std

    h = torch.randn((8, 5, 5, 3), generator=torch.Generator().manual_seed(0))
    same = h[:1].expand(8, -1, -1, -1)
    assert minibatch_std(h, 4).shape == (8, 1, 5, 3) and (minibatch_std(h, 4) > 0).all()
    assert (minibatch_std(same, 4) == 0).all()
    assert minibatch_std(h[:7], 4).abs().sum() == 0  # 7 routes: no group size > 1 divides them
    d = ProjectionDiscriminator(16, 8, minibatch_std=4)
    grids = routes_to_grids([parse_route(t)[0] for t in REAL] * 2)
    assert d(grids, torch.zeros(8, dtype=torch.long)).shape == (8,)
    assert "tail.0.parametrizations.weight.original" in d.state_dict()
    assert not any(k.startswith("tail") for k in ProjectionDiscriminator(16, 8).state_dict())  # off: the old layout


def test_generate_contract(board2016):
    m = small_module().eval()
    routes = m.generate([7, 7, 12], seed=3)
    assert len(routes) == 3 and all(check_route(r, board2016).ok for r in routes)
    assert routes == m.generate([7, 7, 12], seed=3)  # deterministic for a seed
    assert m.generate([], seed=0) == []
    assert m.board == "2016" and m.angle == 40 and m.trained_grades == set(range(1, 17))
    for flag, kw in (("--top-k", {"top_k": 5}), ("--top-p", {"top_p": 0.9})):
        with pytest.raises(RoutegenError, match=f"^{flag} is not an option of the cgan model$"):
            sample_routes(m, 7, 1, **kw)
    with pytest.raises(RoutegenError, match=r"^guidance 2.0 needs a generator trained with model.loss.cond_dropout > 0$"):
        sample_routes(m, 7, 1, guidance=2.0)  # the grade contrast needs the "any grade" class
    assert len(sample_routes(m, 7, 2, top_k=None, temperature=1.0)) == 2  # options left unset are not passed on
    m.hparams.class_counts = [0] * 3 + [5] * 13
    with pytest.raises(RoutegenError, match="never seen in training"):
        m.generate([2])


def test_completion_always_keeps_fixed_holds(board2016):
    m = small_module().eval()
    for text in ["C5 | | D18", "A5 C5 | F10 | ", " | G8 | E18", "K5 | D17 | "]:
        fixed, _ = parse_route(text)
        for seed in range(5):
            for constrained in (True, False):
                for r in m.generate([6] * 8, fixed=fixed, seed=seed, constrained=constrained):
                    for name in ("start", "middle", "end"):
                        assert set(getattr(fixed, name)) <= set(getattr(r, name)), (text, r)
                    assert not constrained or check_route(r, board2016).ok
    for bad in ["C9 | | D18", "C5 | | D17", "C5 C5 | | D18"]:
        with pytest.raises(RoutegenError):
            m.generate([6], fixed=parse_route(bad)[0])


def test_stats_matching_pulls_fake_counts_toward_the_real_ones():
    from routegen.gan.losses import route_stats, stats_gap

    real = routes_to_grids([parse_route(t)[0] for t in REAL])
    real4 = torch.cat([1 - real.sum(1, keepdim=True), real], dim=1)
    y = torch.tensor([0, 0, 1, 1])
    m = small_module(stats_weight=1.0)
    logits = torch.zeros((4, 4, 18, 11), requires_grad=True)  # a soft fake with holds everywhere
    gap = m.stats_loss(real, y, torch.softmax(logits, dim=1), y)
    target = m.real_stat_sum[:2] / m.real_stat_n[:2, None]
    assert torch.allclose(target[0], route_stats(real4[:2]).mean(0)) and m.real_stat_n[:2].tolist() == [2, 2]
    gap.backward()
    assert gap > 10 and logits.grad[:, 0].mean() < 0  # descending the gap: more "none", fewer holds
    assert stats_gap(route_stats(real4), target, y, 16).item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("with_critic", [False, True])
def test_fast_dev_run(tmp_path, critic_ckpt, with_critic):
    ckpt = critic_ckpt if with_critic else "null"
    cfg = compose_train(tmp_path, ["model=cgan", "trainer=debug", "~callbacks.lr_monitor", "data.batch_size=16",
                                   f"model.critic_ckpt={ckpt}", "model.generator.base=8", "model.discriminator.base=8"])  # fmt: skip
    train(cfg)


def test_checkpoint_loads_without_the_critic_files(tmp_path, critic_ckpt, board2016):
    critic = tmp_path / "critic.ckpt"
    shutil.copy(critic_ckpt, critic)
    run = tmp_path / "run"
    cfg = compose_train(run, ["model=cgan", "~callbacks.lr_monitor", "data.batch_size=16", "trainer.max_epochs=1",
                              "+trainer.limit_train_batches=2", "+trainer.limit_val_batches=1", "test=false",
                              f"model.critic_ckpt={critic}", "model.generator.base=8", "model.discriminator.base=8"])  # fmt: skip
    train(cfg)
    critic.unlink()  # the GAN checkpoint carries the critic's hparams and weights
    m = load_module(run, expect="cgan")
    assert m.critic is not None and not any(p.requires_grad for p in m.critic.parameters())
    assert 0 < len(m.trained_grades) <= 16
    grade = min(m.trained_grades)
    assert all(check_route(r, board2016).ok for r in m.generate([grade] * 4, seed=1))
    prior = m.hparams.decode_prior  # the training split's counts, recorded at fit time for prior decoding
    assert 0.3 < prior["two_start_rate"] < 0.7 and 0 < prior["two_end_rate"] < 0.1
    c = resolve_grade(m, grade)
    assert m.hparams.decode["move_weight"] == 0.3 and m.priors.get(c, 0.3).move_logq is not None  # move shares
    assert sum(prior["move_counts"][c]) > 0
    assert m.generate([grade] * 4, seed=1, prior=False) != m.generate([grade] * 4, seed=1)


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path):
    cmd = [sys.executable, "train.py", "model=cgan", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
           "trainer.max_epochs=1", "+trainer.limit_train_batches=2", "+trainer.limit_val_batches=1",
           "+trainer.limit_test_batches=1", "data.batch_size=16", "model.generator.base=8", "model.discriminator.base=8", "logger=csv",
           "~callbacks.lr_monitor", f"hydra.run.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    m = load_module(tmp_path, expect="cgan")
    assert len(m.generate([min(m.trained_grades)] * 2)) == 2
