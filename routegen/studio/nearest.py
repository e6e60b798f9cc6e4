"""The nearest real problem to a route: name, grade and Jaccard similarity of hold sets (roles ignored).

Like generation.novelty.NoveltyIndex, but it keeps each problem's name and grade so the studio can say *which*
problem a generated route is close to. Built once per board (a few seconds) and shared by every request.
Intersections come from posting lists (cell -> problems using it) rather than a dense (N, 198) x (198, K)
product: a route has ~8 holds, so a query touches ~8k entries instead of 5M, well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routegen.data import read_jsonl
from routegen.generation.novelty import cell_key, cell_matrix, problem_files
from routegen.paths import default_data_dir
from routegen.route import Route


@dataclass(frozen=True)
class Neighbour:
    id: str
    name: str
    grade: str  # Font grade, or "V5" for V-only problems
    similarity: float  # Jaccard of the hold sets, 1.0 = the same holds

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "grade": self.grade, "similarity": round(self.similarity, 3)}


class NearestIndex:
    def __init__(self, rows: list[dict]) -> None:
        seen: dict[frozenset[int], dict] = {}
        for row in rows:  # first row of a hold set wins: the main (named, Font-graded) file is read first
            seen.setdefault(cell_key(Route.from_record(row)), row)
        self._keys = set(seen)
        self.rows = list(seen.values())
        matrix = cell_matrix(Route.from_record(r) for r in self.rows)  # (K, 198) 0/1
        self.sizes = matrix.sum(axis=1)  # (K,)
        self.postings = [np.flatnonzero(matrix[:, c]) for c in range(matrix.shape[1])]

    @classmethod
    def from_data(cls, board: str, angle: int = 40, data_dir: str | Path | None = None) -> NearestIndex:
        data_dir = Path(data_dir) if data_dir else default_data_dir()
        rows = [r for name in problem_files(board) for r in read_jsonl(data_dir / name) if r.get("angle", 40) == angle]
        return cls(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def contains(self, route: Route) -> bool:
        """Same hold set as a known problem (sample_routes uses this to drop exact copies)."""
        return cell_key(route) in self._keys

    def nearest(self, routes: list[Route]) -> list[Neighbour | None]:
        if not routes or not len(self.rows):
            return [None] * len(routes)
        out = []
        for route in routes:
            cells = sorted(cell_key(route))
            hits = np.concatenate([self.postings[c] for c in cells]) if cells else np.zeros(0, dtype=np.int64)
            inter = np.bincount(hits, minlength=len(self.rows))  # (K,) holds shared with each problem
            jac = inter / np.maximum(len(cells) + self.sizes - inter, 1)
            j = int(jac.argmax())
            row = self.rows[j]
            grade = row.get("grade_font") or (f"V{row['grade_v']}" if row.get("grade_v") is not None else "?")
            name = row.get("name") or row.get("slug") or f"problem {row.get('id', '?')}"
            out.append(Neighbour(str(row.get("id", "")), str(name), str(grade), float(jac[j])))
        return out
