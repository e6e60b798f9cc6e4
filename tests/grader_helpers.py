"""Small grader checkpoints for tests, written without training (random weights, real checkpoint layout)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch

from routegen.grader.module import DATA_KEY, GraderModule


def save_grader(
    path: Path, data_hparams: dict | None = None, seed: int = 0, class_counts: list[float] | None = None, **kwargs
) -> Path:
    torch.manual_seed(seed)
    kwargs = {"d_model": 32, "n_layer": 1, "n_head": 2, "hidden": 32, **kwargs}
    module = GraderModule(**kwargs)
    counts = class_counts or (torch.arange(module.scale.num_classes, dtype=torch.float) + 1).tolist()
    module.class_counts.copy_(torch.tensor(counts, dtype=torch.float))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": pl.__version__,
            "routegen_kind": "grader",
            DATA_KEY: data_hparams or {},
        },
        path,
    )
    return path
