"""Tiny untrained models exported as shipped cards for the studio's tests (no training, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch

from routegen import shipped
from tests.grader_helpers import save_grader

# trained on 6B+ .. 8B (class counts > 0), so 7A and 6C+ are offered and 6A is refused
COUNTS = [0] * 3 + [10] * 12 + [0]


def _save(module, path: Path) -> Path:
    trainer = pl.Trainer(max_steps=0, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def _sharp(path: Path) -> Path:
    """An untrained grader answers ~uniformly whatever the route; a larger output layer makes its answer move
    with every edit, as a trained critic's does (the browser test watches the grade change)."""
    ckpt = torch.load(path, weights_only=False)
    ckpt["state_dict"]["net.head.weight"] *= 40
    torch.save(ckpt, path)
    return path


def make_weights(tmp: Path) -> Path:
    """<tmp>/weights/2016/{critic,ar,cgan}.{json,safetensors}: what the studio opens on in tests."""
    from routegen.ar.module import ARTransformerModule
    from routegen.gan.module import CGANModule

    out = tmp / "weights"
    torch.manual_seed(0)
    shipped.export(_sharp(save_grader(tmp / "critic.ckpt")), "2016", "critic", out)
    ar = ARTransformerModule(net={"n_layer": 1, "n_head": 2, "n_embd": 32}, class_counts=COUNTS)
    shipped.export(_save(ar, tmp / "ar.ckpt"), "2016", "ar", out)
    gan = CGANModule(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8},
                     class_counts=COUNTS)  # fmt: skip
    shipped.export(_save(gan, tmp / "cgan.ckpt"), "2016", "cgan", out)
    return out
