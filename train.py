"""Train any routegen model: `python train.py model=<name> [overrides]` (see README for sweeps, DDP, resume).

A config that cannot work (a trainer number that is not one, missing data files) is one line on stderr and exit
status 2, with no run directory left behind; a run stopped by SIGTERM exits 143 naming its last checkpoint.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from routegen.errors import RoutegenError
from routegen.training import TrainingStopped, train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        return train(cfg)
    except TrainingStopped as e:
        print(f"train.py: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except RoutegenError as e:
        _discard_if_empty(Path(cfg.run_dir))
        print(f"train.py: error: {e}", file=sys.stderr)
        sys.exit(2)


def _discard_if_empty(run_dir: Path) -> None:
    """Remove the run directory Hydra made for this run if nothing but Hydra's own files is in it."""
    if run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= {".hydra", "train.log", "config.yaml"}:
        if not (run_dir / "checkpoints").exists():
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
