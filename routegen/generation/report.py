"""Readable tables (rich) of an `evaluate-generator` report: the yardstick, each run per grade, a summary."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from routegen.generation.bar import bar_text, w1_over

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


ROW_HEADER = (
    f"{'routes':<46}{'AUC':>7}{'1-NN':>7}{'W1':>7}{'extra':>7}{'time':>7}  {'W1 over 1.5 x floor':<28} top features"
)


def fidelity_row(name: str, fid: dict, floor: dict, seconds: float, extra: str = "") -> str:
    """One plain-text line of a bench's fidelity table (ROW_HEADER): AUC, 1-NN, pooled judged W1, a bench's own
    column, the seconds, the grades over the W1 bar (W1 / floor) and the top separating features."""
    over = ", ".join(f"{g} {w:.2f}/{f:.2f}" for g, w, f in w1_over(fid, floor)) or "–"
    top = ", ".join(t["feature"] for t in fid.get("top_features", [])[:3])
    return (f"{name:<46}{fid['auc']:>7.3f}{fid['nn_accuracy']:>7.3f}{fid['w1_judged']:>7.2f}{extra:>7}"
            f"{seconds:>6.0f}s  {over:<28} {top}")  # fmt: skip


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


def _spread_text(spread: dict, real: dict) -> str:
    return "; ".join(
        f"{role}: top {spread[f'{role}_top']} {fmt(spread[f'{role}_top_share'], '%')}, "
        f"{spread[f'{role}_effective']:.1f} effective (real {real.get(f'{role}_top', '-')} "
        f"{fmt(real.get(f'{role}_top_share', math.nan), '%')}, {real.get(f'{role}_effective', math.nan):.1f})"
        for role in ("start", "end")
        if f"{role}_top" in spread
    )


def _features_text(top: list[dict], sides: tuple[str, str] = ("gen", "real")) -> str:
    return (
        ", ".join(
            f"{t['feature']} ({t['importance']:.3f}; {sides[0]} {t['generated_mean']:.2f} vs {sides[1]} "
            f"{t['real_mean']:.2f})"
            for t in top
        )
        or "-"
    )


def fidelity_table(title: str, fid: dict, floor: dict) -> Table:
    """Per grade: the judged-grade W1 and its floor, the per-grade AUC of the pooled classifier and its floor,
    uniqueness and across-grade duplicates; pool sizes and flags (pool below MIN_POOL)."""
    table = Table(title=title, title_justify="left")
    for name in ("grade", "pool", "judged pool", "W1 judged", "floor", "judged mean", "real mean", "AUC|grade",
                 "floor", "unique", "across-grade dup", "flag"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("grade", "flag") else "right",
                         style="dim" if name == "floor" else None)  # fmt: skip
    for g, m in fid["per_grade"].items():
        f = floor["per_grade"].get(g, {})
        flags = [x for x, bad in (("pool<min", not f.get("included", True)), ("judged pool<min", m.get("flagged")))
                 if bad]  # fmt: skip
        table.add_row(
            g, fmt(f.get("pool"), ".0f"), fmt(m.get("judged_pool"), ".0f"), fmt(m.get("w1_judged"), ".2f"),
            fmt(f.get("w1_judged"), ".2f"), fmt(m.get("judged_mean"), ".2f"), fmt(m.get("real_judged_mean"), ".2f"),
            fmt(m.get("auc"), ".3f"), fmt(f.get("auc"), ".3f"), fmt(m.get("unique"), "%"),
            fmt(m.get("across_grade_dup"), "%"), ", ".join(flags),
        )  # fmt: skip
    table.add_row(
        "pooled", "", "", fmt(fid.get("w1_judged"), ".2f"), fmt(floor.get("w1_judged"), ".2f"), "", "",
        fmt(fid.get("auc"), ".3f"), fmt(floor.get("auc"), ".3f"), "", fmt(fid.get("across_grade_dup"), "%"), "",
        end_section=True,
    )  # fmt: skip
    return table


def print_fidelity(r: dict, report: dict, console: Console) -> None:
    fid, floor = r["fidelity"], report["yardstick"]["fidelity"]
    title = (f"Fidelity: {r['ckpt']}  rerank {r['rerank']}  (generated vs real half A; floor: real half B vs A; "
             f"{fid['n_per_side']} routes a side; {fid['seconds']:.0f} s)")  # fmt: skip
    console.print(fidelity_table(title, fid, floor))
    console.print(
        f"grade-aware AUC = {fmt(fid['auc'], '.3f')} ± {fmt(fid['auc_std'], '.3f')} "
        f"(floor {fmt(floor['auc'], '.3f')} ± {fmt(floor['auc_std'], '.3f')}); "
        f"judged-grade W1 = {fmt(fid['w1_judged'], '.2f')} (floor {fmt(floor['w1_judged'], '.2f')}); "
        f"1-NN accuracy on hold sets = {fmt(fid.get('nn_accuracy'), '.3f')} (floor {fmt(floor.get('nn_accuracy'), '.3f')}; "
        "0.5: can't tell, below: closer to real routes than they are to each other)\n"
        f"separating features: {_features_text(fid['top_features'])}\n"
        f"  (the floor's, i.e. their noise level: {_features_text(floor['top_features'][:3], ('B', 'A'))})\n"
        f"matched sample {_spread_text(fid['spread'], floor['spread_a'])}"
    )
    if bar := r.get("fidelity_bar"):  # reports saved before the bar have none
        console.print(bar_text(bar))
    console.print()


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console(width=200)
    y = report["yardstick"]
    seeds = {k: v["seed"] for k, v in report["grader_splits"].items()}
    if fl := y.get("fidelity"):
        console.print(
            f"Fidelity floor: real pools per grade (generators' {report.get('split', 'test')} split, seed {report['split_seed']}; judged "
            f"pool: also in the judge's held-out split, seed {seeds.get('judge')}), halves A/B of "
            f"{fl['n_per_side']} routes a side; grades with a pool under {fl['min_pool']} flagged and left out "
            f"of the pooled figures (in: {', '.join(fl['included']) or '-'})"
        )
    if report.get("fidelity_only"):
        for r in report["runs"]:
            print_fidelity(r, report, console)
        return
    console.print(
        grade_table(
            f"Yardstick: real held-out routes ({report.get('split', 'test')} split, seed {report['split_seed']}; graders on their own "
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
        if spread := r.get("spread"):
            real = y.get("spread") or {}
            line += "\n" + "; ".join(
                f"{role} holds: top {spread[f'{role}_top']} {fmt(spread[f'{role}_top_share'], '%')} of routes, "
                f"{spread[f'{role}_effective']:.1f} effective (real: {real.get(f'{role}_top', '-')} "
                f"{fmt(real.get(f'{role}_top_share', math.nan), '%')}, {real.get(f'{role}_effective', math.nan):.1f})"
                for role in ("start", "end")
                if f"{role}_top" in spread
            )
        if r.get("unconstrained"):
            line += f"; validity without constraints = {fmt(r['unconstrained']['mean']['valid'], '%')}"
        console.print(line + "\n")
        if r.get("fidelity") and y.get("fidelity"):
            print_fidelity(r, report, console)
    if report["runs"]:
        console.print(summary_table(report))


def markdown(report: dict) -> str:
    """The report's summary as Markdown tables (for docs/evaluation.md): yardstick, runs, per-grade figures."""

    def pct(x):
        return fmt(x, "%")

    y, runs = report["yardstick"], report["runs"]
    if report.get("fidelity_only"):
        return fidelity_markdown(report)
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
    if y.get("fidelity"):
        lines += ["", fidelity_markdown(report)]
    return "\n".join(lines) + "\n"


