"""File input and output: JSON Lines in (plain or gzipped), atomic writes out (a temporary file beside the
target, then renamed over it)."""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from routegen.errors import RoutegenError

GZIP_MAGIC = b"\x1f\x8b"
# a list of numbers as json.dumps(indent=...) lays it out: one per line (a raw newline is never inside a string)
_NUMBER_LIST = re.compile(r"\[\n\s*(-?[0-9][0-9.eE+-]*(?:,\n\s*-?[0-9][0-9.eE+-]*)*)\n\s*\]")


def readable_json(obj) -> str:
    """Indented JSON with every list of numbers on one line: a card's tree arrays and counts then take a line
    each instead of one per number (half the bytes), while its fields stay one per line."""
    text = json.dumps(obj, indent=1)
    return _NUMBER_LIST.sub(lambda m: "[" + ",".join(x.strip() for x in m.group(1).split(",")) + "]", text) + "\n"


def read_rows(path: str | Path) -> list[dict]:
    """The rows of read_numbered_rows, without their line numbers."""
    return [row for _, row in read_numbered_rows(path)]


def read_numbered_rows(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, row) for each row of a .jsonl or .jsonl.gz file (gzip told by its first bytes): JSON
    objects as they are, a JSON string or a bare line of text (a route in any notation) as {"route": text};
    blank lines skipped. Anything else (binary junk, a broken gzip stream, a line that starts like JSON but is
    not, a file with no rows) is a RoutegenError naming the file (and the line). `at_line` names the line of
    an error found later, when the row is parsed."""
    path = Path(path)
    if not path.is_file():
        raise RoutegenError(f"input file not found: {path}" if not path.exists() else f"input {path} is not a file")
    try:
        with path.open("rb") as f:
            gz = f.read(2) == GZIP_MAGIC
    except OSError as e:
        raise RoutegenError(f"cannot read {path}: {e.strerror or e}") from None
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
                if "\x00" in line:
                    raise RoutegenError(f"{path}: line {lineno} holds NUL bytes (a binary file?)")
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as e:
                    if line[0] in '{"' or (line[0] == "[" and any(c in line for c in '{"')):
                        raise RoutegenError(f"{path}: line {lineno} is not valid JSON ({e.msg})") from None
                    value = line  # a route written as plain text, e.g. [18H, 17G, 5H] or C5 | E8 | D18
                if isinstance(value, str):
                    value = {"route": value}
                if not isinstance(value, dict):
                    raise RoutegenError(f"{path}: line {lineno} is neither a route string nor a JSON object")
                rows.append((lineno, value))
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; EOFError: a truncated stream
        raise RoutegenError(f"{path}: unreadable gzip data after line {lineno} ({e})") from None
    if not rows:
        raise RoutegenError(f"{path}: no routes in it (the file is empty)")
    return rows


@contextmanager
def at_line(path: str | Path, lineno: int) -> Iterator[None]:
    """A RoutegenError raised in the block names the file and line it came from."""
    try:
        yield
    except RoutegenError as e:
        raise RoutegenError(f"{path}: line {lineno}: {e}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _temporary_beside(path: str | Path, suffix: str = ".tmp") -> Iterator[tuple[str, Path]]:
    """A temporary file beside `path` (through symlinks), renamed over it when the block ends without error
    (keeping the target's mode, or the umask's default), removed otherwise. An OSError names `path` as given,
    never the hidden temporary."""
    given, path, tmp = path, Path(os.path.realpath(path)), None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
            os.close(fd)
        except OSError as e:
            raise RoutegenError(f"cannot write {given}: {e.strerror or e}") from None
        yield tmp, path
        try:
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as e:
            raise RoutegenError(f"cannot write {given}: {e.strerror or e}") from None
        tmp = None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def atomic_replace(path: str | Path, write: Callable[[str], None], suffix: str = ".tmp") -> None:
    """Write `path` all at once: `write(tmp)` fills a temporary file beside it, which is then renamed over it.

    A symlink is written through (its target is replaced), and the file keeps the mode it had, or gets the
    umask's default (not mkstemp's 0600), so replacing a file changes nothing but its content. A failure to
    write is a RoutegenError naming `path` as given.
    """
    with _temporary_beside(path, suffix) as (tmp, _):
        write(tmp)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """A file to stream into (e.g. JSON Lines as they are made): `path` appears, complete, only when the
    block ends without error; until then it keeps its old content (atomic_replace's rules)."""
    with _temporary_beside(path) as (tmp, _), open(tmp, mode) as f:
        yield f


def check_output_file(path: str | Path, flag: str = "--output") -> None:
    """Before any work: `path` can be written (not a directory, its folder creatable and writable), else a
    RoutegenError naming the path as given. Leaves nothing behind."""
    p = Path(path)
    if p.is_dir():
        raise RoutegenError(f"{flag} {path} is a directory (give a file name)")
    _check_writable_folder(Path(os.path.realpath(p)).parent, f"{flag} {path}")


def check_output_dir(path: str | Path, flag: str = "--png") -> None:
    """Before any work: `path` is a directory or can be made one, and files can be written in it."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise RoutegenError(f"{flag} {path} exists and is not a directory")
    _check_writable_folder(Path(os.path.realpath(p)), f"{flag} {path}")


def _check_writable_folder(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise RoutegenError(f"{what}: {existing} is not a directory")
    try:  # os.access says yes to root on read-only pseudo file systems (/proc, /sys): try it
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".routegen-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise RoutegenError(f"{what}: cannot write in {existing} ({e.strerror or e})") from None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_replace(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def atomic_savefig(fig, path: str | Path, **kwargs) -> None:
    """Save a matplotlib figure atomically (PNG by the target's suffix)."""
    atomic_replace(path, lambda tmp: fig.savefig(tmp, **kwargs), suffix=Path(path).suffix)
