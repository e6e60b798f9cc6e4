"""Choose the cGAN decoder's move weight on the VALIDATION split (never test); optionally write it back.

    OMP_NUM_THREADS=1 .venv/bin/python bench/cgan_move_weight.py runs/cgan          # table: val AUC per weight
    .venv/bin/python bench/cgan_move_weight.py runs/cgan --set 0.3                  # store move_weight=0.3

With the grade's move shares (routegen/gan/prior.py), prior decoding places each middle hold where the generator
likes it AND the moves it makes (rows up, columns across) are common in real routes of the grade; the weight
says how much the second counts. Per weight: the real-vs-generated AUC (gen_metrics.real_vs_generated_auc, the
evaluator's classifier) of one route per target (no discriminator selection) against the validation routes
of the same grades, per sampling seed and their mean, and the move statistics the classifier sees.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams  # noqa: E402
from routegen.commands.evaluate_generator import DEFAULT_GRADES  # noqa: E402
from routegen.data import load_problems, split_problems  # noqa: E402
from routegen.generation.metrics import matched_mix, move_lengths, real_vs_generated_auc  # noqa: E402
from routegen.generation.sampling import sample_routes  # noqa: E402
from routegen.grades import parse_grade  # noqa: E402


def move_stats(routes) -> tuple[float, float, float]:
    """Means over routes of the per-route move-length mean, spread and maximum."""
    moves = [move_lengths(r) or [0.0] for r in routes]
    return tuple(float(np.mean([f(m) for m in moves])) for f in (np.mean, np.std, np.max))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt", help="cGAN run directory or checkpoint")
    ap.add_argument("--weights", default="0,0.15,0.3,0.6,1", help="move weights to compare (comma-separated)")
    ap.add_argument("--seeds", default="0,1", help="sampling / classifier seeds (comma-separated)")
    ap.add_argument("-n", type=int, default=200, help="routes per grade (default 200)")
    ap.add_argument("--grades", default=DEFAULT_GRADES)
    ap.add_argument("--split-seed", type=int, default=0, help="the split seed the GAN was trained with")
    ap.add_argument("--set", type=float, metavar="W", help="write move_weight=W into the checkpoint and stop")
    args = ap.parse_args()
    path = resolve_checkpoint(args.ckpt)
    if args.set is not None:
        write_hparams(path, move_weight=args.set)
        return print(f"{path}: move_weight={args.set}")
    m = load_module(path, expect="cgan")
    splits = split_problems(load_problems(board=m.board, angle=m.angle, label=m.scale.name), m.scale.name,
                            args.split_seed)  # fmt: skip
    if not (m.hparams.get("decode_prior") or {}).get("move_counts"):  # trained before move shares existed
        m.set_decode_prior(splits["train"])
        print("(this checkpoint has no move shares: taken from the training split; bench/cgan_add_prior.py adds them)")
    grades = [parse_grade(g) for g in args.grades.split(",")]
    real = {g.font: [p.route for p in splits["val"] if p.grade == g] for g in grades}
    pooled_real = [r for g in grades for r in real[g.font]]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"val routes: {len(pooled_real)}; {args.n} generated per grade, one per target (realism 1)")
    print("weight " + " ".join(f"auc_s{s:<3}" for s in seeds) + " auc_mean move_mean move_std move_max")
    print("real   " + " ".join(" " * 8 for _ in seeds) + "         " + " ".join(
        f"{x:8.3f}" for x in move_stats(pooled_real)))  # fmt: skip
    for w in (float(x) for x in args.weights.split(",")):
        m.hparams.move_weight = w
        aucs, last = [], []
        for seed in seeds:
            gen = {g.font: [s.route for s in sample_routes(m, g, args.n, keep_copies=True, realism=1,
                                                            seed=seed + 1000 * g.number)] for g in grades}  # fmt: skip
            last = matched_mix(real, gen)
            aucs.append(real_vs_generated_auc(pooled_real, last, seed=seed))
        stats = " ".join(f"{x:8.3f}" for x in move_stats(last))
        print(f"{w:<6} " + " ".join(f"{a:8.3f}" for a in aucs) + f" {np.mean(aucs):8.3f} {stats}")


if __name__ == "__main__":
    main()
