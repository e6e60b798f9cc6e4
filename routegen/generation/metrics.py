"""Measuring generated routes: validity, uniqueness, novelty, grade agreement, realism (distances, a classifier).

Torch-free (numpy / scipy / scikit-learn). Each function takes plain routes and numbers, so the same metrics
judge any generator and the real held-out routes (the yardstick a generator is compared with).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.stats import spearmanr, wasserstein_distance

from routegen.board import ROWS, Board, row_order
from routegen.generation.novelty import NEAR_COPY, NoveltyIndex, cell_key
from routegen.route import VALIDITY_RULES, Route, check_route, move_lengths

# The targets for a generator (metric -> (comparison, bound)); "real" bounds are the yardstick's figure.
TARGETS = {
    "valid": (">=", 1.0),
    "unique": (">=", 0.98),
    "novel": (">=", 0.97),
    "near_copy": ("<=", 0.15),
    "judge_within1": (">=", "real"),
    "spearman": (">=", "real"),
    "auc": ("<=", 0.65),
}


def validity(routes: Sequence[Route], board: Board) -> dict:
    """Share of valid routes, and per rule of VALIDITY_RULES the share of routes breaking it."""
    broken = {rule: 0 for rule in VALIDITY_RULES}
    ok = 0
    for r in routes:
        v = check_route(r, board)
        ok += v.ok
        for rule in v.reasons:
            broken[rule] += 1
    n = max(len(routes), 1)
    return {"valid": ok / n if routes else math.nan, "broken": {k: c / n for k, c in broken.items()}}


def uniqueness(routes: Sequence[Route]) -> float:
    """Distinct hold sets (roles ignored) / routes."""
    return len({cell_key(r) for r in routes}) / len(routes) if routes else math.nan


def novelty_metrics(routes: Sequence[Route], index: NoveltyIndex, exclude_exact: bool = False) -> dict:
    """novel: share not copying a known hold set; near_copy: nearest known problem Jaccard >= NEAR_COPY."""
    if not routes:
        return {"novel": math.nan, "near_copy": math.nan, "nearest_jaccard_mean": math.nan}
    jac = index.nearest_jaccard(routes, exclude_exact=exclude_exact)
    novel = 1.0 if exclude_exact else 1.0 - float(index.contains_many(routes).mean())
    return {"novel": novel, "near_copy": float(np.mean(jac >= NEAR_COPY)), "nearest_jaccard_mean": float(jac.mean())}


def grade_agreement(targets: Sequence[int], predicted: Sequence[int]) -> dict:
    """exact / within +-1 grade / mean absolute error of predicted grade numbers against the targets."""
    t, p = np.asarray(targets, dtype=float), np.asarray(predicted, dtype=float)
    if not len(t):
        return {"exact": math.nan, "within1": math.nan, "mae": math.nan, "n": 0}
    err = np.abs(t - p)
    return {
        "exact": float(np.mean(err == 0)),
        "within1": float(np.mean(err <= 1)),
        "mae": float(err.mean()),
        "n": len(t),
    }


def spearman(targets: Sequence[float], predicted: Sequence[float]) -> float:
    """Rank correlation; NaN when either side is constant (no ranking to compare)."""
    if len(set(targets)) < 2 or len(set(predicted)) < 2:
        return math.nan
    return float(spearmanr(targets, predicted).statistic)


def span(route: Route) -> int:
    rows = [h.row for h in route.hold_set]
    return max(rows) - min(rows) if rows else 0


FEATURE_NAMES = (
    ["holds", "start", "middle", "end", "span", "lowest", "move_mean", "move_max", "move_std", "gap_max"]
    + ["col_mean", "col_std", "col_range", "start_width"]
    + [f"row{r}" for r in range(1, ROWS + 1)]
)


def route_features(route: Route) -> list[float]:
    """Simple hand-made features for the real-vs-generated classifier (FEATURE_NAMES)."""
    hs = sorted(route.hold_set, key=row_order)
    moves = move_lengths(route) or [0.0]
    rows = [h.row for h in hs] or [0]
    cols = [h.col for h in hs] or [0]
    gaps = [b - a for a, b in zip(rows, rows[1:])] or [0]
    starts = [h.col for h in route.start] or [0]
    hist = [0.0] * ROWS
    for h in hs:
        hist[h.row - 1] += 1
    return [
        len(hs), len(route.start), len(route.middle), len(route.end), span(route), min(rows),
        float(np.mean(moves)), max(moves), float(np.std(moves)), max(gaps),
        float(np.mean(cols)), float(np.std(cols)), max(cols) - min(cols), max(starts) - min(starts),
        *hist,
    ]  # fmt: skip


def feature_matrix(routes: Sequence[Route]) -> np.ndarray:
    return np.array([route_features(r) for r in routes], dtype=float).reshape(len(routes), len(FEATURE_NAMES))


def distribution_distances(generated: Sequence[Route], real: Sequence[Route]) -> dict:
    """Wasserstein-1 distances between generated and real routes: hold count, vertical span, move lengths."""
    if not generated or not real:
        return {"w1_holds": math.nan, "w1_span": math.nan, "w1_moves": math.nan}

    def moves(rs):
        return [m for r in rs for m in move_lengths(r)] or [0.0]

    return {
        "w1_holds": float(wasserstein_distance([len(r.hold_set) for r in generated], [len(r.hold_set) for r in real])),
        "w1_span": float(wasserstein_distance([span(r) for r in generated], [span(r) for r in real])),
        "w1_moves": float(wasserstein_distance(moves(generated), moves(real))),
    }


def real_vs_generated_auc(real: Sequence[Route], generated: Sequence[Route], seed: int = 0, folds: int = 5) -> float:
    """Cross-validated ROC AUC of a logistic regression telling real from generated routes (0.5 = can't tell).

    Classes are weighted to balance, so the figure does not depend on how many routes of each side there are.
    NaN when a side has fewer routes than folds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if min(len(real), len(generated)) < folds:
        return math.nan
    x = np.vstack([feature_matrix(real), feature_matrix(generated)])
    y = np.r_[np.ones(len(real)), np.zeros(len(generated))]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(model, x, y, cv=cv, scoring="roc_auc")))


