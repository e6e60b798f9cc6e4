"""Readable tables (rich) of an `evaluate-generator` report: the yardstick, each run per grade, a summary."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

# (column title, metric key, format); "%" formats show a share as a percentage
RUN_COLUMNS = [
    ("valid", "valid", "%"), ("unique", "unique", "%"), ("novel", "novel", "%"), ("near-copy", "near_copy", "%"),
    ("critic ±1", "critic_within1", "%"), ("judge exact", "judge_exact", "%"), ("judge ±1", "judge_within1", "%"),
    ("judge MAE", "judge_mae", ".2f"), ("W1 holds", "w1_holds", ".2f"), ("W1 span", "w1_span", ".2f"),
    ("W1 moves", "w1_moves", ".3f"), ("AUC", "auc", ".3f"),
]  # fmt: skip
REAL_COLUMNS = [
    ("n", "n", ".0f"), ("near-copy", "near_copy", "%"), ("critic n", "critic_n", ".0f"),
    ("critic ±1", "critic_within1", "%"), ("judge n", "judge_n", ".0f"), ("judge exact", "judge_exact", "%"), ("judge ±1", "judge_within1", "%"), ("judge MAE", "judge_mae", ".2f"),
    ("W1 holds", "w1_holds", ".2f"), ("W1 span", "w1_span", ".2f"), ("W1 moves", "w1_moves", ".3f"),
]  # fmt: skip


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if spec == "%":
        return f"{100 * value:.1f}%"
    return format(value, spec)


def grade_table(title: str, per_grade: dict, mean: dict, columns, real: dict | None = None) -> Table:
    """Rows = grades + mean; with `real` (the yardstick per grade) a `real ±1` column beside the judge's."""
    table = Table(title=title, title_justify="left")
    table.add_column("grade")
    for name, _, _ in columns:
        table.add_column(name, justify="right")
        if real is not None and name == "judge ±1":
            table.add_column("real ±1", justify="right", style="dim")
    rows = [*per_grade.items(), ("mean", mean)]
    for grade, m in rows:
        cells = []
        for name, key, spec in columns:
            cells.append(fmt(m.get(key), spec))
            if real is not None and name == "judge ±1":
                ref = real["mean"] if grade == "mean" else real["per_grade"].get(grade, {})
                cells.append(fmt(ref.get("judge_within1"), "%"))
        table.add_row(grade, *cells, end_section=grade == rows[-2][0])
    return table


def summary_table(report: dict) -> Table:
    """One row per run (checkpoint x rerank): the issue's targets, met or not."""
    runs = report["runs"]
    names = list(runs[0]["targets"]) if runs else []
    table = Table(title="Targets (✓ met, ✗ not met)", title_justify="left")
    table.add_column("run")
    for name in names:
        table.add_column(name, justify="right")
    for r in runs:
        cells = [_target_cell(name, r["targets"][name]) for name in names]
        table.add_row(f"{r['ckpt']} rerank {r['rerank']}", *cells)
    return table


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console(width=200)
    y = report["yardstick"]
    seeds = {k: v["seed"] for k, v in report["grader_splits"].items()}
    console.print(
        grade_table(
            f"Yardstick: real held-out routes (test split, seed {report['split_seed']}; graders on their own "
            f"held-out splits, seeds {seeds}); W1 = a training sample of n routes vs them",
            y["per_grade"], y["mean"], REAL_COLUMNS,
        )
    )  # fmt: skip
    console.print(
        f"real Spearman(grade, judge) = {fmt(y['spearman_judge'], '.3f')}, "
        f"grade-balanced {fmt(y['spearman_judge_balanced'], '.3f')}\n"
    )
    for r in report["runs"]:
        title = f"{r['ckpt']}  rerank {r['rerank']}  n={report['n']}/grade  ({r['seconds']:.0f} s)"
        console.print(grade_table(title, r["per_grade"], r["mean"], RUN_COLUMNS, real=y))
        line = (
            f"Spearman(target, judge) = {fmt(r['spearman_judge'], '.3f')} (real, balanced {fmt(y['spearman_judge_balanced'], '.3f')}); "
            f"Spearman(target, critic) = {fmt(r['spearman_critic'], '.3f')}; "
            f"pooled AUC (real grade mix) = {fmt(r['auc_pooled'], '.3f')}"
        )
        if r.get("unconstrained"):
            line += f"; validity without constraints = {fmt(r['unconstrained']['mean']['valid'], '%')}"
        console.print(line + "\n")
    if report["runs"]:
        console.print(summary_table(report))


