"""The fidelity yardstick on routes asked for the way people ask: a few at a time.

`routegen evaluate-generator` asks each generator for 500 routes of a grade in one request. A setter asks for
one route, or the studio for six. Critic matching (generation/match.py) draws each kept route from K candidates
with weights that need the share of candidates in each critic-grade bin; counted over a small request's own
candidates, those shares are no estimate and the draw goes to the grade's most common bins (the prototype the
fidelity issue warns of). A generator calibrated with `routegen calibrate --match` counts them by its own
profiles instead. Per request size, each generator's routes (requests seeded apart) are measured against the
yardstick's real halves like `evaluate-generator --fidelity-only`; `extra` is the judge's mean grade of its
6B+ routes minus the real 6B+ routes'. `--request-shares` counts each request's own candidates (as before the
own profiles), to compare.

    .venv/bin/python bench/bench_request_size.py                          # shipped 2016 AR and cGAN, 1 / 6 / 200
    .venv/bin/python bench/bench_request_size.py --sizes 1 500 -n 500 --request-shares
"""

from __future__ import annotations

import argparse
import os
import time

from yardstick_setup import add_arguments, setup

from routegen.generation.evaluate import request_seed
from routegen.generation.report import ROW_HEADER, fidelity_row
from routegen.generation.sampling import sample_routes


def in_requests(module, critic, grade, n: int, size: int, seed: int) -> list:
    """n routes of one grade, asked for `size` at a time (the last request may be smaller)."""
    routes = []
    for i, first in enumerate(range(0, n, size)):
        got = sample_routes(module, grade, min(size, n - first), critic=critic,
                            seed=request_seed(seed, grade.number, i), keep_copies=True)  # fmt: skip
        routes += [s.route for s in got]
    return routes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 6, 200], help="routes per request (default 1 6 200)")
    p.add_argument("--request-shares", action="store_true",
                   help="count each request's own candidates, not the generator's own profiles")  # fmt: skip
    args = p.parse_args()
    generators, critic, grades, fid = setup(args)
    print(f"{args.split} split, {args.n} routes per grade asked for in requests of each size "
          f"({fid.floor['n_per_side']} routes a side)")  # fmt: skip
    print(ROW_HEADER + "  (extra: 6B+ judged minus real)")
    print(fidelity_row("floor: real B vs A", fid.floor, fid.floor, fid.floor["seconds"]))
    for path, module in generators.items():
        if args.request_shares:
            module.hparams[module.sampling_group]["match_profiles"] = None
        for size in args.sizes:
            t0 = time.perf_counter()
            routes = {g.font: in_requests(module, critic, g, args.n, size, args.seed) for g in grades}
            m = fid.measure(routes)
            six = m["per_grade"].get("6B+", {})
            shift = f"{six['judged_mean'] - six['real_judged_mean']:+.2f}" if six else ""
            name = f"{os.path.relpath(path)}, {size} per request"
            print(fidelity_row(name, m, fid.floor, time.perf_counter() - t0, shift), flush=True)


if __name__ == "__main__":
    main()
