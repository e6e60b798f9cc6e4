"""Do the 5,971 V-only problems help a Font grader? Validation metrics of graders trained with and without them.

    python train.py experiment=critic
    python train.py experiment=critic data.include_v_only=true hydra.run.dir=runs/critic_v_only
    python bench/bench_v_only_labels.py runs/critic runs/critic_v_only

A V-only problem is trained on its grade range (V5 = 6C or 6C+, routegen/grader/losses.py), so a grader that saw them
learned a prior with more 6C/6C+/7B/7B+ than the Font-graded problems it is scored on. `shift` 1 multiplies its
probabilities by graded prior / training prior (label-shift correction) before the usual prediction rule
(argmax after dividing by the graded prior ** tau). VALIDATION split only: the choice must not see test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routegen.checkpoints import load_module  # noqa: E402
from routegen.datamodule import MoonBoardDataModule  # noqa: E402
from routegen.grader.evaluate import grader_probs, split_data  # noqa: E402
from routegen.grader.losses import predict_class  # noqa: E402
from routegen.grader.metrics import evaluate_classes  # noqa: E402

TAUS = (0.0, 0.15, 0.3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="grader run dirs (Font labels)")
    args = p.parse_args()
    graded = None
    print(f"{'run':28} shift  tau  font_exact font_within1 font_mae  v_exact v_within1  v_mae v_macro_f1")
    for run in args.runs:
        module = load_module(run, expect="grader")
        if graded is None:  # the prior of the Font-graded training problems (the same split for every run)
            hp = module.data_hparams
            dm = MoonBoardDataModule(hp.get("dir"), hp["board"], hp["angle"], "font", False, hp["seed"],
                                     hp["val_fraction"], hp["test_fraction"])  # fmt: skip
            graded = dm.class_counts / dm.class_counts.sum()
        routes, labels = split_data(module, "val", None)
        probs = grader_probs(module, routes)
        trained = module.prior
        shifts = (0, 1) if module.data_hparams.get("include_v_only") else (0,)
        for shift in shifts:
            p = probs * torch.where(trained > 0, graded / trained, 1.0) if shift else probs
            p = p / p.sum(-1, keepdim=True)
            for tau in TAUS:
                pred = predict_class(p, "argmax", graded, tau)
                table = evaluate_classes(module.scale, np.array(labels), pred.numpy(), p.numpy(), np.array([0]))
                f, v = table["font model"], table["v model"]
                print(f"{Path(run).name[:28]:28} {shift:5} {tau:4.2f} {f['exact']:10.1%} {f['within1']:12.1%} "
                      f"{f['mae']:8.3f} {v['exact']:8.1%} {v['within1']:9.1%} {v['mae']:6.3f} {v['macro_f1']:10.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