def markdown(report: dict) -> str:
    """The report's summary as Markdown tables (for docs/evaluation.md): yardstick, runs, per-grade figures."""

    def pct(x):
        return fmt(x, "%")

    y, runs = report["yardstick"], report["runs"]
    lines = ["| grade | real n | real near-copy | judge n | judge exact | judge ±1 | judge MAE | critic ±1 |"]
    lines.append("|---" * 8 + "|")
    for g, m in [*y["per_grade"].items(), ("mean", y["mean"])]:
        cells = [fmt(m["n"], ".0f"), pct(m["near_copy"]), fmt(m.get("judge_n"), ".0f"), pct(m.get("judge_exact")),
                 pct(m.get("judge_within1")), fmt(m.get("judge_mae"), ".2f"), pct(m.get("critic_within1"))]  # fmt: skip
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines.append(
        f"\nReal Spearman(grade, judge) {fmt(y['spearman_judge'], '.3f')}, "
        f"grade-balanced {fmt(y['spearman_judge_balanced'], '.3f')}.\n"
    )
    head = ["run", "valid", "unconstr. valid", "unique", "novel", "near-copy", "critic ±1", "judge exact", "judge ±1",
            "judge MAE", "Spearman", "W1 holds", "W1 span", "W1 moves", "AUC (mean of grades)", "pooled AUC"]  # fmt: skip
    lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in runs:
        m, u = r["mean"], r.get("unconstrained")
        cells = [pct(m["valid"]), pct(u["mean"]["valid"]) if u else "-", pct(m["unique"]), pct(m["novel"]),
                 pct(m["near_copy"]), pct(m.get("critic_within1")), pct(m.get("judge_exact")),
                 pct(m.get("judge_within1")), fmt(m.get("judge_mae"), ".2f"), fmt(r["spearman_judge"], ".3f"),
                 fmt(m["w1_holds"], ".2f"), fmt(m["w1_span"], ".2f"), fmt(m["w1_moves"], ".3f"), fmt(m["auc"], ".3f"),
                 fmt(r["auc_pooled"], ".3f")]  # fmt: skip
        lines.append(f"| {r['ckpt']} ×{r['rerank']} | " + " | ".join(cells) + " |")
    floor = [fmt(y["mean"][k], s) for k, s in (("w1_holds", ".2f"), ("w1_span", ".2f"), ("w1_moves", ".3f"))]
    lines.append("| real (train sample vs test: the floor) |" + " |" * 10 + " " + " | ".join(floor) + " | 0.5 | 0.5 |")
    grades = list(y["per_grade"])
    lines += ["", "| per grade | " + " | ".join(grades) + " |", "|---" * (len(grades) + 1) + "|"]
    for key, label, spec in (
        ("judge_within1", "judge ±1", "%"),
        ("near_copy", "near-copy", "%"),
        ("auc", "AUC", ".3f"),
    ):
        if key != "auc":
            lines.append(
                f"| real {label} | " + " | ".join(fmt(y["per_grade"][g].get(key), spec) for g in grades) + " |"
            )
        for r in runs:
            vals = " | ".join(fmt(r["per_grade"][g].get(key), spec) for g in grades)
            lines.append(f"| {r['ckpt']} ×{r['rerank']} {label} | {vals} |")
    lines += ["", "| run | " + " | ".join(runs[0]["targets"]) + " |" if runs else ""]
    if runs:
        lines.append("|---" * (len(runs[0]["targets"]) + 1) + "|")
        for r in runs:
            lines.append(
                f"| {r['ckpt']} ×{r['rerank']} | "
                + " | ".join(_target_cell(n, t) for n, t in r["targets"].items())
                + " |"
            )
    return "\n".join(lines) + "\n"


def _target_cell(name: str, t: dict) -> str:
    if name == "judge_within1_every_grade":
        return f"{'✓' if t['value'] == t['bound'] else '✗'} {t['value']}/{t['bound']}"
    spec = ".3f" if name in ("auc", "spearman") else "%"
    return f"{'✓' if t['met'] else '✗'} {fmt(t['value'], spec)} {t['op']} {fmt(t['bound'], spec)}"
