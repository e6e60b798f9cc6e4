"""Fidelity: a yardstick that prototypical routes cannot game (behind `routegen evaluate-generator`).

"The judge puts the route within ±1 of its target" and a Spearman over grades reward routes that look like the
*typical* route of a grade; a linear classifier on ~30 summary features misses most of what a climber notices.
These measures compare the generated routes of each target grade with real routes of that grade as a whole
distribution, and each one sits beside its FLOOR: the same measure between two disjoint halves (A, B) of real
routes that neither the generator nor the judge trained on. The generated sample replaces half B: it is cut to
B's size per grade and compared with half A, so the measure and its floor differ in nothing but the routes.

  - two-sample classifier (grade-aware): a gradient-boosted classifier on rich route features (every hold x
    role, counts, span, row / column statistics, move lengths and gaps: generation/features.py) plus the
    grade, equal routes per grade on both sides, stratified 5-fold ROC AUC (0.5: cannot tell them apart); the
    features whose permutation lowers the out-of-fold AUC most say what gives the generator away;
  - judged grade: per grade, Wasserstein-1 between the judge's expected grade on generated routes and on real
    routes of that grade (0: judged exactly like real routes of the grade, spread included);
  - uniqueness per grade, and across grades: the share of a grade's routes whose hold set the generator also
    offered for another target grade;
  - start and end hold spread (metrics.hold_spread) of the matched samples;
  - a feature-free check of the classifier: leave-one-out 1-nearest-neighbour accuracy on the hold sets
    (generation/nearest.py), per grade on the same samples (0.5: cannot tell; below: too close to real routes).

Two real pools (see docs/fidelity.md): the classifier, the spreads and the across-grade figure use the routes
of the generators' test split (no generator trained on them; no grader is involved); the judged grade uses
those that are also in the judge's held-out split. Grades with fewer than MIN_POOL routes in a pool are
reported but flagged and left out of the pooled figures.

`Fidelity(pools, judged_pools, judge, n, seed)` prepares the halves, the real features and the floor once;
`.measure(generated_by_grade)` is then a few seconds, cheap enough to log during training.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import wasserstein_distance

from routegen.generation.features import FEATURE_NAMES, route_features
from routegen.generation.metrics import hold_spread, uniqueness
from routegen.generation.nearest import nn_accuracy
from routegen.generation.novelty import cell_key
from routegen.route import Route

MIN_POOL = 20  # real pool routes a grade needs to count in the pooled figures
FOLDS = 5
W1_ROUNDS = 20  # random A/B halvings (and generated subsamples) averaged for the judged-grade W1
TOP_FEATURES = 5
PERMUTE_CANDIDATES = 40  # features permuted per fold: those with the largest split gains


def _classifier(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    # No early stopping (it would hold out part of a small training fold); modest trees against overfitting.
    return HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=8, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
    )  # fmt: skip


def _auc(y, p) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < np.sum(y) < len(y) else math.nan


def two_sample_auc(
    real_x: np.ndarray, gen_x: np.ndarray, *, seed: int = 0, folds: int = FOLDS, importance: bool = True,
    repeats: int = 2,
) -> dict:  # fmt: skip
    """Classifier two-sample test: stratified k-fold ROC AUC of HistGradientBoosting telling `gen_x` rows from
    `real_x` rows (the last column is the grade: with equal routes per grade on both sides it carries no signal
    by itself, but lets the trees judge each route against its grade).

    Returns auc (mean over folds), auc_std, per_grade (AUC of the out-of-fold scores within each grade), and
    with `importance` the top features: the mean drop of the out-of-fold AUC when one feature column is
    permuted (`repeats` times), with the feature's mean on the generated and the real side.
    """
    from sklearn.model_selection import StratifiedKFold

    if min(len(real_x), len(gen_x)) < folds:
        return {"auc": math.nan, "auc_std": math.nan, "per_grade": {}, "top_features": [], "n": 0}
    x = np.vstack([gen_x, real_x])
    y = np.r_[np.ones(len(gen_x)), np.zeros(len(real_x))]  # 1 = generated
    grade = x[:, -1]
    used = np.flatnonzero(np.ptp(x, axis=0) > 0)  # most hold x role cells are empty on both sides: skip them
    x = x[:, used]
    strata = (grade * 2 + y).astype(int)  # folds stratified by side and grade
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    oof = np.zeros(len(y))
    fold_aucs, drops = [], np.zeros(x.shape[1])
    rng = np.random.default_rng(seed)
    for train, test in cv.split(x, strata if np.bincount(strata).min() >= folds else y):
        model = _classifier(seed).fit(x[train], y[train])
        oof[test] = model.predict_proba(x[test])[:, 1]
        base = _auc(y[test], oof[test])
        fold_aucs.append(base)
        if importance:
            drops += permutation_drops(model, x[test], y[test], base, rng, repeats)
    out = {
        "auc": float(np.nanmean(fold_aucs)),
        "auc_std": float(np.nanstd(fold_aucs)),
        "n": int(len(gen_x)),
        "per_grade": {int(g): _auc(y[grade == g], oof[grade == g]) for g in np.unique(grade)},
    }
    if importance:
        drops /= folds
        order = [j for j in np.argsort(-drops) if drops[j] > 0][:TOP_FEATURES]
        out["top_features"] = [
            {"feature": FEATURE_NAMES[c], "importance": float(drops[j]), "generated_mean": float(gen_x[:, c].mean()),
             "real_mean": float(real_x[:, c].mean())}
            for j in order
            for c in [used[j]]
        ]  # fmt: skip
    return out


def _split_gains(model, n_features: int) -> np.ndarray | None:
    """Total split gain per feature over the fitted trees (None where the estimator does not expose them)."""
    try:
        gains = np.zeros(n_features)
        for trees in model._predictors:  # noqa: SLF001 - scikit-learn keeps the fitted trees here since 0.21
            for tree in trees:
                nodes = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
                np.add.at(gains, nodes["feature_idx"], np.maximum(nodes["gain"], 0))
        return gains
    except (AttributeError, KeyError, ValueError, TypeError):
        return None


def permutation_drops(
    model, x, y, base: float, rng, repeats: int, chunk: int = 24, candidates: int = PERMUTE_CANDIDATES
) -> np.ndarray:  # fmt: skip
    """AUC drop per column when it is permuted within the test fold. Columns the trees never split on cannot
    matter (0); of the others only the `candidates` with the largest split gains are permuted (the rest: 0),
    which keeps this a few times the cost of the fit. Permuted copies are predicted in large batches."""
    drops = np.zeros(x.shape[1])
    cols = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    gains = _split_gains(model, x.shape[1])
    if gains is not None:
        cols = sorted((j for j in cols if gains[j] > 0), key=lambda j: -gains[j])[:candidates]
    m = len(x)
    for start in range(0, len(cols), chunk):
        block = cols[start : start + chunk]
        stacked = np.repeat(x[None], len(block) * repeats, axis=0)  # (B*R, m, k)
        for b, j in enumerate(block):
            for r in range(repeats):
                stacked[b * repeats + r, :, j] = rng.permutation(x[:, j])
        p = model.predict_proba(stacked.reshape(-1, x.shape[1]))[:, 1].reshape(len(block), repeats, m)
        for b, j in enumerate(block):
            drops[j] = base - np.mean([_auc(y, p[b, r]) for r in range(repeats)])
    return drops


def across_grade_duplicates(routes_by_grade: Mapping[str, Sequence[Route]]) -> dict[str, float]:
    """Per grade, the share of its routes whose hold set (roles ignored) is also among another grade's routes."""
    keys = {g: [cell_key(r) for r in rs] for g, rs in routes_by_grade.items()}
    owners: dict[frozenset, set] = {}
    for g, ks in keys.items():
        for k in ks:
            owners.setdefault(k, set()).add(g)
    return {g: (sum(len(owners[k]) > 1 for k in ks) / len(ks) if ks else math.nan) for g, ks in keys.items()}


