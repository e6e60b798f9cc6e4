"""Post-training calibration of a cGAN (behind `routegen calibrate`); nothing here changes a weight.

- the move weight (hparams decode.move_weight): how much the grade's move shares count when prior decoding
  places middle holds (routegen/gan/prior.py). Chosen on the VALIDATION split: per weight, the grade-aware
  two-sample AUC of the fidelity yardstick (generation/fidelity.py) of one route per target (no selection)
  against the validation routes of the same grades, per sampling seed; the lowest mean wins.
- the hold weight (hparams decode.hold_weight): how much the grade's start, middle and end hold shares count
  when prior decoding draws holds (routegen/gan/prior.py). The shares are (re)counted here on the cGAN's own
  training split (rebuilt from the data settings it recorded, checked against the hold counts it kept) and
  written into its decode_prior. Chosen on the VALIDATION split: per weight, the two-sample AUC as for the move
  weight and the start / end hold spread (generation.metrics.hold_spread: the top hold's share and the
  effective number of holds, against the validation routes' own); among the weights whose AUC is within the
  seed-to-seed noise of the lowest, the one with the closest spread.
- the realism head (decode.realism_head) and the default number of candidates per route (decode.realism):
  DRS calibration of the discriminator (routegen/gan/select.py fit_realism_head), fitted on the training
  split, its accuracy then measured on the validation split. Fit it after the move weight is set: the head
  learns from decoded routes.
- the realism trees (decode.realism_trees, generation/realism.py): real vs decoded routes of the training split
  on route features; fitted after every decode setting, as they learn from the decoded routes.
- critic matching (decode.match): candidates per route that the sampling pipeline draws from in proportion to
  the critic-matching weight times the realism trees' (else the realism head's) ratio (generation/match.py),
  chosen on the validation split by the fidelity yardstick (generation/choose.py). Fit the trees or the head in
  the same call.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from routegen.errors import RoutegenError
from routegen.gan.prior import decode_counts
from routegen.gan.select import fit_realism_head, realism_scores
from routegen.generation.base import real_routes_by_grade, resolve_grade
from routegen.generation.metrics import hold_spread, matched_mix
from routegen.generation.sampling import sample_routes
from routegen.generation.splits import generator_splits
from routegen.route import Route, move_lengths

MOVE_WEIGHTS = (0.0, 0.15, 0.3, 0.6, 1.0)
HOLD_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
AUC_NOISE_FLOOR = 0.01  # the least AUC difference counted as real (with two seeds the seed spread can be ~0)
SPREAD_KEYS = ("start_top_share", "start_effective", "end_top_share", "end_effective")


def move_stats(routes: list[Route]) -> tuple[float, float, float]:
    """Means over routes of the per-route move-length mean, spread and maximum (cells)."""
    moves = [move_lengths(r) or [0.0] for r in routes]
    return tuple(float(np.mean([f(m) for m in moves])) if moves else math.nan for f in (np.mean, np.std, np.max))


def _weight_sweep(module, val_problems, grades, key: str, weights, seeds, n: int, default: float | None = None):
    """The shared loop of the weight tables: the validation routes of the trained grades (`real` per grade,
    `pooled`) and, per weight set as decode[key], per seed: one generated route per target, and the grade-aware
    two-sample AUC of the fidelity yardstick (generation/fidelity.py: the same routes per grade on both sides)
    against the validation routes. Returns (pooled, [(weight, aucs, generated per seed, mixed as the real
    ones)]); the module's own decode[key] is restored afterwards (a module without one: `default`, or a
    KeyError for None)."""
    from routegen.generation.fidelity import Fidelity

    grades = [g for g in grades if g.number in module.trained_grades]
    real = {g.font: [p.route for p in val_problems if p.grade == g] for g in grades}
    pooled = [r for g in grades for r in real[g.font]]
    if not pooled:
        raise RoutegenError("no validation routes of a grade the model was trained on: nothing to calibrate with")
    pools = {g.font: (g.number, real[g.font]) for g in grades}
    yardsticks = {seed: Fidelity(pools, None, None, n=n, seed=seed, importance=False) for seed in seeds}
    decode, sweep = module.hparams.decode, []
    old = decode[key] if default is None else decode.get(key, default)
    try:
        for w in weights:
            decode[key] = float(w)
            aucs, generated = [], []
            for seed in seeds:
                gen = {g.font: [s.route for s in sample_routes(module, g, n, keep_copies=True, realism=1,
                                                                seed=seed + 1000 * g.number)]
                       for g in grades}  # fmt: skip
                generated.append(matched_mix(real, gen))
                aucs.append(yardsticks[seed].measure(gen)["auc"])
            sweep.append((float(w), aucs, generated))
    finally:
        decode[key] = old
    return pooled, sweep


def move_weight_table(module, val_problems, grades, *, weights=MOVE_WEIGHTS, seeds=(0, 1), n: int = 200) -> dict:
    """{"real": move stats of the validation routes, "n_real", "rows": per weight {"weight", "aucs" (per seed),
    "auc", "moves" (of the last seed's generated routes)}}. The module's own move weight is restored afterwards."""
    pooled, sweep = _weight_sweep(module, val_problems, grades, "move_weight", weights, seeds, n)
    rows = [{"weight": w, "aucs": aucs, "auc": float(np.mean(aucs)), "moves": move_stats(gen[-1] if gen else [])}
            for w, aucs, gen in sweep]  # fmt: skip
    return {"real": move_stats(pooled), "n_real": len(pooled), "rows": rows}


def hold_shares(module, train_problems) -> dict:
    """{"start_counts", "end_counts"} of the training split (gan/prior.py data_prior), after checking that the
    split is the one the cGAN was trained with: its hold counts per grade must equal the ones it recorded."""
    counts = decode_counts(train_problems, module.scale)
    saved = module.hparams.decode_prior
    if not saved:
        raise RoutegenError("this cGAN has no decode prior (training-split counts): nothing to add hold shares to")
    if counts["hold_counts"] != list(map(list, saved["hold_counts"])):
        raise RoutegenError("the training split rebuilt from the data settings has other routes than the one this "
                            "cGAN recorded (hold counts differ): give the --data-dir / --split-seed it was trained with")  # fmt: skip
    return {k: counts[k] for k in ("start_counts", "middle_counts", "end_counts")}


def set_hold_shares(module, shares: dict) -> None:
    """Put start / end counts into the module's decode prior (in memory); the priors are rebuilt on next use."""
    module.hparams.decode_prior.update(shares)
    if module.priors is not None:
        module.priors.reset()


def hold_weight_table(module, val_problems, grades, *, weights=HOLD_WEIGHTS, seeds=(0, 1), n: int = 200) -> dict:
    """{"real": hold_spread of the validation routes, "n_real", "rows": per weight {"weight", "aucs" (per seed),
    "auc", "spread" (hold_spread of both seeds' generated routes, mixed as the real ones), "gap"}}. `gap`: the
    mean |log(generated / real)| over the start and end top share and effective number (0 = the same spread).
    The module's own hold weight is restored afterwards."""
    pooled, sweep = _weight_sweep(module, val_problems, grades, "hold_weight", weights, seeds, n, default=0.0)
    real_spread, rows = hold_spread(pooled), []
    for w, aucs, gen in sweep:
        spread = hold_spread([r for routes in gen for r in routes])
        gap = float(np.mean([abs(math.log(spread[k] / real_spread[k])) for k in SPREAD_KEYS]))
        rows.append({"weight": w, "aucs": aucs, "auc": float(np.mean(aucs)), "spread": spread, "gap": gap})
    return {"real": real_spread, "n_real": len(pooled), "rows": rows}


def auc_noise(table: dict) -> float:
    """The seed-to-seed noise of the AUCs: mean over weights of the spread of their per-seed AUCs (at least
    AUC_NOISE_FLOOR)."""
    ranges = [max(r["aucs"]) - min(r["aucs"]) for r in table["rows"] if not any(math.isnan(a) for a in r["aucs"])]
    return max(AUC_NOISE_FLOOR, float(np.mean(ranges)) if ranges else 0.0)


def best_hold_weight(table: dict) -> float:
    """Among the weights whose mean AUC is at most the lowest mean AUC plus the noise (auc_noise), the one whose
    spread is closest to the real routes' (smallest gap; the first on a tie)."""
    rows = table["rows"]
    lowest = min((r["auc"] for r in rows if not math.isnan(r["auc"])), default=math.nan)
    ok = [r for r in rows if math.isnan(lowest) or r["auc"] <= lowest + auc_noise(table)] or rows
    return min(ok, key=lambda r: r["gap"])["weight"]


def format_hold_weights(table: dict) -> str:
    seeds = len(table["rows"][0]["aucs"]) if table["rows"] else 0
    aucs = " ".join(f"auc_s{i:<3}" for i in range(seeds))
    head = f"weight {aucs} auc_mean  start_top share  eff    end_top share  eff    gap"

    def spread(s: dict) -> str:
        return (f"{s['start_top']:>9} {s['start_top_share']:5.3f} {s['start_effective']:5.2f} "
                f"{s['end_top']:>8} {s['end_top_share']:5.3f} {s['end_effective']:5.2f}")  # fmt: skip

    lines = [head, "real   " + " " * 9 * (seeds + 1) + spread(table["real"])]
    for r in table["rows"]:
        lines.append(f"{r['weight']:<6} " + " ".join(f"{a:8.3f}" for a in r["aucs"]) + f" {r['auc']:8.3f} "
                     + spread(r["spread"]) + f" {r['gap']:6.3f}")  # fmt: skip
    lines.append(f"(AUC noise {auc_noise(table):.3f}: the weights within it of the lowest AUC are compared on spread)")
    return "\n".join(lines)


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
    hits, total = 0, 0
    for number, real in real_routes_by_grade(module, problems).items():
        c = resolve_grade(module, number)
        fake = module.generate([number] * len(real), seed=seed + number, realism=1)
        y = torch.full((len(real),), c, device=module.device)
        hits += int((realism_scores(module.discriminator, real, y, head) > 0).sum())
        hits += int((realism_scores(module.discriminator, fake, y, head) <= 0).sum())
        total += 2 * len(real)
    return hits / total if total else math.nan


def calibrate(module, path, *, grades, placement=None, max_gap=None, guidance=None, move_weight=None, hold_weight=None,
              realism=None, realism_trees=0, match=None, judge=None, critic=None, n: int = 200, seed: int = 0, split_seed: int = 0,
              data_dir=None) -> dict:  # fmt: skip
    """`routegen calibrate` on a cGAN: placement ("greedy" or "chain") and max_gap (rows), set first, each of
    move_weight / hold_weight ("auto" or a weight), the chain's move corrections (refitted when the placement is
    chain and any of those is given), realism (K) and match ("auto" or K: critic matching weighted by the realism head,
    judged by the grader checkpoint `judge`, matched by the calibrated grader `critic`: generation/choose.py)
    that is given, in that order, its table printed (realism_trees: rounds of realism trees, 0 = none); returns
    the hparams groups to write ({"decode": ...}, and "decode_prior" with the hold weight)."""
    splits = generator_splits(path, module, data_dir, split_seed)
    decode, values = {}, {}

    def choose(name: str, given, candidates, table_fn, describe, show, best, why: str) -> None:
        """Print a decode weight's validation table and set the choice on the module (the next step, e.g. the
        realism head, learns from routes decoded with it)."""
        table = table_fn(module, splits["val"], grades, weights=candidates if given == "auto" else (given,),
                         seeds=(seed, seed + 1), n=n)  # fmt: skip
        print(describe(table))
        print(show(table))
        decode[name] = module.hparams.decode[name] = best(table)
        print(f"{name.replace('_', ' ')} {decode[name]}" + (f" ({why})" if given == "auto" else ""))

    if placement is not None:  # set first: the weights are chosen with it in place
        decode["placement"] = module.hparams.decode["placement"] = placement
        print(f"placement {placement}")
    if max_gap is not None:  # likewise
        decode["max_gap"] = module.hparams.decode["max_gap"] = int(max_gap)
        print(f"max gap {int(max_gap)} rows")
    if guidance is not None:  # likewise: the realism trees learn from routes drawn with it
        module.generator.check_guidance(float(guidance))
        decode["guidance"] = module.hparams.decode["guidance"] = float(guidance)
        print(f"guidance {float(guidance)}")
    decoding_changes = (placement, max_gap, move_weight, hold_weight) != (None,) * 4
    refit_chain = module.hparams.decode.get("placement") == "chain" and decoding_changes
    if refit_chain:  # the weights are chosen on the plain chain; its move corrections are fitted after them
        decode["chain_delta"] = module.hparams.decode["chain_delta"] = None
    if hold_weight is not None:  # counted first: the move weight is then chosen with them in place
        values["decode_prior"] = shares = hold_shares(module, splits["train"])
        set_hold_shares(module, shares)
    if move_weight is not None:
        choose("move_weight", move_weight, MOVE_WEIGHTS, move_weight_table,
               lambda t: f"cGAN {path}, validation split (seed {split_seed}): {t['n_real']} real routes; {n} generated "
               "per grade and seed, one per target (realism 1); grade-aware two-sample AUC (0.5 = can't tell)",
               format_move_weights, best_move_weight, "lowest mean AUC")  # fmt: skip
    if hold_weight is not None:
        choose("hold_weight", hold_weight, HOLD_WEIGHTS, hold_weight_table,
               lambda t: f"cGAN {path}, validation split: {t['n_real']} real routes; {n} generated per grade and seed "
               "(realism 1); grade-aware two-sample AUC; start / end hold spread (top hold, its share, effective number) "
               "vs the real routes'",
               format_hold_weights, best_hold_weight, "closest spread, AUC within noise of the lowest weight")  # fmt: skip
    if refit_chain:
        from routegen.gan import chain_fit

        routes = chain_fit.ROUTES  # read here, not bound at import: a test sets fewer
        delta, tv = chain_fit.fit_chain_delta(module, splits["train"], seed=seed, n=routes)  # corrects the weights'
        decode["chain_delta"] = delta
        print(f"chain moves fitted to the training routes' ({chain_fit.ROUNDS} rounds of {routes} routes per "
              "grade); move, offset and turn shares' distance to theirs, first round -> last: "
              + ", ".join(f"{k} {a:.3f} -> {b:.3f}" for k, a, b in zip(chain_fit.FITTED, tv[0], tv[-1])))  # fmt: skip
    if realism is not None:
        head, val_accuracy = fit_head(module, splits["train"], splits["val"], seed=seed)
        print(f"realism head: fitted on {head['n_real']} real + {head['n_fake']} decoded training routes "
              f"(accuracy {head['train_accuracy']:.3f}); validation accuracy {val_accuracy:.3f}; default K {realism}")  # fmt: skip
        decode |= {"realism": realism, "realism_head": head}
        module.hparams.decode.update(realism=realism, realism_head=head)  # what matching weighs with, next
    if realism_trees:  # after every decode setting: they learn from the routes decoded with them
        from routegen.generation.realism import calibrate_realism_trees

        decode["realism_trees"] = module.hparams.decode["realism_trees"] = calibrate_realism_trees(
            module, splits, seed=seed, rounds=int(realism_trees), critic=critic
        )
    if match is not None:
        from routegen.generation.choose import choose_match
        from routegen.grader.critic import Critic

        by = "realism trees" if module.realism_trees else "realism head"
        print(f"cGAN {path}, validation split: critic matching, each candidate also weighted by the {by}")
        sweep = {"grades": grades, "n": n, "seed": seed, "split_seed": split_seed, "data_dir": data_dir}
        decode |= choose_match(module, match, Critic.load(judge), critic, **sweep)
    return {"decode": decode} | values
