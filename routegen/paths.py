"""Where the data lives: `data/moonboard` in the repo if present, else `../shared/data/moonboard`."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """`$ROUTEGEN_DATA_DIR`, else `<repo>/data/moonboard` if it exists, else `<repo>/../shared/data/moonboard`."""
    if env := os.environ.get("ROUTEGEN_DATA_DIR"):
        return Path(env)
    local = REPO_ROOT / "data" / "moonboard"
    return local if local.is_dir() else REPO_ROOT.parent / "shared" / "data" / "moonboard"
