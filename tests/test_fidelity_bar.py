"""The fidelity bar (routegen/generation/bar.py): which of the fidelity issue's conditions a run meets."""

from __future__ import annotations

import math

from routegen.generation.bar import bar_text, fidelity_bar, w1_over


def grade(w1: float, pool: int = 400, unique: float = 1.0, dup: float = 0.0) -> dict:
    return {"w1_judged": w1, "judged_pool": pool, "unique": unique, "across_grade_dup": dup}


def measures(auc: float, **per_grade) -> dict:
    return {"auc": auc, "per_grade": per_grade}


FLOOR = measures(0.50, **{"6B+": grade(0.06), "7A": grade(0.12), "7C+": grade(0.50, pool=29)})


def test_a_run_like_real_routes_meets_every_condition():
    run = measures(0.55, **{"6B+": grade(0.08), "7A": grade(0.15), "7C+": grade(0.60, pool=29)})
    bar = fidelity_bar(run, FLOOR, {"novel": 0.99, "near_copy": 0.05}, {"near_copy": 0.117})
    assert all(t["met"] for t in bar.values()) and set(bar) >= {"auc", "w1_every_grade", "novel", "near_copy"}
    assert bar["w1_every_grade"]["value"] == bar["w1_every_grade"]["bound"] == 2  # 7C+: under 50 judged routes
    assert w1_over(run, FLOOR) == []


def test_each_condition_can_fail():
    run = measures(0.57, **{"6B+": grade(0.18), "7A": grade(0.15, unique=0.97, dup=0.06), "7C+": grade(2.0, pool=29)})
    bar = fidelity_bar(run, {**FLOOR, "auc": 0.48}, {"novel": 0.96, "near_copy": 0.12}, {"near_copy": 0.117})
    assert math.isclose(bar["auc"]["bound"], 0.56) and not bar["auc"]["met"]  # under 0.58, not within 0.08 of 0.48
    assert not fidelity_bar(measures(0.59, **FLOOR["per_grade"]), measures(0.55))["auc"]["met"]  # over 0.58
    assert w1_over(run, FLOOR) == [("6B+", 0.18, 0.06)]  # 7C+ is far over, but has too few judged routes
    assert (bar["w1_every_grade"]["value"], bar["w1_every_grade"]["met"]) == (1, False)
    assert not any(bar[k]["met"] for k in ("unique_every_grade", "one_grade_every_grade", "novel", "near_copy"))
    assert math.isclose(bar["one_grade_every_grade"]["value"], 0.94)


def test_fidelity_only_has_no_novelty_and_a_missing_figure_is_not_met():
    run = measures(math.nan, **{"6B+": grade(math.nan), "7A": grade(0.1)})
    bar = fidelity_bar(run, FLOOR)
    assert "novel" not in bar and not bar["auc"]["met"]
    assert [g for g, _, _ in w1_over(run, FLOOR)] == ["6B+"]


def test_the_line_names_what_fails():
    run = measures(0.62, **{"6B+": grade(0.18), "7A": grade(0.15)})
    text = bar_text(fidelity_bar(run, FLOOR))
    assert text.startswith("fidelity bar: ✗ AUC 0.620 <= 0.580")
    assert "✗ judged W1 <= 1.5 x floor at 1/2 grades" in text and text.endswith("(over: 6B+ 0.18 vs 0.06)")
    assert "✓ unique (worst grade) 100.0% >= 98.0%" in text
