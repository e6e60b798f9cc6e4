"""File input and output: JSON Lines in (plain or gzipped), atomic writes out (a temporary file beside the
target, then renamed over it)."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from routegen.errors import RoutegenError

GZIP_MAGIC = b"\x1f\x8b"


def read_rows(path: str | Path) -> list[dict]:
    """Rows of a .jsonl or .jsonl.gz file (gzip told by its first bytes): JSON objects as they are, a JSON
    string or a bare line of text (a route in any notation) as {"route": text}; blank lines skipped.
    Anything else (binary junk, a broken gzip stream, a line that starts like JSON but is not) is a
    RoutegenError naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise RoutegenError(f"input file not found: {path}")
    with path.open("rb") as f:
        gz = f.read(2) == GZIP_MAGIC
    rows, lineno = [], 0
    try:
        with gzip.open(path, "rb") if gz else path.open("rb") as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise RoutegenError(f"{path}: line {lineno} is not UTF-8 text (a binary file?)") from None
                if not line:
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as e:
                    if line[0] in '{"':
                        raise RoutegenError(f"{path}: line {lineno} is not valid JSON ({e.msg})") from None
                    value = line  # a route written as plain text, e.g. [18H, 17G, 5H] or C5 | E8 | D18
                if isinstance(value, str):
                    value = {"route": value}
                if not isinstance(value, dict):
                    raise RoutegenError(f"{path}: line {lineno} is neither a route string nor a JSON object")
                rows.append(value)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; EOFError: a truncated stream
        raise RoutegenError(f"{path}: unreadable gzip data after line {lineno} ({e})") from None
    return rows


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def atomic_savefig(fig, path: str | Path, **kwargs) -> None:
    """Save a matplotlib figure atomically (PNG by the target's suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, **kwargs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