def dedupe(routes: Sequence[Route]) -> list[Route]:
    seen, out = set(), []
    for r in routes:
        if (k := cell_key(r)) not in seen:
            seen.add(k)
            out.append(r)
    return out


def _halves(routes: Sequence[Route], k: int, rng: random.Random) -> tuple[list[Route], list[Route]]:
    """Two disjoint random samples of k routes each (the pool is deduplicated by hold set first)."""
    pool = list(routes)
    rng.shuffle(pool)
    return pool[:k], pool[k : 2 * k]


def judged_expected(judge, routes: Sequence[Route]) -> np.ndarray:
    """The judge's expected grade number of each route."""
    return np.array([float(s.expected) for s in judge.score(list(routes))]) if routes else np.zeros(0)


def halved_w1(real: np.ndarray, gen: np.ndarray | None, seed: int, rounds: int = W1_ROUNDS) -> float:
    """The judged-grade W1 of one grade: the mean over `rounds` random A/B halvings of the real judged grades of
    W1(B, A), or with `gen` W1(a subsample of B's size of the generated judged grades, A); NaN without a half."""
    k = len(real) // 2
    if k < 1 or (gen is not None and not len(gen)):
        return math.nan
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        perm = rng.permutation(len(real))
        a, b = real[perm[:k]], real[perm[k : 2 * k]]
        if gen is not None:
            b = rng.choice(gen, min(k, len(gen)), replace=False)
        values.append(wasserstein_distance(b, a))
    return float(np.mean(values))