def matched_mix(real_by_grade: dict, generated_by_grade: dict) -> list[Route]:
    """Generated routes subsampled (first k of each grade) so their grade mix equals the real routes' mix.

    A pooled classifier could otherwise tell the sides apart by grade mix alone (real data is 45% 6B+).
    """
    scale = min(
        (len(generated_by_grade[g]) / len(real_by_grade[g]) for g in real_by_grade if real_by_grade[g]), default=0
    )
    scale = min(scale, 1.0)
    return [r for g, rs in generated_by_grade.items() for r in rs[: round(len(real_by_grade.get(g, ())) * scale)]]


def mean_over_grades(per_grade: dict[str, dict]) -> dict:
    """Unweighted mean of every numeric metric over grades (NaNs skipped); nested dicts averaged key by key."""
    rows = list(per_grade.values())
    out: dict = {}
    for key in rows[0] if rows else ():
        vals = [r[key] for r in rows if key in r]
        if isinstance(vals[0], dict):
            out[key] = mean_over_grades({str(i): v for i, v in enumerate(vals)})
        elif isinstance(vals[0], (int, float)) and not isinstance(vals[0], bool):
            finite = [float(v) for v in vals if not math.isnan(float(v))]
            out[key] = float(np.mean(finite)) if finite else math.nan
    return out


def judged_numbers(grader, routes: Sequence[Route]) -> list[int]:
    """Grade numbers a grader (anything with `.score(routes) -> [.number]`, e.g. routegen.grader.critic.Critic) gives."""
    return [int(s.number) for s in grader.score(list(routes))] if routes else []


def agreement_metrics(prefix: str, grader, routes: Sequence[Route], targets: Sequence[int]) -> dict:
    """`<prefix>_exact / _within1 / _mae` of a grader on routes against their target grade numbers, and the
    grades it gave under `<prefix>_grades` (for a Spearman over all grades; callers pop it)."""
    if grader is None:
        return {}
    numbers = judged_numbers(grader, routes)
    got = grade_agreement(targets, numbers)
    return {**{f"{prefix}_{k}": v for k, v in got.items() if k != "n"}, f"{prefix}_grades": numbers}


def evaluate_generated(
    routes: Sequence[Route], target: int, *, board: Board, index: NoveltyIndex, real: Sequence[Route],
    critic=None, judge=None, seed: int = 0,
) -> dict:  # fmt: skip
    """Every per-grade metric of one batch of generated routes for one target grade number."""
    targets = [target] * len(routes)
    v = validity(routes, board)
    return {
        "n": len(routes),
        "valid": v["valid"],
        "broken": v["broken"],
        "unique": uniqueness(routes),
        **novelty_metrics(routes, index),
        **agreement_metrics("critic", critic, routes, targets),
        **agreement_metrics("judge", judge, routes, targets),
        **distribution_distances(routes, real),
        "auc": real_vs_generated_auc(real, routes, seed=seed),
        "n_real": len(real),
    }


