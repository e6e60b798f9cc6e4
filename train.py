"""Train any routegen model: `python train.py model=<name> [overrides]` (see README for sweeps, DDP, resume)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from routegen.training import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
