"""Pick a trained grader's prediction rule on the VALIDATION split (never test), optionally write it back.

    python bench/tune_predict_rule.py RUN_DIR                      # table of val metrics per rule
    python bench/tune_predict_rule.py RUN_DIR --set median 0.25    # store predict=median, prior_power=0.25

The rule is how a distribution becomes one grade: argmax / median / expected, after dividing by the training
prior ** prior_power. It changes no weights; --set rewrites hparams in the run's checkpoints (atomically).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams  # noqa: E402
from routegen.commands.evaluate import grader_probs, split_data  # noqa: E402

RULES = ("argmax", "group_argmax", "median")
POWERS = (0.0, 0.15, 0.3, 0.45)
SHOW = (("font", "exact"), ("font", "within1"), ("font", "mae"), ("v", "exact"), ("v", "within1"), ("v", "mae"),
        ("v", "macro_f1"), ("font", "macro_f1"))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run")
    p.add_argument("--set", nargs=2, metavar=("RULE", "POWER"))
    args = p.parse_args()
    if args.set:
        return write_rule(Path(args.run), args.set[0], float(args.set[1]))
    module = load_module(args.run, expect="grader")
    routes, labels = split_data(module, "val", None)
    probs = grader_probs(module, routes)
    y = torch.tensor(labels)
    print("rule      power " + " ".join(f"{s}_{m:>8}" for s, m in SHOW))
    for rule in RULES:
        for power in POWERS:
            module.hparams.predict, module.hparams.prior_power = rule, power
            table = module.evaluate(probs, y)
            cells = " ".join(f"{table.get(f'{s} model', {}).get(m, float('nan')):>{len(s) + 9}.3f}" for s, m in SHOW)
            print(f"{rule:9} {power:5.2f} {cells}")


def write_rule(run: Path, rule: str, power: float) -> None:
    paths = {resolve_checkpoint(run, prefer=name) for name in ("best", "last")}
    for path in paths:
        write_hparams(path, predict=rule, prior_power=power)
        print(f"{path}: predict={rule} prior_power={power}")


if __name__ == "__main__":
    main()