def evaluate_real(
    real: Sequence[Route], target: int, *, index: NoveltyIndex, reference: Sequence[Route],
    graded: dict[str, tuple] | None = None,
) -> dict:  # fmt: skip
    """The yardstick for one grade: real held-out routes' own near-copy rate against every other known problem,
    the distances between them and `reference` real routes (e.g. a training sample of a generated batch's
    size: the floor a perfect generator would reach), and for each `graded` prefix -> (grader, routes) the
    grader's agreement on real routes it never saw in training (its own held-out split)."""
    nov = novelty_metrics(real, index, exclude_exact=True)
    out = {"n": len(real), "near_copy": nov["near_copy"], "nearest_jaccard_mean": nov["nearest_jaccard_mean"]}
    for prefix, (grader, routes) in (graded or {}).items():
        out |= agreement_metrics(prefix, grader, routes, [target] * len(routes))
        out[f"{prefix}_n"] = len(routes)
    return out | distribution_distances(reference, real)


def balanced_spearman(targets: Sequence[int], predicted: Sequence[int], rounds: int = 20, seed: int = 0) -> float:
    """Spearman on grade-balanced subsamples (each grade cut to the rarest grade's count), averaged over rounds.

    Generated batches have n routes per grade; real held-out routes are 45% 6B+. The balanced figure is the
    comparable yardstick for a generator's Spearman.
    """
    rng = np.random.default_rng(seed)
    t, p = np.asarray(targets), np.asarray(predicted)
    groups = [np.flatnonzero(t == g) for g in np.unique(t)]
    k = min((len(g) for g in groups), default=0)
    if len(groups) < 2 or k < 2:
        return math.nan
    values = []
    for _ in range(rounds):
        idx = np.concatenate([rng.choice(g, k, replace=False) for g in groups])
        values.append(spearman(t[idx].tolist(), p[idx].tolist()))
    return float(np.nanmean(values))


def check_targets(run: dict, yardstick: dict) -> dict:
    """The issue's targets for one evaluated run: {name: {"value", "bound", "met"}}; real bounds from the yardstick."""
    mean, real = run["mean"], yardstick["mean"]
    per_grade = [
        (g, m.get("judge_within1", math.nan), yardstick["per_grade"][g].get("judge_within1", math.nan))
        for g, m in run["per_grade"].items()
        if g in yardstick["per_grade"]
    ]
    values = {
        "valid": (mean.get("valid", math.nan), 1.0),
        "unique": (mean.get("unique", math.nan), 0.98),
        "novel": (mean.get("novel", math.nan), 0.97),
        "near_copy": (mean.get("near_copy", math.nan), 0.15),
        "judge_within1": (mean.get("judge_within1", math.nan), real.get("judge_within1", math.nan)),
        "judge_within1_every_grade": (sum(a >= b for _, a, b in per_grade), len(per_grade)),
        "spearman": (run.get("spearman_judge", math.nan), yardstick.get("spearman_judge_balanced", math.nan)),
        "auc": (run.get("auc_pooled", math.nan), 0.65),
    }
    return {name: condition(value, bound, TARGETS.get(name, (">=",))[0]) for name, (value, bound) in values.items()}


def condition(value: float, bound: float, op: str) -> dict:
    """One target: {"value", "bound", "op" ("<=" or ">="), "met"}; a missing (NaN) value is not met."""
    met = value <= bound if op == "<=" else value >= bound
    return {"value": value, "bound": bound, "op": op, "met": bool(met) and not math.isnan(value)}


def hold_spread(routes: Sequence[Route]) -> dict:
    """How routes spread over their start and end holds: the most used hold and its share of the routes, and the
    effective number of holds (exp of the entropy of the holds' shares). A collapsed generator sends most of its
    routes to one end hold; real routes spread over nine or so."""
    out: dict = {}
    for role in ("start", "end"):
        counts = Counter(str(h) for r in routes for h in getattr(r, role))
        if not counts:
            continue
        top, top_n = counts.most_common(1)[0]
        p = np.array(list(counts.values()), dtype=float) / sum(counts.values())
        out[f"{role}_top"] = top
        out[f"{role}_top_share"] = top_n / max(len(routes), 1)
        out[f"{role}_effective"] = float(np.exp(-(p * np.log(p)).sum()))
    return out
