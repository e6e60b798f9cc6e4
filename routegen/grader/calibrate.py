"""A trained grader's prediction rule, chosen on the VALIDATION split (behind `routegen calibrate`).

The rule is how a distribution becomes one grade (hparams predict.rule: argmax / group_argmax / median /
expected), after dividing by the training prior ** predict.prior_power. It changes no weights. "auto" tries
every candidate and keeps the lowest validation MAE on the grader's own label scale (the metric its
checkpoints are selected by), the higher exact accuracy breaking a tie.
"""

from __future__ import annotations

import math

import torch

from routegen.errors import RoutegenError

RULES = ("argmax", "group_argmax", "median", "expected")
POWERS = (0.0, 0.15, 0.3, 0.45)
SHOW = (("font", "exact"), ("font", "within1"), ("font", "mae"), ("font", "macro_f1"),
        ("v", "exact"), ("v", "within1"), ("v", "mae"), ("v", "macro_f1"))  # fmt: skip


def rule_table(module, probs: torch.Tensor, y: torch.Tensor, rules=RULES, powers=POWERS) -> list[dict]:
    """Per (rule, prior power): {"rule", "prior_power", "table"} (GraderModule.evaluate's metric table) of the
    class probabilities against the true classes. The module's own rule is restored afterwards."""
    old, rows = dict(module.hparams.predict), []
    try:
        for rule in rules:
            for power in powers:
                module.hparams.predict = {"rule": rule, "prior_power": float(power)}
                rows.append({"rule": rule, "prior_power": float(power), "table": module.evaluate(probs, y)})
    finally:
        module.hparams.predict = old
    return rows


def best_rule(rows: list[dict], scale: str) -> dict:
    """The row with the lowest MAE on the `scale` ("font" or "v") model row; higher exact accuracy breaks ties."""

    def key(row):
        m = row["table"][f"{scale} model"]
        return (math.inf if math.isnan(m["mae"]) else m["mae"], -m["exact"])

    return min(rows, key=key)


def format_rules(rows: list[dict]) -> str:
    names = [f"{s}_{m}" for s, m in SHOW]
    lines = ["rule         power " + " ".join(f"{n:>13}" for n in names)]
    for r in rows:
        t = r["table"]
        cells = " ".join(f"{t.get(f'{s} model', {}).get(m, math.nan):>13.3f}" for s, m in SHOW)
        lines.append(f"{r['rule']:12} {r['prior_power']:5.2f} {cells}")
    return "\n".join(lines)


def calibrate(module, path, *, rule: str = "auto", prior_power="auto", data_dir=None) -> dict:
    """`routegen calibrate` on a grader: `rule` (auto or one of RULES) and `prior_power` (auto or P) chosen
    by validation MAE, the table printed; returns the hparams groups to write ({"predict": ..., "profiles": ...}):
    the profiles are the grader's expected grade on the validation routes of each grade, what sampling with
    --match matches when the grader is a critic (generation/match.py)."""
    from routegen.generation.match import grade_profiles
    from routegen.grader.critic import Critic
    from routegen.grader.evaluate import grader_probs, split_data

    if rule not in ("auto", *RULES):
        raise RoutegenError(f"unknown --predict-rule {rule!r} (expected auto or one of {', '.join(RULES)})")
    rules = RULES if rule == "auto" else (rule,)
    powers = POWERS if prior_power == "auto" else (prior_power,)
    routes, labels = split_data(module, "val", data_dir)
    rows = rule_table(module, grader_probs(module, routes), torch.tensor(labels), rules, powers)
    print(f"grader {path} ({module.scale.name} labels), validation split: {len(routes)} routes")
    print(format_rules(rows))
    best = best_rule(rows, module.scale.name)
    m = best["table"][f"{module.scale.name} model"]
    print(f"rule {best['rule']}, prior power {best['prior_power']}: validation {module.scale.name} MAE {m['mae']:.3f}, "
          f"exact {m['exact']:.3f}" + (" (lowest MAE)" if len(rows) > 1 else ""))  # fmt: skip
    numbers = [module.scale.number_of_class(int(c)) for c in labels]
    profiles = grade_profiles([s.expected for s in Critic(module).score(routes)], numbers)
    print(f"grade profiles: its expected grade on the validation routes of {len(profiles['counts'])} grades")
    return {"predict": {"rule": best["rule"], "prior_power": best["prior_power"]}, "profiles": profiles}
