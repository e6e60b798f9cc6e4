"""Shared fixtures. Tests read the real data from ../shared/data/moonboard (or $ROUTEGEN_DATA_DIR)."""

from __future__ import annotations

import pytest

from routegen.board import load_board
from routegen.paths import default_data_dir


@pytest.fixture(scope="session")
def data_dir():
    path = default_data_dir()
    if not (path / "moonboard2016.jsonl.gz").is_file():
        pytest.fail(f"real data not found at {path}: put ../shared beside the repo or set ROUTEGEN_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def board2016():
    return load_board("2016")


@pytest.fixture(scope="session")
def board2017():
    return load_board("2017")
