"""Training wiring: every config combination composes, every grader runs fast_dev_run through train(),
a run resumes from its last.ckpt, and (slow) DDP on 2 CPU processes through train.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.utils import instantiate
from hydra_helpers import CONF_DIR, compose_train
from omegaconf import OmegaConf

from routegen.checkpoints import load_module, read_checkpoint
from routegen.grader.critic import Critic
from routegen.training import train

ROOT = Path(CONF_DIR).parent
GROUPS = {
    g: sorted(p.stem for p in (Path(CONF_DIR) / g).glob("*.yaml")) for g in ("model", "data", "trainer", "logger")
}
GRADERS = [m for m in GROUPS["model"] if m.startswith("grader_")]
# graders share one module, so every grader config accepts every size ("++": add or override)
TINY = ["++model.net.d_model=16", "++model.net.n_layer=1", "++model.net.n_head=2", "++model.net.hidden=16"]
NO_LOGGER = "~callbacks.lr_monitor"  # tests run without a logger, which the LR monitor needs


def combinations(model: str) -> list[list[str]]:
    """Every option of every other group beside this model (pairwise cover; the full product is 200+)."""
    return [
        [f"model={model}", f"{group}={option}"] for group in ("data", "trainer", "logger") for option in GROUPS[group]
    ]


@pytest.mark.parametrize("model", GROUPS["model"])
def test_every_config_group_option_composes_with_every_model(tmp_path, model):
    for overrides in combinations(model):
        resolved = OmegaConf.to_container(compose_train(tmp_path, overrides), resolve=True)
        assert resolved["model"]["_target_"].startswith(("routegen.grader.", "routegen.ar.", "routegen.gan.")), (
            overrides
        )
        if "label" in resolved["model"]:
            assert resolved["model"]["label"] == resolved["data"]["label"]
            assert resolved["model"]["board"] == resolved["data"]["board"]


@pytest.mark.parametrize("model", GROUPS["model"])
def test_a_training_seed_apart_from_the_split_seed_does_not_clash(tmp_path, model):
    """`seed=1 data.seed=0` (another initialisation on the same split): Lightning refuses to log a module and a
    datamodule that share an hparam name with two values, so no model may call one of its own hparams "seed"."""
    cfg = compose_train(tmp_path, [f"model={model}", "seed=1", "data.seed=0", "model.critic_ckpt=null"]
                        if model in ("ar_transformer", "cgan") else [f"model={model}", "seed=1", "data.seed=0"])  # fmt: skip
    module, data = instantiate(cfg.model), instantiate(cfg.data)
    shared = set(module.hparams) & set(data.hparams)
    assert all(module.hparams[k] == data.hparams[k] for k in shared), shared


@pytest.mark.parametrize("model", GRADERS)
def test_grader_configs_instantiate_with_their_loss(tmp_path, model):
    module = instantiate(compose_train(tmp_path, [f"model={model}", "data=moonboard2016_v"]).model)
    assert module.scale.num_classes == 12 and module.arch == model.removeprefix("grader_")


@pytest.mark.parametrize("model", GRADERS)
def test_fast_dev_run_of_every_grader(tmp_path, model):
    cfg = compose_train(tmp_path, [f"model={model}", "trainer=debug", NO_LOGGER, *TINY])
    train(cfg)
    assert (tmp_path / "config.yaml").is_file() and (tmp_path / "test_metrics.json").is_file()
    table = json.loads((tmp_path / "test_metrics.json").read_text())
    assert {"font model", "v model", "font most frequent", "font median"} <= set(table)
    assert (tmp_path / "confusion_test.png").stat().st_size > 1000


def test_training_saves_a_critic_ready_checkpoint_and_resumes_from_last(tmp_path, caplog):
    overrides = ["model=grader_mlp", NO_LOGGER, "trainer.max_epochs=1", "+trainer.limit_train_batches=2",
                 "+trainer.limit_val_batches=1", "+trainer.limit_test_batches=1", "model.net.hidden=16"]  # fmt: skip
    train(compose_train(tmp_path, overrides))
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert read_checkpoint(last)["routegen_kind"] == "grader" and (tmp_path / "checkpoints" / "best.ckpt").is_file()
    data = read_checkpoint(last)["routegen_data"]
    assert data["seed"] == 0 and data["label"] == "font" and data["board"] == "2016"
    module = load_module(tmp_path, expect="grader")
    assert module.class_counts.sum() > 10000  # training split counts kept for the baselines
    assert Critic.load(tmp_path).score([]) == []
    # a second run in the same directory with more epochs resumes from last.ckpt and trains one more epoch
    first = read_checkpoint(last)
    with caplog.at_level("INFO", logger="routegen.training"):
        train(compose_train(tmp_path, [*overrides, "trainer.max_epochs=2"]))
    assert f"resuming from {last}" in caplog.text
    ckpt = read_checkpoint(last)
    assert ckpt["epoch"] > first["epoch"] and ckpt["global_step"] == 2 * first["global_step"] > 0  # one more epoch


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "train.py", "model=grader_mlp", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
           "trainer.max_epochs=1", "+trainer.limit_train_batches=3", "+trainer.limit_val_batches=2",
           "+trainer.limit_test_batches=2", "logger=csv", "model.net.hidden=32", f"hydra.run.dir={run}"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_checkpoint(run / "checkpoints" / "last.ckpt")["routegen_kind"] == "grader"
    table = json.loads((run / "test_metrics.json").read_text())
    assert 0 <= table["font model"]["exact"] <= 1
