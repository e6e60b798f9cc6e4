"""The fidelity bar: which of the fidelity issue's conditions one measured run meets (docs/fidelity.md).

A generator's default sampling passes, on the test split at 500 routes a grade (the issue asks it of three
sampling seeds), when:
- its grade-aware AUC is at most 0.58 and within 0.08 of the floor;
- its judged-grade W1 is at most 1.5 x the floor at every grade with at least 50 judged real routes;
- per grade, at least 98% of its routes are unique and at least 95% are offered for that grade only;
- (from the full report, not --fidelity-only) at least 97% are novel, and near copies are no more common than
  among real routes.

Each condition is {"value", "bound", "op", "met"} (generation/metrics.py condition, as check_targets' targets);
the judged-W1 one also lists the grades over its bar. A condition without its figure (NaN, or a grade set with no
eligible grade) is not met.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from routegen.generation.metrics import condition

AUC_MAX, AUC_OVER_FLOOR = 0.58, 0.08
W1_FACTOR, W1_MIN_POOL = 1.5, 50
UNIQUE_MIN, SINGLE_GRADE_MIN, NOVEL_MIN = 0.98, 0.95, 0.97
LABELS = {"unique_every_grade": "unique (worst grade)", "one_grade_every_grade": "for one grade only (worst grade)",
          "novel": "novel", "near_copy": "near copies"}  # fmt: skip


def w1_over(fid: Mapping, floor: Mapping) -> list[tuple[str, float, float]]:
    """(grade, W1, floor W1) for each grade with at least W1_MIN_POOL judged real routes whose judged W1 is over
    W1_FACTOR x its floor (or missing)."""
    return [(g, m["w1_judged"], floor["per_grade"][g]["w1_judged"]) for g, m in _eligible(fid, floor)
            if not m["w1_judged"] <= W1_FACTOR * floor["per_grade"][g]["w1_judged"]]  # fmt: skip


def fidelity_bar(fid: Mapping, floor: Mapping, mean: Mapping | None = None, real_mean: Mapping | None = None) -> dict:
    """{condition: {"value", "bound", "op", "met"}} for one run's fidelity measures (`fid`) beside the floor, the
    judged-W1 condition with "over" (w1_over);
    `mean` / `real_mean` (the run's and the real routes' mean metrics) add novelty and near copies."""
    per_grade = fid["per_grade"].values()
    eligible = len(_eligible(fid, floor))
    worst_unique = min((m["unique"] for m in per_grade), default=math.nan)
    worst_single = 1 - max((m["across_grade_dup"] for m in per_grade), default=math.nan)
    over = w1_over(fid, floor)
    values = {
        "auc": (fid["auc"], min(AUC_MAX, floor["auc"] + AUC_OVER_FLOOR), "<="),
        "w1_every_grade": (eligible - len(over), eligible if eligible else math.nan, ">="),
        "unique_every_grade": (worst_unique, UNIQUE_MIN, ">="),
        "one_grade_every_grade": (worst_single, SINGLE_GRADE_MIN, ">="),
    }
    if mean is not None and real_mean is not None:
        values["novel"] = (mean.get("novel", math.nan), NOVEL_MIN, ">=")
        values["near_copy"] = (mean.get("near_copy", math.nan), real_mean.get("near_copy", math.nan), "<=")
    out = {name: condition(*args) for name, args in values.items()}
    out["w1_every_grade"]["over"] = [list(o) for o in over]  # [grade, W1, floor W1]
    return out


def bar_text(bar: Mapping) -> str:
    """One line: each condition met (✓) or not (✗), then the grades over the W1 bar."""
    cells = []
    for name, t in bar.items():
        mark = "✓" if t["met"] else "✗"
        if name == "w1_every_grade":
            cells.append(f"{mark} judged W1 <= {W1_FACTOR} x floor at {_int(t['value'])}/{_int(t['bound'])} grades")
        elif name == "auc":
            cells.append(f"{mark} AUC {t['value']:.3f} <= {t['bound']:.3f}")
        else:
            cells.append(f"{mark} {LABELS[name]} {t['value']:.1%} {t['op']} {t['bound']:.1%}")
    line = "fidelity bar: " + "; ".join(cells)
    if over := bar["w1_every_grade"]["over"]:
        line += " (over: " + ", ".join(f"{g} {w:.2f} vs {f:.2f}" for g, w, f in over) + ")"
    return line


def _eligible(fid: Mapping, floor: Mapping) -> list[tuple[str, Mapping]]:
    return [(g, m) for g, m in fid["per_grade"].items() if m.get("judged_pool", 0) >= W1_MIN_POOL
            and g in floor["per_grade"]]  # fmt: skip


def _int(x: float) -> str:
    return "-" if isinstance(x, float) and math.isnan(x) else str(int(x))
