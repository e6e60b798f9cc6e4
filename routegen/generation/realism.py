"""Realism trees: a classifier of real vs generated routes that any generator's candidates are weighted by
(discriminator rejection sampling, Azadi et al. 2019, as a draw), behind `routegen calibrate --realism-trees`.

Fitted after training on the generator's TRAINING split: its real routes of each trained grade against as many
routes the generator makes for those grades with its sampling defaults, on the rich route features
(generation/features.py) and the grade. Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier):
their logit estimates log p_real(route | grade) / p_generated(route | grade), which critic matching
(generation/match.py) multiplies into each candidate's weight. Where a generator is already like the real routes
the logits are flat and nothing changes.

Matching from K candidates only goes part of the way to what the trees ask (the candidates' spread limits it),
and trees fitted on far more routes than the yardstick's classifier see more. So later ROUNDS (`--realism-trees
R`) fit more trees, the same way, on the real training routes against the generator's MATCHED routes (weighted
by the trees so far), and add them: their logit estimates log p_real / p_matched, and the sum of the rounds the
log ratio of real over the generator's routes, corrected where the earlier rounds' matching fell short.

The trees are kept as plain arrays in the checkpoint's hparams (JSON-safe, so a shipped card holds them without
a pickle) and evaluated here with NumPy: `tree_logits` reproduces the classifier's decision_function
(tests/test_realism.py checks it against scikit-learn's).

The two-sample test of the fidelity yardstick uses the same feature family, on other routes (the test or
validation split, never the training split the trees learn from) with a fresh classifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from routegen.errors import RoutegenError
from routegen.generation.base import real_routes_by_grade
from routegen.generation.features import FEATURE_NAMES, route_features
from routegen.route import Route

TREES = {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 20,
         "l2_regularization": 1.0}  # fmt: skip
ROUND_MATCH = 16  # candidates per route behind a later round's matched routes
MAX_ROUNDS = 4
_NODE_FIELDS = ("feature_idx", "num_threshold", "left", "right", "is_leaf", "value", "missing_go_to_left")


def labelled_features(
    module, problems, seed: int, critic=None, match: int | None = ROUND_MATCH
) -> tuple[np.ndarray, np.ndarray]:
    """Features of the real routes of `problems` (label 1) and as many generated for the same grades (label 0,
    the generator's sampling defaults, seeded per grade; given a critic, matched from `match` candidates each
    (None: the generator's default), weighted by the realism trees already on the module; grades without the
    critic's profile left out)."""
    from routegen.generation.sampling import sample_routes

    real = real_routes_by_grade(module, problems)
    if not real:
        raise RoutegenError("no problems of a grade the model was trained on: nothing to fit realism trees with")
    profiled = set((getattr(critic, "profiles", None) or {}).get("counts", {}))
    xs, ys = [], []
    for number, routes in real.items():
        if critic is not None and str(number) not in profiled:
            continue  # no profile to match to: a later round learns from the grades it can match
        if critic is None:
            fake = module.generate([number] * len(routes), seed=seed + number)
        else:
            matched = sample_routes(module, number, len(routes), critic=critic, match=match, seed=seed + number)
            fake = [s.route for s in matched]
        xs += [route_features(routes, [number] * len(routes)), route_features(fake, [number] * len(fake))]
        ys += [np.ones(len(routes)), np.zeros(len(fake))]
    if not xs:
        raise RoutegenError(
            "the critic has no grade profiles for the grades trained on: run `routegen calibrate "
            "--ckpt <critic>` (it records them) before a later round of realism trees"
        )
    return np.vstack(xs), np.concatenate(ys)


def fit_realism_trees(module, train_problems, val_problems=(), seed: int = 0, critic=None) -> dict:
    """The JSON-safe trees (export_trees) fitted on `train_problems`, with their sizes and the ROC AUC of real vs
    generated on the training routes and, given `val_problems`, on validation routes against fresh ones (given a
    critic: against the generator's matched routes, labelled_features)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    x, y = labelled_features(module, train_problems, seed, critic)
    clf = HistGradientBoostingClassifier(**TREES, early_stopping=False, random_state=seed).fit(x, y)
    trees = export_trees(clf)
    trees |= {"n_real": int(y.sum()), "n_generated": int(len(y) - y.sum()), "seed": seed,
              "train_auc": float(roc_auc_score(y, tree_logits(trees, x)))}  # fmt: skip
    if val_problems:
        vx, vy = labelled_features(module, val_problems, seed + 1000, critic)
        trees["val_auc"] = float(roc_auc_score(vy, tree_logits(trees, vx)))
    return trees


def add_round(trees: Mapping, more: Mapping) -> dict:
    """`trees` with a later round's trees added: one sum of logits (baselines added, trees joined); the first
    round's sizes and AUCs stay at the top, each round's under "rounds"."""
    first = trees.get("rounds") or [_round_facts(trees)]
    return dict(trees) | {"baseline": float(trees["baseline"]) + float(more["baseline"]),
                          "trees": list(trees["trees"]) + list(more["trees"]),
                          "rounds": [*first, _round_facts(more)]}  # fmt: skip


def _round_facts(trees: Mapping) -> dict:
    return {k: trees[k] for k in ("n_real", "n_generated", "train_auc", "val_auc") if k in trees} | {
        "trees": len(trees["trees"])
    }


def export_trees(clf) -> dict:
    """A fitted binary HistGradientBoostingClassifier as plain lists: per tree its nodes' fields."""
    if clf.n_trees_per_iteration_ != 1 or getattr(clf, "is_categorical_", None) is not None:
        raise ValueError("only a binary classifier on numeric features can be exported")
    trees = []
    for (predictor,) in clf._predictors:  # noqa: SLF001 - scikit-learn's fitted trees (public attributes of nodes)
        nodes = predictor.nodes
        trees.append({f: nodes[f].tolist() for f in _NODE_FIELDS})
    return {"features": len(FEATURE_NAMES), "baseline": float(np.ravel(clf._baseline_prediction)[0]), "trees": trees}  # noqa: SLF001


def tree_logits(trees: Mapping, x: np.ndarray) -> np.ndarray:
    """(N,) the trees' summed raw score (the classifier's decision_function: log-odds of real) for features x."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != trees["features"]:
        raise RoutegenError(
            f"these realism trees were fitted on {trees['features']} route features, not {x.shape[-1]}: refit them "
            "with `routegen calibrate --realism-trees`"
        )
    t = _stacked(trees)
    node = np.zeros((len(x), len(t["offset"])), dtype=np.int64) + t["offset"]  # (N, trees): every tree at its root
    rows = np.arange(len(x))[:, None]
    while not (done := t["is_leaf"][node]).all():  # all trees walk down together: one step per depth level
        v = x[rows, t["feature_idx"][node]]
        go_left = np.where(np.isnan(v), t["missing_go_to_left"][node], v <= t["num_threshold"][node])
        node = np.where(done, node, np.where(go_left, t["left"][node], t["right"][node]))
    return float(trees["baseline"]) + t["value"][node].sum(1)


_STACKED: dict[int, tuple[Mapping, dict]] = {}


def _stacked(trees: Mapping) -> dict:
    """Every tree's node fields in one array, child indices made global (cached per trees object)."""
    if (hit := _STACKED.get(id(trees))) is not None and hit[0] is trees:
        return hit[1]
    sizes = [len(t["value"]) for t in trees["trees"]]
    offset = np.cumsum([0, *sizes[:-1]])
    out = {f: np.concatenate([np.asarray(t[f]) for t in trees["trees"]]) for f in _NODE_FIELDS}
    for f in ("left", "right"):
        out[f] = out[f].astype(np.int64) + np.repeat(offset, sizes)
    out |= {"is_leaf": out["is_leaf"].astype(bool), "missing_go_to_left": out["missing_go_to_left"].astype(bool),
            "num_threshold": out["num_threshold"].astype(float), "value": out["value"].astype(float),
            "feature_idx": out["feature_idx"].astype(np.int64), "offset": offset}  # fmt: skip
    _STACKED[id(trees)] = (trees, out)  # keeps `trees` alive, so its id is not reused while cached
    return out


def realism_logits(trees: Mapping, routes: Sequence[Route], number: int) -> np.ndarray:
    """(N,) log real / generated of each candidate route for grade `number`."""
    return tree_logits(trees, route_features(routes, [number] * len(routes)))


def calibrate_realism_trees(
    module, splits: Mapping, *, seed: int = 0, rounds: int = 1, critic: str | None = None
) -> dict:
    """`routegen calibrate --realism-trees [R]`: fit them on the generator's training split (`splits`, as
    generation/splits.py rebuilds them; their validation AUC printed: how well they tell its routes from real
    ones it never saw), in `rounds` rounds, each after the first on the routes matched by the critic checkpoint
    `critic` (loaded only for them) with the trees so far; the caller sets them on the module, for the matching
    chosen next."""
    if not 1 <= rounds <= MAX_ROUNDS:
        raise RoutegenError(f"--realism-trees takes 1 .. {MAX_ROUNDS} rounds, not {rounds}")
    from routegen.grader.critic import Critic

    matcher = Critic.load(critic) if rounds > 1 else None  # what later rounds match with
    group = module.hparams[module.sampling_group]
    trees = fit_realism_trees(module, splits["train"], splits["val"], seed=seed)
    print(f"realism trees: {len(trees['trees'])} trees fitted on {trees['n_real']} real + {trees['n_generated']} "
          f"generated training routes; real vs generated AUC {trees['train_auc']:.3f} (training), "
          f"{trees['val_auc']:.3f} (validation, fresh routes)")  # fmt: skip
    for r in range(2, rounds + 1):
        # the next round matches with the trees so far, counting each request's candidates (the own profiles,
        # counted with earlier trees, no longer stand)
        group.update(realism_trees=trees, match_profiles=None)
        more = fit_realism_trees(module, splits["train"], splits["val"], seed=seed + r - 1, critic=matcher)
        trees = add_round(trees, more)
        print(f"realism trees, round {r}: {len(more['trees'])} more fitted on {more['n_real']} real + "
              f"{more['n_generated']} matched training routes (from {ROUND_MATCH} candidates each); real vs matched "
              f"AUC {more['train_auc']:.3f} (training), {more['val_auc']:.3f} (validation, fresh routes)")  # fmt: skip
    return trees
