"""Measure the domain rules on the real data: largest vertical gaps, hold counts, role inference agreement.

    python bench/data_stats.py [--board 2016]

The figures behind MAX_ROW_GAP and Route.from_holds (README.md, Domain) come from this script.
"""

from __future__ import annotations

import argparse
from collections import Counter

from rich.console import Console
from rich.table import Table

from routegen.data import load_problems
from routegen.route import MAX_HOLDS, MAX_ROW_GAP, MIN_HOLDS, Route


def largest_gap(route: Route) -> int:
    rows = sorted({h.row for h in route.holds})
    return max((b - a for a, b in zip(rows, rows[1:])), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="2016")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    problems = load_problems(args.data_dir, board=args.board)
    n = len(problems)
    gaps = Counter(largest_gap(p.route) for p in problems)
    sizes = Counter(len(p.route.hold_set) for p in problems)
    inferred = [Route.from_holds(p.route.holds) for p in problems]

    table = Table(title=f"MoonBoard {args.board} @ 40°: {n:,} problems")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for g in sorted(gaps):
        table.add_row(f"largest gap = {g} rows", f"{gaps[g]:,}")
    table.add_row(
        f"largest gap <= {MAX_ROW_GAP} rows", f"{sum(v for k, v in gaps.items() if k <= MAX_ROW_GAP) / n:.2%}"
    )
    table.add_row(
        f"{MIN_HOLDS}-{MAX_HOLDS} holds", f"{sum(v for k, v in sizes.items() if MIN_HOLDS <= k <= MAX_HOLDS) / n:.2%}"
    )
    table.add_row("inferred roles == data roles", f"{sum(r == p.route for r, p in zip(inferred, problems)) / n:.2%}")
    table.add_row(
        "inferred start == data start", f"{sum(r.start == p.route.start for r, p in zip(inferred, problems)) / n:.2%}"
    )
    table.add_row(
        "inferred end == data end", f"{sum(r.end == p.route.end for r, p in zip(inferred, problems)) / n:.2%}"
    )
    Console().print(table)


if __name__ == "__main__":
    main()
