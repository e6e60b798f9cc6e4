"""The training job behind train.py: instantiate from the config, fit, test, keep checkpoints and config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from routegen.checkpoints import resolve_checkpoint
from routegen.io import atomic_write_text

log = logging.getLogger(__name__)


def build_callbacks(cfg: DictConfig, model: pl.LightningModule, has_logger: bool = True) -> list[pl.Callback]:
    """Callbacks from the config dict; a `monitor: null` means the model's own quality metric.

    The LR monitor is left out without a logger (Lightning refuses it then), so `logger=none` just works.
    """
    metric, mode = getattr(model, "monitor", ("val/loss", "min"))
    callbacks = []
    for conf in (cfg.get("callbacks") or {}).values():
        if conf is None or (not has_logger and conf.get("_target_", "").endswith("LearningRateMonitor")):
            continue
        overrides = {}
        if "monitor" in conf and conf.monitor is None:
            overrides = {"monitor": metric, "mode": mode}
        callbacks.append(instantiate(conf, **overrides))
    return callbacks


def build_loggers(cfg: DictConfig) -> list:
    return [instantiate(conf) for conf in (cfg.get("logger") or {}).values() if conf is not None]


def resume_path(cfg: DictConfig, run_dir: Path) -> str | None:
    if cfg.get("ckpt_path"):
        return str(resolve_checkpoint(cfg.ckpt_path, prefer="last"))
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.get("resume", True) and last.is_file():
        log.info("resuming from %s", last)
        return str(last)
    return None


def train(cfg: DictConfig) -> float | None:
    """Fit the configured model; returns the best monitored score (for sweeps)."""
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    pl.seed_everything(cfg.seed, workers=True)
    torch.set_float32_matmul_precision("high")

    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    loggers = build_loggers(cfg)
    trainer: pl.Trainer = instantiate(
        cfg.trainer, callbacks=build_callbacks(cfg, model, bool(loggers)), logger=loggers or False
    )
    try:
        for lg in loggers:
            lg.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_path(cfg, run_dir))
        ckpt = trainer.checkpoint_callback
        best = ckpt.best_model_path if ckpt is not None and ckpt.best_model_path else None
        if cfg.get("test", True) and not trainer.fast_dev_run:
            trainer.test(model, datamodule=datamodule, ckpt_path=best or None, weights_only=False)
        elif cfg.get("test", True):
            trainer.test(model, datamodule=datamodule)
        score = ckpt.best_model_score if ckpt is not None else None
        return float(score) if score is not None else None
    finally:
        _finish_wandb()


def _finish_wandb() -> None:
    """Close the W&B run so the next job of a sweep starts its own."""
    try:
        import wandb

        if wandb.run is not None:
            wandb.finish()
    except ImportError:
        pass
