"""Post-training calibration of a cGAN (behind `routegen calibrate`); nothing here changes a weight.

- the move weight (hparams decode.move_weight): how much the grade's move shares count when prior decoding
  places middle holds (routegen/gan/prior.py). Chosen on the VALIDATION split: per weight, the real-vs-
  generated AUC (generation.metrics.real_vs_generated_auc, the evaluator's classifier) of one route per
  target (no selection) against the validation routes of the same grades, per sampling seed; the lowest
  mean wins.
- the realism head (decode.realism_head) and the default number of candidates per route (decode.realism):
  DRS calibration of the discriminator (routegen/gan/select.py fit_realism_head), fitted on the training
  split, its accuracy then measured on the validation split. Fit it after the move weight is set: the head
  learns from decoded routes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from routegen.errors import RoutegenError
from routegen.gan.select import fit_realism_head, realism_scores
from routegen.generation.metrics import matched_mix, real_vs_generated_auc
from routegen.generation.sampling import sample_routes
from routegen.route import Route, move_lengths

MOVE_WEIGHTS = (0.0, 0.15, 0.3, 0.6, 1.0)


def move_stats(routes: list[Route]) -> tuple[float, float, float]:
    """Means over routes of the per-route move-length mean, spread and maximum (cells)."""
    moves = [move_lengths(r) or [0.0] for r in routes]
    return tuple(float(np.mean([f(m) for m in moves])) if moves else math.nan for f in (np.mean, np.std, np.max))


def move_weight_table(module, val_problems, grades, *, weights=MOVE_WEIGHTS, seeds=(0, 1), n: int = 200) -> dict:
    """{"real": move stats of the validation routes, "n_real", "rows": per weight {"weight", "aucs" (per seed),
    "auc", "moves"}}. The module's own move weight is restored afterwards."""
    grades = [g for g in grades if g.number in module.trained_grades]
    real = {g.font: [p.route for p in val_problems if p.grade == g] for g in grades}
    pooled = [r for g in grades for r in real[g.font]]
    if not pooled:
        raise RoutegenError("no validation routes of a grade the model was trained on: nothing to calibrate with")
    decode, rows = module.hparams.decode, []
    old = decode["move_weight"]
    try:
        for w in weights:
            decode["move_weight"] = float(w)
            aucs, generated = [], []
            for seed in seeds:
                gen = {g.font: [s.route for s in sample_routes(module, g, n, keep_copies=True, realism=1,
                                                                seed=seed + 1000 * g.number)]
                       for g in grades}  # fmt: skip
                generated = matched_mix(real, gen)
                aucs.append(real_vs_generated_auc(pooled, generated, seed=seed))
            rows.append({"weight": float(w), "aucs": aucs, "auc": float(np.mean(aucs)), "moves": move_stats(generated)})
    finally:
        decode["move_weight"] = old
    return {"real": move_stats(pooled), "n_real": len(pooled), "rows": rows}


def best_move_weight(table: dict) -> float:
    """The weight with the lowest mean AUC (NaN rows last; the first on a tie)."""
    return min(table["rows"], key=lambda r: math.inf if math.isnan(r["auc"]) else r["auc"])["weight"]


def format_move_weights(table: dict) -> str:
    seeds = len(table["rows"][0]["aucs"]) if table["rows"] else 0
    lines = ["weight " + " ".join(f"auc_s{i:<3}" for i in range(seeds)) + " auc_mean move_mean move_std move_max"]
    lines.append("real   " + " " * 9 * (seeds + 1) + " ".join(f"{x:8.3f}" for x in table["real"]))
    for r in table["rows"]:
        stats = " ".join(f"{x:8.3f}" for x in r["moves"])
        lines.append(f"{r['weight']:<6} " + " ".join(f"{a:8.3f}" for a in r["aucs"]) + f" {r['auc']:8.3f} {stats}")
    return "\n".join(lines)


def fit_head(module, train_problems, val_problems, seed: int = 0) -> tuple[dict, float]:
    """The realism head fitted on the training split, and its accuracy on the validation split (real routes
    vs as many decoded ones of the same grades, decoded with another seed than the fit's)."""
    head = fit_realism_head(module, train_problems, seed=seed)
    return head, head_accuracy(module, head, val_problems, seed=seed + 1)


def head_accuracy(module, head: dict, problems, seed: int) -> float:
    """Share of real routes of `problems` and decoded routes (realism=1, as many per grade) the head tells apart
    (logit > 0: real); only grades the model was trained on; NaN without such routes."""
    by_class: dict[int, list[Route]] = {}
    for p in problems:
        c = module.scale.class_of(p.grade, p.grade_v)
        if c is not None and module.scale.number_of_class(c) in module.trained_grades:
            by_class.setdefault(c, []).append(p.route)
    hits, total = 0, 0
    for c, real in sorted(by_class.items()):
        number = module.scale.number_of_class(c)
        fake = module.generate([number] * len(real), seed=seed + number, realism=1)
        y = torch.full((len(real),), c, device=module.device)
        hits += int((realism_scores(module.discriminator, real, y, head) > 0).sum())
        hits += int((realism_scores(module.discriminator, fake, y, head) <= 0).sum())
        total += 2 * len(real)
    return hits / total if total else math.nan
