"""Training runs that stop and start again: last.ckpt every epoch, the metrics file and the W&B run kept across a
resume, SIGTERM a non-zero exit naming the checkpoint, a config that cannot work refused before anything is made."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
from hydra_helpers import compose_train
from omegaconf import open_dict

from routegen.checkpoints import read_checkpoint
from routegen.training import TrainingStopped, build_loggers, train

ROOT = Path(__file__).resolve().parent.parent
TINY = ["model=grader_mlp", "model.net.hidden=16", "+trainer.limit_train_batches=2", "+trainer.limit_val_batches=1",
        "+trainer.limit_test_batches=1", "test=false", "~callbacks.generator_samples"]  # fmt: skip


def with_logger(run_dir, epochs: int, logger: str):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*TINY, f"trainer.max_epochs={epochs}", f"logger={logger}"])
    with open_dict(cfg):
        cfg.run_dir = str(run_dir)
        if "wandb" in cfg.logger:
            cfg.logger.wandb.name = "test"
    return cfg


def test_last_ckpt_is_saved_every_epoch_even_without_improvement(tmp_path):
    # lr 0: the validation score never improves after epoch 0, so a last.ckpt tied to "best" would stay at epoch 0
    train(compose_train(tmp_path, [*TINY, "trainer.max_epochs=3", "~callbacks.lr_monitor", "model.optim.lr=0",
                                   "~callbacks.early_stopping"]))  # fmt: skip
    assert read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["epoch"] == 2
    assert read_checkpoint(tmp_path / "checkpoints" / "best.ckpt")["epoch"] == 0


def metric_rows(run_dir) -> list[tuple]:
    with (Path(run_dir) / "csv" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    return sorted((r.get("epoch", ""), r["step"], tuple(sorted(k for k, v in r.items() if v != ""))) for r in rows)


def test_a_resumed_run_keeps_its_metrics_file(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(with_logger(whole, 2, "csv"))
    train(with_logger(split, 1, "csv"))  # "killed" after epoch 0
    train(with_logger(split, 2, "csv"))  # started again in the same directory: resumes from last.ckpt
    assert metric_rows(split) == metric_rows(whole)
    assert {r[0] for r in metric_rows(split)} >= {"0", "1"}


def test_a_resumed_run_logs_to_the_same_wandb_run(tmp_path):
    first = build_loggers(with_logger(tmp_path, 1, "wandb"))
    again = build_loggers(with_logger(tmp_path, 1, "wandb"))
    ids = [lg._wandb_init["id"] for lg in (*first, *again) if isinstance(lg, pl.loggers.WandbLogger)]
    assert len(ids) == 2 and ids[0] == ids[1] and (tmp_path / "wandb_id.txt").read_text().strip() == ids[0]
    assert next(lg for lg in again if isinstance(lg, pl.loggers.WandbLogger))._wandb_init["resume"] == "allow"
    other = build_loggers(with_logger(tmp_path / "other", 1, "wandb"))
    assert next(lg for lg in other if isinstance(lg, pl.loggers.WandbLogger))._wandb_init["id"] != ids[0]


class SigtermAfter(pl.Callback):
    """Sends this process SIGTERM at the end of a training epoch, as a scheduler would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_is_not_a_finished_run(tmp_path):
    cfg = compose_train(tmp_path, [*TINY, "trainer.max_epochs=5", "~callbacks.lr_monitor"])
    with open_dict(cfg):
        cfg.callbacks.sigterm = {"_target_": "test_resume.SigtermAfter", "epoch": 1}
    with pytest.raises(TrainingStopped, match="stopped by SIGTERM") as stopped:
        train(cfg)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert str(last) in str(stopped.value) and stopped.value.exit_code == 143
    assert read_checkpoint(last)["epoch"] <= 1


def run_train(*overrides, env=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "train.py", *overrides], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        (["trainer.max_epochs=abc"], {}, "trainer.max_epochs must be an integer, got 'abc'"),
        (["trainer=debug"], {"ROUTEGEN_DATA_DIR": "/nonexistent"}, "data file not found: /nonexistent/"),
    ],
)
def test_a_config_that_cannot_work_is_one_line_and_makes_nothing(tmp_path, overrides, env, message):
    run = tmp_path / "run"
    done = run_train(*overrides, "logger=wandb", f"hydra.run.dir={run}", env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [f"train.py: error: {done.stderr.split('error: ', 1)[1].strip()}"]
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not run.exists()  # no run directory, no W&B run
