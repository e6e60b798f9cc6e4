"""Tiny untrained models exported as shipped cards for the studio's tests (no training, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import torch

from routegen import shipped
from tests.generator_helpers import COUNTS, SMALL_CGAN, save_module
from tests.grader_helpers import save_grader


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
    shipped.export(save_module(ar, tmp / "ar.ckpt"), "2016", "ar", out)
    gan = CGANModule(**SMALL_CGAN, class_counts=COUNTS)
    shipped.export(save_module(gan, tmp / "cgan.ckpt"), "2016", "cgan", out)
    return out
