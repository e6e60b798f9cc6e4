"""Composing the training config in tests: Hydra's ${hydra:...} is unset under compose(), so pin run_dir."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def compose_train(tmp_path: Path, overrides: list[str] = ()) -> DictConfig:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=list(overrides))
    with open_dict(cfg):
        cfg.run_dir = str(tmp_path)
        cfg.logger = {}  # the logger=... override still works; tests default to no logger
    return cfg
