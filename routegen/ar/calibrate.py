"""The AR transformer's guidance, chosen on the VALIDATION split by the fidelity yardstick (behind
`routegen calibrate --guidance auto`).

Guidance > 1 pushes each route towards what the model thinks most typical of the grade: the judge then grades
the routes like the *prototype* of the grade, not like real routes of it (docs/fidelity.md). So the choice is
made on the grade-aware two-sample AUC (generated vs real validation routes of the same grades) and, among the
guidances within noise of the lowest AUC, the lowest judged-grade W1.
"""

from __future__ import annotations

import math

GUIDANCES = (1.0, 1.5, 2.0)


def guidance_table(module, judge, grades, *, n: int, seed: int, split_seed: int, data_dir=None,
                   guidances=GUIDANCES) -> list[dict]:  # fmt: skip
    """Per guidance: the fidelity measures of `n` routes per grade against the validation routes, with the floor."""
    from routegen.board import load_board
    from routegen.generation.evaluate import evaluate_generators

    rows = []
    for g in guidances:
        report = evaluate_generators(
            [("model", module)], grades, critic=None, judge=judge, board=load_board(module.board), n=n, seed=seed,
            split_seed=split_seed, grader_seeds={}, reranks=[1], sampler={"guidance": g}, data_dir=data_dir,
            fidelity_only=True, split="val",
        )  # fmt: skip
        fid, floor = report["runs"][0]["fidelity"], report["yardstick"]["fidelity"]
        rows.append({"guidance": float(g), "auc": fid["auc"], "auc_std": fid["auc_std"], "w1": fid["w1_judged"],
                     "floor_auc": floor["auc"], "floor_w1": floor["w1_judged"]})  # fmt: skip
    return rows


def best_guidance(rows: list[dict]) -> float:
    """The lowest AUC wins; within one standard deviation of it, the lowest judged-grade W1 (then less guidance)."""
    lowest = min(r["auc"] for r in rows)
    close = [r for r in rows if r["auc"] <= lowest + max(r["auc_std"] for r in rows)]
    return min(close, key=lambda r: (r["w1"] if not math.isnan(r["w1"]) else math.inf, r["guidance"]))["guidance"]


def format_guidances(rows: list[dict]) -> str:
    lines = [f"{'guidance':>8} {'AUC':>7} {'± sd':>6} {'W1':>6}   (floor: AUC {rows[0]['floor_auc']:.3f}, "
             f"W1 {rows[0]['floor_w1']:.2f})"]  # fmt: skip
    lines += [f"{r['guidance']:>8.2f} {r['auc']:>7.3f} {r['auc_std']:>6.3f} {r['w1']:>6.2f}" for r in rows]
    return "\n".join(lines)


def calibrate(module, path, *, judge: str, guidance, grades, n: int, seed: int = 0, split_seed: int = 0,
              data_dir=None) -> dict:  # fmt: skip
    """`routegen calibrate --guidance` on an AR transformer: `guidance` ("auto" or G) judged by the grader
    checkpoint `judge`, its table printed; returns the hparams groups to write ({"sample": {"guidance": G}})."""
    from routegen.grader.critic import Critic

    guidances = GUIDANCES if guidance == "auto" else (guidance,)
    rows = guidance_table(module, Critic.load(judge), grades, n=n, seed=seed, split_seed=split_seed,
                          data_dir=data_dir, guidances=guidances)  # fmt: skip
    print(f"AR transformer {path}, validation split: grade-aware two-sample AUC and judged-grade W1 of {n} "
          "routes per grade (docs/fidelity.md)")  # fmt: skip
    print(format_guidances(rows))
    choice = best_guidance(rows)
    print(f"guidance {choice}" + (" (lowest AUC; W1 among those within noise)" if len(rows) > 1 else ""))
    return {"sample": {"guidance": choice}}
