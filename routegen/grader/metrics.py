"""Grading metrics (numpy / scikit-learn) on class indices of a LabelScale, with constant-prediction baselines.

For a Font-labelled model the V metrics score V = the V of the predicted Font grade (LabelScale.v_of_class);
its V probabilities (for calibration) are the Font probabilities summed per V grade.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

from routegen.data import LabelScale

METRICS = ("exact", "within1", "mae", "macro_f1", "qwk", "ece")
HIGHER_IS_BETTER = {"exact": True, "within1": True, "mae": False, "macro_f1": True, "qwk": True, "ece": False}


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: |accuracy - confidence| per equal-width confidence bin, weighted by the bin's share."""
    conf, pred = probs.max(1), probs.argmax(1)
    correct = (pred == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def grading_metrics(y: np.ndarray, pred: np.ndarray, probs: np.ndarray, num_classes: int) -> dict[str, float]:
    """Every metric of one prediction on one scale (class indices 0 .. num_classes - 1)."""
    y, pred = np.asarray(y), np.asarray(pred)
    if len(y) == 0:
        return {k: float("nan") for k in METRICS}
    labels = list(range(num_classes))
    err = np.abs(pred - y)
    same = len(set(y.tolist()) | set(pred.tolist())) == 1  # kappa is undefined for one class
    return {
        "exact": float((err == 0).mean()),
        "within1": float((err <= 1).mean()),
        "mae": float(err.mean()),
        "macro_f1": float(f1_score(y, pred, labels=sorted(set(y.tolist())), average="macro", zero_division=0)),
        "qwk": 1.0 if same else float(cohen_kappa_score(y, pred, labels=labels, weights="quadratic")),
        "ece": expected_calibration_error(probs, y),
    }


def v_view(scale: LabelScale, classes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Class indices and probabilities mapped onto the V scale (classes V3 .. V14 as 0 .. 11)."""
    v_scale = LabelScale("v")
    to_v = np.array([v_scale.v_grades.index(scale.v_of_class(i)) for i in range(scale.num_classes)])
    v_probs = np.zeros((len(probs), v_scale.num_classes))
    np.add.at(v_probs.T, to_v, probs.T)
    return to_v[np.asarray(classes, dtype=int)], v_probs, v_scale.num_classes


def evaluate_classes(
    scale: LabelScale, y: np.ndarray, pred: np.ndarray, probs: np.ndarray, train_y: np.ndarray
) -> dict[str, dict[str, float]]:
    """{row name: metrics} for the model and the constant baselines, on the model's scale (and V for Font).

    Baselines answer one class for every route: the most frequent and the median training class; their
    probabilities (for ECE) are the training class frequencies.
    """
    y, pred, probs, train_y = (np.asarray(a) for a in (y, pred, probs, train_y))
    C = scale.num_classes
    prior = np.bincount(train_y, minlength=C) / max(len(train_y), 1)
    prior_probs = np.tile(prior, (len(y), 1))
    rows = {
        "model": (pred, probs),
        "most frequent": (np.full_like(y, int(prior.argmax())), prior_probs),
        "median": (np.full_like(y, int(np.median(train_y)) if len(train_y) else 0), prior_probs),
    }
    out = {}
    for name, (p, pr) in rows.items():
        if scale.name == "font":
            out[f"font {name}"] = grading_metrics(y, p, pr, C)
        yv, prv, cv = v_view(scale, y, pr)
        pv, _, _ = v_view(scale, p, pr)
        out[f"v {name}"] = grading_metrics(yv, pv, prv, cv)
    return out


def flat_metrics(table: dict[str, dict[str, float]], prefix: str = "test") -> dict[str, float]:
    """`{prefix}/font_exact`, `{prefix}/v_mae`, ... for the model rows (for logging)."""
    out = {}
    for row, metrics in table.items():
        scale, who = row.split(" ", 1)
        if who == "model":
            out.update({f"{prefix}/{scale}_{k}": v for k, v in metrics.items()})
    return out


def format_table(table: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per (scale, predictor), one column per metric."""
    head = f"{'':24}" + "".join(f"{m:>10}" for m in METRICS)
    lines = [head]
    for row, metrics in table.items():
        cells = "".join(
            f"{metrics[m]:>10.3f}" if m in ("mae", "qwk", "ece") else f"{metrics[m]:>10.1%}" for m in METRICS
        )
        lines.append(f"{row:24}{cells}")
    return "\n".join(lines)


def confusion(y: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    return confusion_matrix(y, pred, labels=list(range(num_classes)))


def confusion_figure(cm: np.ndarray, names: list[str], title: str = ""):
    """A matplotlib figure of a confusion matrix (rows true, columns predicted), row-normalised colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(cm)):
        ax.text(
            j, i, str(cm[i, j]), ha="center", va="center", fontsize=6, color="black" if norm[i, j] < 0.6 else "white"
        )
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig
