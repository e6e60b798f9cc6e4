"""The training job behind train.py: instantiate from the config, fit, test, keep checkpoints and config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException

from routegen.checkpoints import read_checkpoint, resolve_checkpoint
from routegen.errors import RoutegenError
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


def build_loggers(cfg: DictConfig, resume_from: str | None = None) -> list:
    """The configured loggers, made to continue a resumed run: the CSV log keeps its rows up to the checkpoint
    resumed from (Lightning's would delete the file), the W&B run keeps its id (run_dir/wandb_id.txt)."""
    loggers = []
    for conf in (cfg.get("logger") or {}).values():
        if conf is None:
            continue
        target = conf.get("_target_", "")
        if target.endswith("CSVLogger"):
            loggers.append(instantiate(conf, _target_="routegen.training.ResumableCSVLogger",
                                       resume_from=resume_from))  # fmt: skip
        elif target.endswith("WandbLogger"):
            loggers.append(instantiate(conf, id=wandb_id(Path(cfg.run_dir)), resume="allow"))
        else:
            loggers.append(instantiate(conf))
    return loggers


def wandb_id(run_dir: Path) -> str:
    """The run's W&B id: made once and kept in run_dir/wandb_id.txt, so a resumed run logs to the same W&B run."""
    path = run_dir / "wandb_id.txt"
    if path.is_file() and (known := path.read_text().strip()):
        return known
    import secrets

    new = secrets.token_hex(4)
    atomic_write_text(path, new + "\n")
    return new


class ResumableCSVLogger(CSVLogger):
    """CSVLogger that appends: on resume, the rows logged up to the checkpoint stay (later ones, from the part
    of an epoch that was lost, go), so a killed-and-resumed run ends with the metrics file of one never killed."""

    def __init__(self, *args, resume_from: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resume_from = resume_from

    @property
    def experiment(self):
        from pytorch_lightning.utilities.rank_zero import rank_zero_only

        if self._experiment is None and rank_zero_only.rank == 0:
            path = Path(self.log_dir) / "metrics.csv"
            rows, keys = _rows_up_to(path, self._resume_from) if self._resume_from and path.is_file() else ([], [])
            path.unlink(missing_ok=True)
            experiment = super().experiment
            if rows:
                import csv

                with path.open("w", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=keys)
                    writer.writeheader()
                    writer.writerows(rows)
                experiment.metrics_keys = list(keys)
        return super().experiment


def _rows_up_to(path: Path, ckpt_path: str) -> tuple[list[dict], list[str]]:
    """The metrics rows logged before the checkpoint's end (its epoch and global step), with the header."""
    import csv

    ckpt = read_checkpoint(ckpt_path)
    epoch, step = int(ckpt.get("epoch", 0)), int(ckpt.get("global_step", 0))
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        rows, keys = list(reader), list(reader.fieldnames or [])

    def kept(row: dict) -> bool:
        if row.get("epoch") not in (None, ""):
            return int(float(row["epoch"])) <= epoch
        return row.get("step") in (None, "") or int(float(row["step"])) < step

    return [r for r in rows if kept(r)], keys


def resume_path(cfg: DictConfig, run_dir: Path) -> str | None:
    if cfg.get("ckpt_path"):
        return str(resolve_checkpoint(cfg.ckpt_path, prefer="last"))
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.get("resume", True) and last.is_file():
        log.info("resuming from %s", last)
        return str(last)
    return None


class TrainingStopped(RoutegenError):
    """Training ended by a signal (SIGTERM) before it finished: the process exits 143, naming the checkpoint."""

    exit_code = 143


def train(cfg: DictConfig) -> float | None:
    """Fit the configured model; returns the best monitored score (for sweeps). A config that cannot work is a
    RoutegenError before anything is written; a run stopped by SIGTERM is a TrainingStopped naming where it
    stopped (resume by starting it again in the same directory)."""
    check_config(cfg)
    datamodule = _instantiate("data", cfg.data)
    model = _instantiate("model", cfg.model)
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    pl.seed_everything(cfg.seed, workers=True)
    torch.set_float32_matmul_precision("high")

    resume = resume_path(cfg, run_dir)
    loggers = build_loggers(cfg, resume)
    trainer: pl.Trainer = _instantiate(
        "trainer", cfg.trainer, callbacks=build_callbacks(cfg, model, bool(loggers)), logger=loggers or False
    )
    try:
        for lg in loggers:
            lg.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
        try:
            trainer.fit(model, datamodule=datamodule, ckpt_path=resume)
        except SIGTERMException:
            pass
        if trainer.received_sigterm:
            raise TrainingStopped(_stopped_message(trainer, run_dir))
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


def _stopped_message(trainer: pl.Trainer, run_dir: Path) -> str:
    last = run_dir / "checkpoints" / "last.ckpt"
    where = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
    if last.is_file():
        done = read_checkpoint(last)
        return (f"stopped by SIGTERM in {where}; last checkpoint {last} (epoch {done.get('epoch')}, step "
                f"{done.get('global_step')}); start the same command again with hydra.run.dir={run_dir} to resume")  # fmt: skip
    return f"stopped by SIGTERM in {where}, before any checkpoint was saved (nothing to resume from)"


INT_KEYS = ("max_epochs", "min_epochs", "max_steps", "min_steps", "check_val_every_n_epoch", "log_every_n_steps",
            "accumulate_grad_batches", "num_sanity_val_steps", "num_nodes")  # fmt: skip
NUMBER_KEYS = ("limit_train_batches", "limit_val_batches", "limit_test_batches", "limit_predict_batches",
               "val_check_interval", "gradient_clip_val", "overfit_batches")  # fmt: skip


def check_config(cfg: DictConfig) -> None:
    """What can be checked before anything is made: the trainer's numbers are numbers, the data files exist.
    A RoutegenError (one line) names the first key that is wrong."""
    trainer = cfg.get("trainer") or {}
    for key in INT_KEYS:
        value = trainer.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise RoutegenError(f"trainer.{key} must be an integer, got {value!r}")
    for key in NUMBER_KEYS:
        value = trainer.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise RoutegenError(f"trainer.{key} must be a number, got {value!r}")
    fast = trainer.get("fast_dev_run")
    if fast is not None and not isinstance(fast, (bool, int)):
        raise RoutegenError(f"trainer.fast_dev_run must be true, false or a number of batches, got {fast!r}")
    data = cfg.get("data") or {}
    if str(data.get("_target_", "")).endswith("MoonBoardDataModule"):
        from routegen.data import MAIN_FILES
        from routegen.paths import default_data_dir

        board = str(data.get("board"))
        if board not in MAIN_FILES:
            raise RoutegenError(f"data.board {board!r} is not a board (expected one of {', '.join(MAIN_FILES)})")
        path = Path(data.get("dir") or default_data_dir()) / MAIN_FILES[board]
        if not path.is_file():
            raise RoutegenError(f"data file not found: {path} (set data.dir= or ROUTEGEN_DATA_DIR)")


def _instantiate(group: str, conf, **kwargs):
    """hydra instantiate, with a bad key or value in the config a one-line RoutegenError naming the group."""
    from hydra.errors import InstantiationException

    try:
        return instantiate(conf, **kwargs)
    except InstantiationException as e:
        text = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise RoutegenError(f"{group} config: {text}") from None


def _finish_wandb() -> None:
    """Close the W&B run so the next job of a sweep starts its own."""
    try:
        import wandb

        if wandb.run is not None:
            wandb.finish()
    except ImportError:
        pass
