"""The AR transformer's sampling defaults, chosen on the VALIDATION split by the fidelity yardstick (behind
`routegen calibrate --guidance auto --match auto`; the rule: generation/choose.py).

Guidance > 1 pushes each route towards what the model thinks most typical of the grade: the judge then grades
the routes like the *prototype* of the grade, not like real routes of it (docs/fidelity.md). Matching (K
candidates per route, one kept so that the critic grades the kept routes as it grades real routes of the grade:
generation/match.py) corrects where the model's routes of a grade are graded off as a whole. Guidance is
chosen first (without matching), then the realism trees are fitted at that guidance (generation/realism.py:
their real / generated ratio weights each candidate too), then matching.
"""

from __future__ import annotations

from routegen.generation.choose import choose, choose_match

GUIDANCES = (1.0, 1.5, 2.0)


def calibrate(module, path, *, judge: str, critic: str | None, guidance=None, realism_trees: int = 0,
              match=None, grades, n: int, seed: int = 0, split_seed: int = 0, data_dir=None) -> dict:  # fmt: skip
    """`routegen calibrate --guidance / --realism-trees / --match` on an AR transformer, in that order: guidance
    and match ("auto" or a value) judged by the grader checkpoint `judge` (matching by the calibrated grader
    `critic`), their tables printed; the realism trees fitted on the training split at the chosen guidance
    (`realism_trees` rounds, 0 = none); returns the hparams groups to write ({"sample": {"guidance": G,
    "realism_trees": ..., "match": K}})."""
    from routegen.grader.critic import Critic

    the_judge, chosen = Critic.load(judge), {}
    print(f"AR transformer {path}, validation split: grade-aware two-sample AUC and judged-grade W1 of {n} "
          "routes per grade (docs/fidelity.md)")  # fmt: skip
    sweep = {"grades": grades, "n": n, "seed": seed, "split_seed": split_seed, "data_dir": data_dir}
    if guidance is not None:
        values = GUIDANCES if guidance == "auto" else (guidance,)
        chosen["guidance"] = module.hparams.sample["guidance"] = float(
            choose(module, "guidance", [float(g) for g in values], the_judge, None, **sweep)  # no critic: unmatched
        )
    if realism_trees:
        from routegen.generation.realism import calibrate_realism_trees
        from routegen.generation.splits import generator_splits

        splits = generator_splits(path, module, data_dir, split_seed)
        chosen["realism_trees"] = module.hparams.sample["realism_trees"] = calibrate_realism_trees(
            module, splits, seed=seed, rounds=int(realism_trees), critic=critic
        )
    if match is not None:
        chosen |= choose_match(module, match, the_judge, critic, **sweep)
    return {"sample": chosen}
