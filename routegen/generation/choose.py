"""Sampling defaults chosen on the VALIDATION split by the fidelity yardstick (behind `routegen calibrate
--guidance / --match`, for either generator).

Each setting (a dict of sampler options: guidance, match) samples `n` routes per grade and is measured against
the validation routes of the same grades: the grade-aware two-sample AUC (an AUC under the real-vs-real floor
counts as the floor: the test cannot tell two real samples apart any better) and the judged-grade W1
(docs/fidelity.md). The lowest AUC wins; among the settings within one standard deviation of it, the lowest W1,
and among W1s that differ by less than W1_TIE, the smaller setting (less guidance, fewer candidates).
"""

from __future__ import annotations

import math

MATCHES = (1, 4, 8, 16, 32)  # critic matching: candidates per route (generation/match.py)
# Judged-grade W1s closer than this print the same and are well inside the judge's own noise (two graders
# of one recipe disagree by a few hundredths on the same routes: docs/results.md), so they are a tie.
W1_TIE = 0.01


def sampler_table(module, judge, critic, grades, *, n: int, seed: int, split_seed: int, data_dir=None,
                  settings=()) -> list[dict]:  # fmt: skip
    """Per sampler setting: the fidelity measures of `n` routes per grade against the validation routes, with
    the floor."""
    from routegen.board import load_board
    from routegen.generation.evaluate import evaluate_generators

    rows = []
    for setting in settings:
        report = evaluate_generators(
            [("model", module)], grades, critic=critic, judge=judge, board=load_board(module.board), n=n, seed=seed,
            split_seed=split_seed, grader_seeds={}, reranks=[1], sampler=dict(setting), data_dir=data_dir,
            fidelity_only=True, split="val",
        )  # fmt: skip
        fid, floor = report["runs"][0]["fidelity"], report["yardstick"]["fidelity"]
        rows.append({**setting, "auc": fid["auc"], "auc_std": fid["auc_std"], "w1": fid["w1_judged"],
                     "floor_auc": floor["auc"], "floor_w1": floor["w1_judged"]})  # fmt: skip
    return rows


def best_setting(rows: list[dict], key: str):
    """The lowest AUC wins, an AUC under the real-vs-real floor counting as the floor; within one standard
    deviation of it, the lowest judged-grade W1; within W1_TIE of that, the smaller `key` (less guidance, fewer
    candidates: cheaper, for a difference under what the yardstick can tell)."""
    auc = {id(r): max(r["auc"], r["floor_auc"]) for r in rows}
    lowest = min(auc.values())
    close = [r for r in rows if auc[id(r)] <= lowest + max(r["auc_std"] for r in rows)]
    w1 = {id(r): math.inf if math.isnan(r["w1"]) else r["w1"] for r in close}
    least = min(w1.values())
    return min((r for r in close if w1[id(r)] <= least + W1_TIE), key=lambda r: r[key])[key]


def format_settings(rows: list[dict], key: str) -> str:
    lines = [f"{key:>8} {'AUC':>7} {'± sd':>6} {'W1':>6}   (floor: AUC {rows[0]['floor_auc']:.3f}, "
             f"W1 {rows[0]['floor_w1']:.2f})"]  # fmt: skip
    lines += [f"{r[key]:>8g} {r['auc']:>7.3f} {r['auc_std']:>6.3f} {r['w1']:>6.2f}" for r in rows]
    return "\n".join(lines)


def choose(module, key: str, values, judge, critic, **sweep) -> float:
    """Measure `values` of sampler option `key` (the module's other defaults in place), print the table,
    return the choice."""
    rows = sampler_table(module, judge, critic, settings=[{key: v} for v in values], **sweep)
    print(format_settings(rows, key))
    best = best_setting(rows, key)
    print(f"{key} {best:g}" + (" (lowest AUC; W1 among those within noise)" if len(rows) > 1 else ""))
    return best


def choose_match(module, match, judge, critic_path: str | None, **sweep) -> dict:
    """`--match auto|K`: record the generator's own profiles by the calibrated critic `critic_path`, with bin gains
    for each K to be tried and the studio's (generation/match.py), then choose (or set) the candidates per route
    for critic matching with them. Sets both on the module's sampling group and returns them ({"match_profiles":
    ..., "match": K})."""
    from routegen.errors import RoutegenError
    from routegen.generation.match import QUICK_MATCH, own_profiles
    from routegen.grader.critic import Critic

    critic = Critic.load(critic_path) if critic_path else None
    if critic is None or not critic.profiles:
        raise RoutegenError(f"--match needs a critic calibrated with `routegen calibrate` (grade profiles): {critic_path}")
    group = module.hparams[module.sampling_group]
    values = MATCHES if match == "auto" else (int(match),)
    ks = sorted({*values, QUICK_MATCH})
    group["match_profiles"] = own_profiles(module, critic, seed=sweep.get("seed", 0), ks=ks)
    group["match"] = int(choose(module, "match", values, judge, critic, **sweep))
    return {"match_profiles": group["match_profiles"], "match": group["match"]}
