"""The AR transformer's sampling defaults, chosen on the VALIDATION split by the fidelity yardstick (behind
`routegen calibrate --guidance auto --match auto`).

Guidance > 1 pushes each route towards what the model thinks most typical of the grade: the judge then grades
the routes like the *prototype* of the grade, not like real routes of it (docs/fidelity.md). Matching (K
candidates per route, one kept so that the critic grades the kept routes as it grades real routes of the grade:
generation/match.py) corrects where the model's routes of a grade are graded off as a whole. Each is chosen on
the grade-aware two-sample AUC (generated vs real validation routes of the same grades; under the floor counts
as the floor) and, among the settings within noise of the lowest AUC, the lowest judged-grade W1: guidance first (no matching), then
matching at that guidance.
"""

from __future__ import annotations

import math

GUIDANCES = (1.0, 1.5, 2.0)
MATCHES = (1, 4, 8)


def sampler_table(module, judge, critic, grades, *, n: int, seed: int, split_seed: int, data_dir=None,
                  settings=()) -> list[dict]:  # fmt: skip
    """Per sampler setting (a dict of guidance / match): the fidelity measures of `n` routes per grade against
    the validation routes, with the floor."""
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
    """The lowest AUC wins, an AUC under the real-vs-real floor counting as the floor (the test cannot tell real
    routes apart any better); within one standard deviation of it, the lowest judged-grade W1 (then the smaller
    `key`: less guidance, fewer candidates)."""
    auc = {id(r): max(r["auc"], r["floor_auc"]) for r in rows}
    lowest = min(auc.values())
    close = [r for r in rows if auc[id(r)] <= lowest + max(r["auc_std"] for r in rows)]
    return min(close, key=lambda r: (r["w1"] if not math.isnan(r["w1"]) else math.inf, r[key]))[key]


def format_settings(rows: list[dict], key: str) -> str:
    lines = [f"{key:>8} {'AUC':>7} {'± sd':>6} {'W1':>6}   (floor: AUC {rows[0]['floor_auc']:.3f}, "
             f"W1 {rows[0]['floor_w1']:.2f})"]  # fmt: skip
    lines += [f"{r[key]:>8g} {r['auc']:>7.3f} {r['auc_std']:>6.3f} {r['w1']:>6.2f}" for r in rows]
    return "\n".join(lines)


def calibrate(module, path, *, judge: str, critic: str | None, guidance=None, match=None, grades, n: int,
              seed: int = 0, split_seed: int = 0, data_dir=None) -> dict:  # fmt: skip
    """`routegen calibrate --guidance / --match` on an AR transformer: each given ("auto" or a value) judged by the
    grader checkpoint `judge` (matching by the calibrated grader `critic`), its table printed; returns the
    hparams groups to write ({"sample": {"guidance": G, "match": K}})."""
    from routegen.errors import RoutegenError
    from routegen.grader.critic import Critic

    the_judge, chosen = Critic.load(judge), {}
    print(f"AR transformer {path}, validation split: grade-aware two-sample AUC and judged-grade W1 of {n} "
          "routes per grade (docs/fidelity.md)")  # fmt: skip
    sweep = {"grades": grades, "n": n, "seed": seed, "split_seed": split_seed, "data_dir": data_dir}
    if guidance is not None:
        values = GUIDANCES if guidance == "auto" else (guidance,)
        rows = sampler_table(module, the_judge, None, settings=[{"guidance": float(g), "match": 1} for g in values],
                             **sweep)  # fmt: skip
        print(format_settings(rows, "guidance"))
        chosen["guidance"] = module.hparams.sample["guidance"] = best_setting(rows, "guidance")
        print(f"guidance {chosen['guidance']}" + (" (lowest AUC; W1 among those within noise)" if len(rows) > 1 else ""))
    if match is not None:
        the_critic = Critic.load(critic) if critic else None
        if the_critic is None or not the_critic.profiles:
            raise RoutegenError(f"--match needs a critic calibrated with `routegen calibrate` (grade profiles): {critic}")
        values = MATCHES if match == "auto" else (int(match),)
        rows = sampler_table(module, the_judge, the_critic, settings=[{"match": int(k)} for k in values], **sweep)
        print(format_settings(rows, "match"))
        chosen["match"] = module.hparams.sample["match"] = int(best_setting(rows, "match"))
        print(f"match {chosen['match']}" + (" (lowest AUC; W1 among those within noise)" if len(rows) > 1 else ""))
    return {"sample": chosen}