def fidelity_markdown(report: dict) -> str:
    """The fidelity measures of every run beside their real-vs-real floor, as Markdown tables."""
    floor = report["yardstick"].get("fidelity")
    if not floor:
        return ""
    head = ["run", "grade-aware AUC", "judged W1 (pooled)", "across-grade dup", "start top / effective",
            "end top / effective", "top separating features"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]

    def spread(sp, role):
        return f"{sp.get(f'{role}_top', '-')} {fmt(sp.get(f'{role}_top_share'), '%')} / {fmt(sp.get(f'{role}_effective'), '.1f')}"

    rows = [(f"{r['ckpt']} ×{r['rerank']}", r["fidelity"], r["fidelity"]["spread"]) for r in report["runs"]]
    rows.append(("real B vs A (the floor)", floor, floor["spread_b"]))
    for name, f, sp in rows:
        feats = ", ".join(t["feature"] for t in f.get("top_features", [])[:5]) or "-"
        dup = f.get("across_grade_dup") if "across_grade_dup" in f else None
        lines.append(
            f"| {name} | {fmt(f['auc'], '.3f')} | {fmt(f['w1_judged'], '.2f')} | {fmt(dup, '%')} | "
            f"{spread(sp, 'start')} | {spread(sp, 'end')} | {feats} |"
        )
    grades = list(floor["per_grade"])
    lines += ["", "| per grade | " + " | ".join(grades) + " |", "|---" * (len(grades) + 1) + "|"]
    lines.append("| real pool (judged pool) | " + " | ".join(
        f"{m['pool']} ({m['judged_pool']}){'*' if m['flagged'] or not m['included'] else ''}"
        for m in floor["per_grade"].values()) + " |")  # fmt: skip
    lines.append(
        "| floor judged W1 | " + " | ".join(fmt(m["w1_judged"], ".2f") for m in floor["per_grade"].values()) + " |"
    )
    for r in report["runs"]:
        pg = r["fidelity"]["per_grade"]
        lines.append(
            f"| {r['ckpt']} ×{r['rerank']} judged W1 | "
            + " | ".join(fmt(pg[g]["w1_judged"], ".2f") for g in grades)
            + " |"
        )
        lines.append(
            f"| {r['ckpt']} ×{r['rerank']} unique | " + " | ".join(fmt(pg[g]["unique"], "%") for g in grades) + " |"
        )
        lines.append(
            f"| {r['ckpt']} ×{r['rerank']} across-grade dup | "
            + " | ".join(fmt(pg[g]["across_grade_dup"], "%") for g in grades)
            + " |"
        )
    lines.append(f"\n\\* pool or judged pool under {floor['min_pool']}: flagged, left out of the pooled figures.")
    bars = [f"- {r['ckpt']} ×{r['rerank']}: {bar_text(r['fidelity_bar'])}" for r in report["runs"]
            if r.get("fidelity_bar")]  # fmt: skip
    lines += ([""] + bars) if bars else []
    return "\n".join(lines) + "\n"


def _target_cell(name: str, t: dict) -> str:
    if name == "judge_within1_every_grade":
        return f"{'✓' if t['value'] == t['bound'] else '✗'} {t['value']}/{t['bound']}"
    spec = ".3f" if name in ("auc", "spearman") else "%"
    return f"{'✓' if t['met'] else '✗'} {fmt(t['value'], spec)} {t['op']} {fmt(t['bound'], spec)}"
