"""The studio's route library: one SQLite file (default under the user's data directory), safe across threads.

One connection behind a lock: SQLite serialises writers anyway, and a single connection means concurrent saves
from the server's thread pool can never hit "database is locked". Rows export to / import from JSON Lines in
the data schema (start / middle / end lists, grade_font, board, angle, name) plus the studio's own fields.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from routegen.board import load_board, parse_hold
from routegen.errors import RoutegenError
from routegen.grades import parse_grade
from routegen.route import ROLES, Route

SCHEMA = """CREATE TABLE IF NOT EXISTS routes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL, board TEXT NOT NULL, angle INTEGER NOT NULL, grade_font TEXT,
    start TEXT NOT NULL, middle TEXT NOT NULL, "end" TEXT NOT NULL,
    critic_grade TEXT, notes TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, updated TEXT NOT NULL)"""
FIELDS = ("name", "board", "angle", "grade_font", "critic_grade", "notes")


class NotFound(RoutegenError):
    """No library route with that id."""


def default_db_path() -> Path:
    """$XDG_DATA_HOME/routegen/library.sqlite, else ~/.local/share/routegen/library.sqlite."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "routegen" / "library.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def clean(row: dict) -> dict:
    """A library row from user input: board known, holds on it, grade a Font grade; RoutegenError otherwise."""
    board = str(row.get("board") or "2016")
    layout = load_board(board)
    if bad := [k for k in ROLES if not isinstance(row.get(k) or [], list)]:
        raise RoutegenError(f'{bad[0]} must be a list of holds like ["H18"] (got {row[bad[0]]!r})')
    route = Route(*(tuple(layout.check(parse_hold(h)) for h in row.get(k) or ()) for k in ROLES))
    if not route.holds:
        raise RoutegenError("a route to save needs at least one hold")
    grade = parse_grade(row["grade_font"]).font if row.get("grade_font") else None
    critic = parse_grade(row["critic_grade"]).font if row.get("critic_grade") else None
    return {
        "name": str(row.get("name") or "untitled")[:200], "board": board, "angle": int(row.get("angle") or 40),
        "grade_font": grade, "critic_grade": critic, "notes": str(row.get("notes") or "")[:5000],
        **route.to_record(),
    }  # fmt: skip


class Library:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _row(self, r: sqlite3.Row) -> dict:
        out = dict(r)
        for role in ROLES:
            out[role] = json.loads(out[role])
        return out

    def add(self, row: dict) -> dict:
        r, now = clean(row), _now()
        with self._lock, self._db:
            cur = self._db.execute(
                'INSERT INTO routes (name, board, angle, grade_font, critic_grade, notes, start, middle, "end", '
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r[k] for k in FIELDS] + [json.dumps(r[k]) for k in ROLES] + [now, now],
            )
            new_id = cur.lastrowid
        return self.get(new_id)

    def update(self, route_id: int, row: dict) -> dict:
        r = clean({**self.get(route_id), **row})
        with self._lock, self._db:
            self._db.execute(
                "UPDATE routes SET name=?, board=?, angle=?, grade_font=?, critic_grade=?, notes=?, start=?, middle=?, "
                '"end"=?, updated=? WHERE id=?',
                [r[k] for k in FIELDS] + [json.dumps(r[k]) for k in ROLES] + [_now(), route_id],
            )
        return self.get(route_id)

    def get(self, route_id: int) -> dict:
        with self._lock:
            r = self._db.execute("SELECT * FROM routes WHERE id=?", (route_id,)).fetchone()
        if r is None:
            raise NotFound(f"no library route with id {route_id}")
        return self._row(r)

    def delete(self, route_id: int) -> None:
        with self._lock, self._db:
            if self._db.execute("DELETE FROM routes WHERE id=?", (route_id,)).rowcount == 0:
                raise NotFound(f"no library route with id {route_id}")

    def list(self, board: str | None = None, grade: str | None = None) -> list[dict]:
        """Newest first; board and grade (the setter's Font grade, any notation) filter when given."""
        sql, args = "SELECT * FROM routes WHERE 1=1", []
        if board:
            sql, args = sql + " AND board=?", args + [str(board)]
        if grade:
            sql, args = sql + " AND grade_font=?", args + [parse_grade(grade).font]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY updated DESC, id DESC", args).fetchall()
        return [self._row(r) for r in rows]

    def export_jsonl(self, board: str | None = None) -> str:
        return "".join(json.dumps(r) + "\n" for r in self.list(board))

    def import_jsonl(self, text: str) -> int:
        """Add every row of a JSON Lines text (all or nothing: a bad line names its number and adds none)."""
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise RoutegenError("not a JSON object")
                rows.append(clean(row))
            except (json.JSONDecodeError, RoutegenError, TypeError, ValueError) as e:
                raise RoutegenError(f"import line {n}: {str(e).splitlines()[0]}") from None
        for row in rows:
            self.add(row)
        return len(rows)
