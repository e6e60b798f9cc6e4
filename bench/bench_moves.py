"""A generator's moves by the roles they join, against real validation routes of the same grades.

Moves are the steps between consecutive holds in cell order (board.consecutive_cells), as every move is measured.
Per kind (s-m: start to middle, m-m, m-e, s-s, ...): how many per route, their mean length in cells, and how
many per route are shorter than 1.5 cells (neighbouring holds), each as generated / real; then how far the middle
holds stray sideways from the line between the starts and the end (gan/chain.py offset_bins), and how often a
route zigzags: of the middle holds reached by a sideways move, the share left by a move the other way (real
routes alternate hands; a chain of moves has no memory of the last one's way), and each route's widest row gap
between consecutive holds (the two-sample test's gap_max: the decoder's limit, decode.max_gap). One route per target
(no matching), 200 per grade 6B+ ... 7C+ unless told. The chain placement's corrections (gan/chain_fit.py) were
fitted against exactly these shares on the training split.

    .venv/bin/python bench/bench_moves.py                                # the shipped 2016 cGAN
    .venv/bin/python bench/bench_moves.py --ckpt runs/cgan --placement greedy
    .venv/bin/python bench/bench_moves.py --ckpt routegen/weights/2016/ar.json    # any generator
"""

from __future__ import annotations

import argparse
import inspect
import random
from collections import defaultdict

import numpy as np

from routegen.board import cell_distance, consecutive_cells
from routegen.checkpoints import load_module
from routegen.commands.args import grade_list
from routegen.data import load_problems
from routegen.gan.chain import OFFSET_STEP, TURNS
from routegen.gan.chain_fit import offset_counts, turn_counts
from routegen.generation.evaluate import DEFAULT_GRADES, held_out
from routegen.generation.features import row_gaps
from routegen.shipped import card_path

ROLE_LETTER = {"start": "s", "middle": "m", "end": "e"}


def move_table(routes) -> dict[str, tuple[float, float, float]]:
    """kind -> (moves per route, mean length, moves under 1.5 cells per route)."""
    count, length, short = defaultdict(int), defaultdict(float), defaultdict(int)
    for r in routes:
        role = {h.cell: ROLE_LETTER[name] for name in ROLE_LETTER for h in getattr(r, name)}
        for a, b in consecutive_cells(role):
            kind, d = f"{role[a]}-{role[b]}", cell_distance(a, b)
            count[kind] += 1
            length[kind] += d
            short[kind] += d < 1.5
    n = max(len(routes), 1)
    return {k: (count[k] / n, length[k] / count[k], short[k] / n) for k in count}


def offset_line(routes) -> str:
    """Mean sideways offset (columns) of the middle holds from their route's line, and the share beyond 2."""
    counts = offset_counts(routes)
    offsets = np.arange(len(counts)) * OFFSET_STEP
    return f"{counts @ offsets / counts.sum():.2f} columns, {counts[offsets > 2].sum() / counts.sum():.1%} beyond 2"


def zigzag_line(routes) -> str:
    """Of the middle holds entered and left by sideways moves, the share where the route turns back (the chain's
    own turn counts: gan/chain_fit.py turn_counts, way in by way out, left / straight up / right)."""
    turns = turn_counts(routes).reshape(TURNS, TURNS)
    left, right = 0, TURNS - 1
    sideways = turns[np.ix_((left, right), (left, right))].sum()
    back = turns[left, right] + turns[right, left]
    return f"{back / max(sideways, 1):.1%} of {int(sideways)}"


def widest_gap_line(routes) -> str:
    """Mean of each route's widest row gap between consecutive holds (rows in cell order, as the yardstick's
    gap_max), and the share of routes whose widest gap is 6 rows or more."""
    widest = np.array([max(row_gaps(r)) for r in routes])
    return f"{widest.mean():.2f} rows, {np.mean(widest >= 6):.1%} of 6 or more"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default=None, help="generator checkpoint or card (default: the shipped 2016 cGAN)")
    p.add_argument("--placement", choices=("greedy", "chain"), help="override the checkpoint's placement")
    p.add_argument("-n", type=int, default=200, help="routes per grade (default 200)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    module = load_module(args.ckpt or str(card_path("2016", "cgan")))
    if args.placement:
        module.hparams.decode["placement"] = args.placement
    one_candidate = {"realism": 1} if "realism" in inspect.signature(module.generate).parameters else {}  # cGAN
    grades = grade_list(DEFAULT_GRADES)
    by = held_out(load_problems(args.data_dir), grades, seed=0)
    rng, real, generated = random.Random(0), [], []
    for g in grades:
        k = min(args.n, len(by["val"][g.font]))
        real += rng.sample(by["val"][g.font], k)
        generated += module.generate([g.number] * k, seed=args.seed, **one_candidate)
    gen, ref = move_table(generated), move_table(real)
    decode = module.hparams.get("decode")
    what = f"placement {decode.get('placement', 'greedy')}" if decode else getattr(module, "kind", "generator")
    print(f"{what}: {len(generated)} generated / {len(real)} real validation routes (generated / real)")
    print(f"{'kind':>5} {'per route':>13} {'length':>13} {'< 1.5 per route':>17}")
    for kind in sorted(set(gen) | set(ref), key=lambda k: -ref.get(k, (0,))[0]):
        a, b = gen.get(kind, (0.0, 0.0, 0.0)), ref.get(kind, (0.0, 0.0, 0.0))
        print(f"{kind:>5} {a[0]:>6.2f} / {b[0]:<4.2f} {a[1]:>6.2f} / {b[1]:<4.2f} {a[2]:>8.3f} / {b[2]:<6.3f}")
    print(f"middle holds' offset from the start-end line: {offset_line(generated)} / {offset_line(real)}")
    print(f"middle holds where a sideways route turns back: {zigzag_line(generated)} / {zigzag_line(real)}")
    print(f"widest row gap between consecutive holds: {widest_gap_line(generated)} / {widest_gap_line(real)}")


if __name__ == "__main__":
    main()
