"""Pictures of routes: the 18 x 11 board grid, its real holds as grey dots, start / middle / end as circles."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

from routegen.board import COLS, COLUMNS, ROWS, Board  # noqa: E402
from routegen.io import atomic_savefig  # noqa: E402
from routegen.route import ROLES, Route  # noqa: E402

ROLE_COLOURS = {"start": "tab:green", "middle": "tab:blue", "end": "tab:red"}


def draw_route(route: Route, board: Board, title: str = "", ax=None):
    """Draw one route on a matplotlib axes (a new figure when ax is None); returns the figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.2, 5.0))
    else:
        fig = ax.figure
    xs, ys = zip(*((h.col, h.row) for h in board.holds)) if board.holds else ((), ())
    ax.scatter(xs, ys, s=6, c="0.7", zorder=1)
    for name in ROLES:
        holds = getattr(route, name)
        if holds:
            ax.scatter(
                [h.col for h in holds], [h.row for h in holds], s=150, facecolors="none",
                edgecolors=ROLE_COLOURS[name], linewidths=2.2, zorder=2, label=name,
            )  # fmt: skip
    ax.set_xticks(range(COLS), list(COLUMNS), fontsize=6)
    ax.set_yticks(range(1, ROWS + 1), [str(r) for r in range(1, ROWS + 1)], fontsize=6)
    ax.set_xlim(-0.7, COLS - 0.3)
    ax.set_ylim(0.3, ROWS + 0.7)
    ax.set_aspect("equal")
    ax.grid(True, lw=0.3, alpha=0.4)
    if title:
        ax.set_title(title, fontsize=8)
    return fig


def save_route_png(route: Route, board: Board, path: str | Path, title: str = "") -> Path:
    """Draw and save one route atomically; returns the path."""
    fig = draw_route(route, board, title)
    try:
        fig.tight_layout()
        atomic_savefig(fig, path, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


def save_route_pngs(routes: list[Route], board: Board, out_dir: str | Path, titles: list[str] | None = None,
                    prefix: str = "route", first: int = 0) -> list[Path]:  # fmt: skip
    """One PNG per route: <out_dir>/<prefix>_000.png, ... (numbered from `first`)."""
    titles = titles or [""] * len(routes)
    return [save_route_png(r, board, Path(out_dir) / f"{prefix}_{i:03d}.png", t) for i, (r, t) in
            enumerate(zip(routes, titles), first)]  # fmt: skip


STALE = re.compile(r"route_\d{3,}\.png")


def remove_stale_pngs(out_dir: str | Path, keep: list[Path]) -> int:
    """Remove the route_NNN.png files in out_dir that are not in `keep` (an earlier, longer run's), so the
    folder shows this run's pictures only; nothing else there is touched. Returns how many went."""
    keep_names = {Path(p).name for p in keep}
    stale = [p for p in Path(out_dir).glob("route_*.png") if STALE.fullmatch(p.name) and p.name not in keep_names]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)
