"""Small generator checkpoints for tests (AR transformer, cGAN), written without training: random weights, saved
by a Trainer that takes no step (the real checkpoint layout)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch

from routegen.ar.module import ARTransformerModule
from routegen.gan.module import CGANModule

COUNTS = [0] * 3 + [10] * 12 + [0]  # trained on 6B+ .. 8B (class counts > 0): 7A and 6C+ are known, 6A is not
SMALL_CGAN = {"generator": {"noise_ch": 4, "cond_dim": 8, "base": 8}, "discriminator": {"base": 8}}


def save_module(module: pl.LightningModule, path: Path) -> Path:
    """`module` as a Lightning checkpoint at `path`."""
    trainer = pl.Trainer(max_steps=0, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def save_ar(path: Path, seed: int = 0) -> Path:
    """A one-layer AR transformer trained (by its class counts) on COUNTS' grades."""
    torch.manual_seed(seed)
    return save_module(ARTransformerModule(net={"n_layer": 1, "n_head": 2, "n_embd": 32}, class_counts=COUNTS), path)


def save_cgan(path: Path, data_dir: Path, *, seed: int = 0, hold_shares: bool = True) -> Path:
    """A small cGAN with the decode prior of `data_dir`'s training split (split seed 0); hold_shares=False drops
    its start / end counts, as checkpoints written before those shares existed have none."""
    from routegen.data import load_problems, split_problems

    torch.manual_seed(seed)
    m = CGANModule(**SMALL_CGAN)
    m.set_decode_prior(split_problems(load_problems(data_dir), "font", 0)["train"])
    if not hold_shares:
        for key in ("start_counts", "end_counts"):
            del m.hparams.decode_prior[key]
    return save_module(m, path)