class Fidelity:
    """The fidelity yardstick for one set of target grades: real halves, their features and the floor, prepared
    once; `measure` scores a generator's routes against them.

    pools: Font grade -> (grade number, real routes no generator trained on); judged_pools: Font grade -> real
    routes neither the generators nor the judge trained on (None or a missing grade: no judged-grade W1);
    n: generated routes per grade (each grade's halves hold min(n, pool // 2) routes).
    """

    def __init__(
        self, pools: Mapping[str, tuple[int, Sequence[Route]]], judged_pools: Mapping[str, Sequence[Route]] | None,
        judge, *, n: int, seed: int = 0, importance: bool = True,
    ) -> None:  # fmt: skip
        t0 = time.perf_counter()
        self.seed, self.judge, self.importance = seed, judge, importance
        self.numbers = {g: num for g, (num, _) in pools.items()}
        self.pool_sizes = {g: len(rs) for g, (_, rs) in pools.items()}
        self.pools = {g: dedupe(rs) for g, (_, rs) in pools.items()}
        self.k = {g: min(n, len(rs) // 2) for g, rs in self.pools.items()}
        self.included = [g for g in pools if self.pool_sizes[g] >= MIN_POOL and self.k[g] >= 1]
        rng = random.Random(seed)
        self.a, self.b = {}, {}
        for g in pools:
            self.a[g], self.b[g] = _halves(self.pools[g], self.k[g], rng)
        self.a_x = self._features(self.a)
        # judged grade: the judge's expected grade on every judged-pool route, once
        judged_pools = judged_pools or {}
        self.judged = {g: dedupe(judged_pools.get(g, ())) for g in pools} if judge is not None else {}
        self.judged_sizes = {g: len(judged_pools.get(g, ())) for g in pools} if judge is not None else {}
        self.judged_expected = {g: judged_expected(judge, rs) for g, rs in self.judged.items()}
        self.floor = self._floor()
        self.floor["seconds"] = time.perf_counter() - t0

    def _features(self, by_grade: Mapping[str, Sequence[Route]], grades=None) -> np.ndarray:
        grades = self.included if grades is None else grades
        routes = [r for g in grades for r in by_grade[g]]
        numbers = [self.numbers[g] for g in grades for _ in by_grade[g]]
        return route_features(routes, numbers)

    def _per_grade_w1(self, gen_expected: Mapping[str, np.ndarray] | None) -> dict:
        out = {}
        for g in self.numbers:
            gen = None if gen_expected is None else gen_expected.get(g, np.zeros(0))
            w1 = halved_w1(self.judged_expected.get(g, np.zeros(0)), gen, self.seed)
            out[g] = {"w1_judged": w1, "judged_pool": self.judged_sizes.get(g, 0),
                      "flagged": self.judged_sizes.get(g, 0) < MIN_POOL}  # fmt: skip
        return out

    def _pooled_w1(self, per_grade: dict) -> float:
        vals = [m["w1_judged"] for m in per_grade.values() if not m["flagged"] and not math.isnan(m["w1_judged"])]
        return float(np.mean(vals)) if vals else math.nan

    def _pooled_nn(self, nn: Mapping[str, float]) -> float:
        """The 1-NN accuracy over the included grades, each weighted by its routes a side."""
        sizes = {g: self.k[g] for g, v in nn.items() if not math.isnan(v)}
        return float(sum(nn[g] * k for g, k in sizes.items()) / sum(sizes.values())) if sizes else math.nan

    def _floor(self) -> dict:
        """Real half B in the generator's place."""
        b_x = self._features(self.b)
        clf = two_sample_auc(self.a_x, b_x, seed=self.seed, importance=self.importance)
        per_grade = self._per_grade_w1(None)
        nn = {g: nn_accuracy(self.b[g], self.a[g], self.seed) for g in self.included}
        real_pool = {g: list(rs) for g, rs in self.pools.items()}
        dup = across_grade_duplicates({g: self.b[g] for g in self.numbers})
        for g, m in per_grade.items():
            m |= {"pool": self.pool_sizes[g], "k": self.k[g], "included": g in self.included,
                  "auc": clf["per_grade"].get(self.numbers[g], math.nan), "across_grade_dup": dup[g],
                  "nn_accuracy": nn.get(g, math.nan)}  # fmt: skip
        return {
            "auc": clf["auc"], "auc_std": clf["auc_std"], "top_features": clf.get("top_features", []),
            "w1_judged": self._pooled_w1(per_grade), "per_grade": per_grade, "nn_accuracy": self._pooled_nn(nn),
            "spread_a": hold_spread([r for g in self.included for r in self.a[g]]),
            "spread_b": hold_spread([r for g in self.included for r in self.b[g]]),
            "pool_across_grade_dup": across_grade_duplicates(real_pool),
            "min_pool": MIN_POOL, "included": list(self.included), "n_per_side": int(len(b_x)),
        }  # fmt: skip

    def measure(self, generated: Mapping[str, Sequence[Route]]) -> dict:
        """The fidelity of one generator's routes (Font grade -> routes sampled for that target grade)."""
        t0 = time.perf_counter()
        rng = random.Random(self.seed + 1)
        matched = {}
        for g in self.numbers:
            routes = list(generated.get(g, ()))
            matched[g] = rng.sample(routes, min(self.k[g], len(routes)))
        # same routes per grade on both sides: cut A where a grade came back short
        a_x = self.a_x
        if any(len(matched[g]) < self.k[g] for g in self.included):
            a_x = self._features({g: self.a[g][: len(matched[g])] for g in self.included})
        clf = two_sample_auc(a_x, self._features(matched), seed=self.seed, importance=self.importance)
        t_clf = time.perf_counter() - t0
        gen_expected = {}
        if self.judge is not None:
            gen_expected = {g: judged_expected(self.judge, generated.get(g, ())) for g in self.numbers}
        per_grade = self._per_grade_w1(gen_expected)
        dup = across_grade_duplicates({g: list(generated.get(g, ())) for g in self.numbers})
        nn = {g: nn_accuracy(matched[g], self.a[g][: len(matched[g])], self.seed) for g in self.included}
        for g, m in per_grade.items():
            exp = gen_expected.get(g, np.zeros(0))
            m |= {"n": len(generated.get(g, ())), "unique": uniqueness(list(generated.get(g, ()))),
                  "across_grade_dup": dup[g], "auc": clf["per_grade"].get(self.numbers[g], math.nan),
                  "nn_accuracy": nn.get(g, math.nan),
                  "judged_mean": float(exp.mean()) if len(exp) else math.nan,
                  "real_judged_mean": float(self.judged_expected[g].mean()) if len(self.judged_expected.get(g, ())) else math.nan}  # fmt: skip
        all_routes = [r for g in self.numbers for r in generated.get(g, ())]
        return {
            "auc": clf["auc"], "auc_std": clf["auc_std"], "top_features": clf.get("top_features", []),
            "w1_judged": self._pooled_w1(per_grade), "per_grade": per_grade, "nn_accuracy": self._pooled_nn(nn),
            "across_grade_dup": sum(dup[g] * len(generated.get(g, ())) for g in self.numbers if generated.get(g))
            / max(len(all_routes), 1),
            "spread": hold_spread([r for g in self.included for r in matched[g]]),
            "n_per_side": int(sum(len(matched[g]) for g in self.included)),
            "seconds_classifier": t_clf, "seconds": time.perf_counter() - t0,
        }  # fmt: skip
