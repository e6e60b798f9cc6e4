"""Atomic writes: all or nothing, the file's mode kept (or the umask's), symlinks written through; readable JSON."""

from __future__ import annotations

import json
import os

import pytest

from routegen.io import atomic_write_bytes, atomic_write_text


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_replacing_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o640


def test_a_symlink_is_written_through(tmp_path):
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_text("old")
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_readable_json_puts_number_lists_on_one_line_and_round_trips():
    from routegen.io import readable_json

    obj = {"trees": [[1, 2.5e-3, -3], []], "mixed": ["a", 1, None], "command": "sample [18, 17] --n 2", "n": 4}
    text = readable_json(obj)
    assert json.loads(text) == obj
    assert '"trees": [\n  [1,0.0025,-3],' in text  # one line per list of numbers
    assert '"sample [18, 17] --n 2"' in text  # a string that looks like a list is left as it is
    assert '"mixed": [\n  "a",' in text  # lists with anything but numbers keep one item per line
