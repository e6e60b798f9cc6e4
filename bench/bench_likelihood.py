"""How typical a density model finds a generator's routes, per grade, beside real routes it never trained on.

A density model's view, beside the fidelity yardstick (docs/fidelity.md). The yardstick's classifier sees route
features one at a time and in a few summaries; a density model asks whether a route's holds are ones that real
routes use together. Two kinds score routes (`--scorer`, repeatable):
- an AR transformer: log p(route | grade) per predicted token (each hold and the end), by the chain rule
  (ARTransformerModule.log_likelihood);
- a cGAN generator trained with the completion term (e.g. `python train.py experiment=cgan_completion`): the
  leave-one-out pseudo-log-likelihood, per hold, of where the held-out hold is given the others
  (routegen/gan/likelihood.py).
Per grade: the mean score of the real routes of the split and of each generator's routes (its sampling
defaults, matched by the critic), and the AUC of that one number telling real from generated (0.5: as typical as
real routes; higher: less typical). The last column pools the grades, each AUC weighted by its real routes.

A generator scored by itself or by a model of its own family is favoured by construction (its samples are what
the model finds likely): read such a row as a reference. The real training routes show how much more typical
the scorer finds routes it trained on.

    .venv/bin/python bench/bench_likelihood.py                  # shipped 2016 AR and cGAN under the shipped AR
    .venv/bin/python bench/bench_likelihood.py --scorer runs/cgan_completion -n 150   # under a completion model
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.gan.likelihood import pseudo_log_likelihood
from routegen.generation.evaluate import held_out, sample_grades
from routegen.grader.critic import Critic
from routegen.shipped import card_path

GRADES = "6B+,6C,6C+,7A,7A+,7B,7B+,7C,7C+"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", action="append", help="generator (repeatable; default: the shipped 2016 AR and cGAN)")
    p.add_argument("--scorer", action="append", help="density model: an AR transformer or a completion-trained "
                   "cGAN (repeatable; default: the shipped 2016 AR)")  # fmt: skip
    p.add_argument("--critic", default=str(card_path("2016", "critic")), help="critic for matching")
    p.add_argument("--split", default="val", choices=["val", "test"], help="real routes (default val)")
    p.add_argument("--grades", default=GRADES)
    p.add_argument("-n", type=int, default=300, help="generated routes per grade (default 300)")
    p.add_argument("--train-n", type=int, default=300, help="real training routes per grade, drawn at random "
                   "(default 300; 0: none)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    scorers = {
        str(path): load_module(path, ("ar_transformer", "cgan")) for path in args.scorer or [card_path("2016", "ar")]
    }
    for path, model in scorers.items():  # every scorer checked before any sampling
        if model.kind == "cgan" and not model.hparams.loss.get("completion_weight", 0) > 0:
            p.error(f"--scorer {path}: a cGAN scores routes only when trained with the completion term")
    critic, grades = Critic.load(args.critic), grade_list(args.grades)
    by = held_out(load_problems(args.data_dir), grades, seed=0)
    routes = {f"real {args.split}": {g.font: by[args.split][g.font] for g in grades}}
    if args.train_n:
        rng, train = np.random.default_rng(args.seed), {g.font: by["train"][g.font] for g in grades}
        routes["real train (seen)"] = {  # a seeded random subset of each grade's training routes
            font: [rs[i] for i in rng.permutation(len(rs))[: args.train_n]] for font, rs in train.items()
        }
    for ckpt in args.ckpt or [str(card_path("2016", "ar")), str(card_path("2016", "cgan"))]:
        routes[os.path.relpath(ckpt)] = sample_grades(load_module(ckpt), grades, args.n, rerank=1, critic=critic,
                                                      seed=args.seed, fixed=None, sampler={})  # fmt: skip
    for path, model in scorers.items():
        table(model, os.path.relpath(path), routes, grades, args.split)


def score(model, routes, number: int) -> np.ndarray:
    """Per route: the AR's log-likelihood per token, or a cGAN's pseudo-log-likelihood per hold; a route the
    AR's tokenizer cannot take (over its hold cap) is left out."""
    if model.kind == "cgan":
        return pseudo_log_likelihood(model, routes, [number] * len(routes)).numpy()
    ll = model.log_likelihood(routes, [number] * len(routes)).numpy()
    return ll[~np.isnan(ll)]


def table(model, name: str, routes: dict, grades, split: str) -> None:
    scores = {row: {g.font: score(model, rs[g.font], g.number) for g in grades} for row, rs in routes.items()}
    ref = scores[f"real {split}"]
    weights = np.array([len(ref[g.font]) for g in grades], dtype=float)
    print(f"\nscored by {name} (nats; higher: more typical), and the AUC of real {split} vs generated by that "
          "score (0.5: as typical as real routes); real rows: mean and count")  # fmt: skip
    print(f"{'routes':<44}" + "".join(f"{g.font:>13}" for g in grades) + f"{'pooled':>9}")
    for row, ll in scores.items():
        generated, cells, aucs = not row.startswith("real "), [], []
        for g in grades:
            mine = ll[g.font]
            if generated:
                y = np.r_[np.ones(len(ref[g.font])), np.zeros(len(mine))]
                aucs.append(roc_auc_score(y, np.r_[ref[g.font], mine]))
                cells.append(f"{mine.mean():>7.2f} {aucs[-1]:>5.2f}")
            else:  # real routes: their mean and how many
                cells.append(f"{mine.mean():>7.2f} {len(mine):>5d}")
        pooled = f"{np.average(aucs, weights=weights):>9.3f}" if generated else ""
        print(f"{row:<44}" + "".join(f"{c:>13}" for c in cells) + pooled)


if __name__ == "__main__":
    main()
