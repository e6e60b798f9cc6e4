"""Shared fixtures. Tests read the real data from ../shared/data/moonboard (or $ROUTEGEN_DATA_DIR)."""

from __future__ import annotations

import gzip

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
def tiny_data(tmp_path_factory, data_dir):
    """The first 600 problems of the 2016 file: a data directory that calibrations run on in seconds."""
    from routegen.data import MAIN_FILES

    d = tmp_path_factory.mktemp("data")
    name = MAIN_FILES["2016"]
    with gzip.open(data_dir / name, "rt") as f:
        lines = [line for _, line in zip(range(600), f)]
    with gzip.open(d / name, "wt") as f:
        f.writelines(lines)
    return d


@pytest.fixture(scope="session")
def board2016():
    return load_board("2016")


@pytest.fixture(scope="session")
def board2017():
    return load_board("2017")
