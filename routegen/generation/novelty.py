"""Is a route new? Exact copies and near copies (Jaccard similarity of hold sets) against known problems.

Roles are ignored: a route that reuses a known problem's holds with other start/end roles is still a copy.
Hold sets are binary vectors over the 198 grid cells, so the nearest known problem of a batch is one matrix
product (intersections), chunked to keep memory flat: 500 routes x 30k problems takes well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from routegen.board import ANGLES, NUM_CELLS
from routegen.data import MAIN_FILES, NOISY_FILES, V_ONLY_FILES, DataError, Problem, problem_from_record, read_jsonl
from routegen.paths import default_data_dir
from routegen.route import Route

NEAR_COPY = 0.8  # nearest-problem Jaccard at or above this is a near copy (the threshold)
_CHUNK = 256  # routes per matrix product: 256 x 30k float32 = 31 MB


def cell_key(route: Route) -> frozenset[int]:
    """The route's hold set as grid cells, roles ignored."""
    return frozenset(h.cell for h in route.hold_set)


def cell_matrix(routes: Iterable[Route]) -> np.ndarray:
    """(N, 198) float32 0/1: which cells each route uses."""
    routes = list(routes)
    m = np.zeros((len(routes), NUM_CELLS), dtype=np.float32)
    for i, r in enumerate(routes):
        m[i, [h.cell for h in r.hold_set]] = 1.0
    return m


def problem_files(board: str) -> list[str]:
    """Every problem file of a board: main, V-only and (2017) the OCR file."""
    return [f[board] for f in (MAIN_FILES, V_ONLY_FILES, NOISY_FILES) if board in f]


class NoveltyIndex:
    """Distinct hold sets of known problems; `contains` and `nearest_jaccard` answer for new routes."""

    def __init__(self, problems: Iterable[Problem | Route] = (), *, matrix: np.ndarray | None = None) -> None:
        """From problems or routes, or from the (K, 198) 0/1 matrix of an index built before (the cache)."""
        if matrix is None:
            keys = sorted({cell_key(p.route if isinstance(p, Problem) else p) for p in problems}, key=sorted)
            matrix = np.zeros((len(keys), NUM_CELLS), dtype=np.float32)  # (K, 198), deterministic row order
            for i, key in enumerate(keys):
                matrix[i, list(key)] = 1.0
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self._keys = {frozenset(np.flatnonzero(row).tolist()) for row in self.matrix}
        self.sizes = self.matrix.sum(axis=1)  # (K,)

    @classmethod
    def from_data(cls, board: str = "2016", angle: int = 40, data_dir: str | Path | None = None) -> NoveltyIndex:
        """Every known problem of the board and angle, from all of its problem files, graded or not."""
        board = str(board)
        if board not in MAIN_FILES:
            raise DataError(f"unknown board {board!r} (expected one of {', '.join(MAIN_FILES)})")
        if angle not in ANGLES[board]:
            raise DataError(f"board {board} has no problems at {angle} degrees (angles: {ANGLES[board]})")
        data_dir = Path(data_dir) if data_dir else default_data_dir()
        cache = _cache_file(board, angle, [data_dir / name for name in problem_files(board)])
        if cache is not None and cache.is_file():
            try:
                with np.load(cache) as saved:
                    return cls(matrix=np.unpackbits(saved["bits"], axis=1, count=NUM_CELLS))
            except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt
                pass
        problems = []
        for name in problem_files(board):
            source = name.removesuffix(".jsonl.gz")
            problems += [p for r in read_jsonl(data_dir / name) if (p := problem_from_record(r, source)).angle == angle]
        index = cls(problems)
        if cache is not None:
            index._save(cache)
        return index

    def _save(self, path: Path) -> None:
        """Best effort: a cache that cannot be written only costs the next command the rebuild."""
        from routegen.io import atomic_replace

        bits = np.packbits(self.matrix.astype(np.uint8), axis=1)

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, bits=bits)

        try:
            atomic_replace(path, write)
        except OSError:
            pass

    def __len__(self) -> int:
        return len(self.matrix)

    def contains(self, route: Route) -> bool:
        """True when the route's hold set (roles ignored) equals a known problem's."""
        return cell_key(route) in self._keys

    def contains_many(self, routes: Sequence[Route]) -> np.ndarray:
        return np.array([self.contains(r) for r in routes], dtype=bool)

    def nearest_jaccard(self, routes: Sequence[Route], exclude_exact: bool = False) -> np.ndarray:
        """(N,) max Jaccard similarity of each route's hold set to any known problem (0 for an empty index).

        exclude_exact: ignore known problems with exactly the route's hold set, i.e. the similarity to the
        nearest *other* problem (for real routes that are themselves in the index).
        """
        q = cell_matrix(routes)  # (N, 198)
        out = np.zeros(len(q), dtype=np.float64)
        if not len(self) or not len(q):
            return out
        q_sizes = q.sum(axis=1)
        for lo in range(0, len(q), _CHUNK):
            inter = q[lo : lo + _CHUNK] @ self.matrix.T  # (C, K) shared holds
            union = q_sizes[lo : lo + _CHUNK, None] + self.sizes[None, :] - inter
            jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
            if exclude_exact:
                jac[jac >= 1.0] = 0.0  # Jaccard 1 <=> identical sets
            out[lo : lo + _CHUNK] = jac.max(axis=1)
        return out


def _cache_file(board: str, angle: int, files: list[Path]) -> Path | None:
    """Where the index of these data files is cached ($XDG_CACHE_HOME/routegen or ~/.cache/routegen), keyed by
    the files' paths, sizes and modification times so that changed data is never served stale. None when a
    file is missing (the build then names it)."""
    import hashlib
    import os

    try:
        stamp = "|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    except OSError:
        return None
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "routegen"
    return root / f"novelty_{board}_{angle}_{hashlib.sha1(stamp.encode()).hexdigest()[:16]}.npz"
