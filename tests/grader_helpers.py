"""Small grader checkpoints for tests, written without training (random weights, real checkpoint layout)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch

from routegen.grader.module import DATA_KEY, GraderModule

GROUP_OF = {
    "arch": ("net", "arch"),
    "d_model": ("net", "d_model"),
    "n_layer": ("net", "n_layer"),
    "n_head": ("net", "n_head"),
    "hidden": ("net", "hidden"),
    "dropout": ("net", "dropout"),
    "loss": ("loss", "name"),
    "predict": ("predict", "rule"),
    "prior_power": ("predict", "prior_power"),
}


def nested(flat: dict) -> dict:
    """Short test keywords (arch=, loss=, predict=, d_model=, ...) -> GraderModule's config groups."""
    out: dict = {}
    for key, value in flat.items():
        if key in GROUP_OF:
            group, name = GROUP_OF[key]
            out.setdefault(group, {})[name] = value
        else:
            out[key] = value
    return out


def save_grader(
    path: Path, data_hparams: dict | None = None, seed: int = 0, class_counts: list[float] | None = None, **kwargs
) -> Path:
    torch.manual_seed(seed)
    module = GraderModule(**nested({"d_model": 32, "n_layer": 1, "n_head": 2, "hidden": 32, **kwargs}))
    counts = class_counts or (torch.arange(module.scale.num_classes, dtype=torch.float) + 1).tolist()
    module.class_counts.copy_(torch.tensor(counts, dtype=torch.float))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": pl.__version__,
            "routegen_kind": "grader",
            "routegen_layout": 2,
            DATA_KEY: data_hparams or {},
        },
        path,
    )
    return path
