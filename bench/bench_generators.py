"""Compare generator checkpoints: sampling speed and the evaluate-generator figures, one row per run.

    python bench/bench_generators.py --ckpt runs/ar --ckpt <gan run> \
        --critic runs/critic --judge runs/judge [-n 500] [--rerank 1,8] [--threads 1] \
        [--output bench_generators.json]
    python bench/bench_generators.py --markdown report.json    # the docs/results.md tables of a saved report

Runs `routegen evaluate-generator` (all its tables print too), then a compact table of the mean figures and
the constrained sampling speed (routes/s, one grade, batch of n, after one warm-up batch).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from routegen.cli import main as routegen_main
from routegen.generation.report import fmt, markdown


def sampling_speed(path: str, n: int, grade: int = 7) -> float:
    from routegen.checkpoints import load_module

    module = load_module(path, expect=("ar_transformer", "cgan"))
    module.generate([grade] * 8, seed=0)  # warm-up
    t = time.perf_counter()
    module.generate([grade] * n, seed=1)
    return n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markdown", metavar="REPORT_JSON", help="print a saved report as Markdown tables and exit")
    p.add_argument("--ckpt", action="append")
    p.add_argument("--critic")
    p.add_argument("--judge")
    p.add_argument("-n", type=int, default=500)
    p.add_argument("--rerank", default="1,8")
    p.add_argument("--grades", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--output", default=None)
    args = p.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    if not (args.ckpt and args.critic and args.judge):
        p.error("--ckpt, --critic and --judge are required (or --markdown REPORT_JSON)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.output or Path(tmp) / "report.json")
        argv = ["evaluate-generator", *[a for c in args.ckpt for a in ("--ckpt", c)], "--critic", args.critic,
                "--judge", args.judge, "-n", str(args.n), "--rerank", args.rerank, "--output", str(out)]  # fmt: skip
        argv += ["--grades", args.grades] if args.grades else []
        argv += ["--threads", str(args.threads)] if args.threads else []
        if routegen_main(argv) != 0:
            raise SystemExit(1)
        report = json.loads(out.read_text())
    speed = {c: sampling_speed(c, args.n) for c in args.ckpt}
    real = report["yardstick"]
    table = Table(title=f"Generators, mean over {', '.join(report['grades'])} (n={report['n']}/grade)")
    cols = ["valid", "unique", "novel", "near_copy", "critic_within1", "judge_exact", "judge_within1", "judge_mae"]
    for c in ["run", "routes/s", *cols, "spearman", "AUC", "W1 moves", "seconds"]:
        table.add_column(c, justify="left" if c == "run" else "right")
    table.add_row("real held-out", "-", "-", "-", "-", fmt(real["mean"]["near_copy"], "%"),
                  fmt(real["mean"].get("critic_within1"), "%"), fmt(real["mean"]["judge_exact"], "%"),
                  fmt(real["mean"]["judge_within1"], "%"), fmt(real["mean"]["judge_mae"], ".2f"),
                  fmt(real["spearman_judge_balanced"], ".3f"), "0.5", fmt(real["mean"]["w1_moves"], ".3f"), "-")  # fmt: skip
    for r in report["runs"]:
        m = r["mean"]
        pct = [fmt(m.get(k), ".2f" if k == "judge_mae" else "%") for k in cols]
        table.add_row(f"{r['ckpt']} x{r['rerank']}", f"{speed[r['ckpt']]:.0f}", *pct, fmt(r["spearman_judge"], ".3f"),
                      fmt(r["auc_pooled"], ".3f"), fmt(m.get("w1_moves"), ".3f"), f"{r['seconds']:.0f}")  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
