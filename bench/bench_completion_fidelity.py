"""Route completion on the fidelity yardstick: are a generator's completions distributed like real routes?

A setter fixes a few holds and asks for the rest. bench_completion.py checks that the fixed holds are kept and
the judged grade stays near the target; this bench asks what the fidelity issue asks of free routes
(docs/fidelity.md): could a setter tell the completed routes from real ones of the grade?

The yardstick's real test routes of each grade are cut into halves A and B as usual. Every route of half B
lends some of its holds (`--lend`: its start and end holds, or a random half of its holds in their roles) and
each generator completes it at that route's grade, with its sampling defaults (matched by the critic, as
`routegen sample --fixed` does). The completions then stand where B stands in the floor: the same measures
(grade-aware two-sample AUC against A, 1-NN, judged-grade W1, the W1 bar's grades), against the floor B vs A.
A perfect completer gives routes distributed like B, so it scores the floor. Each generator's free routes
(no fixed holds) are measured beside its completions, the same way. `back` is the share of completions that
are their lender's own hold set (the real route given back).

    .venv/bin/python bench/bench_completion_fidelity.py                   # shipped 2016 AR and cGAN, 200 a grade
    .venv/bin/python bench/bench_completion_fidelity.py --lend half -n 500 --threads 2
"""

from __future__ import annotations

import argparse
import os
import random
import time

from yardstick_setup import add_arguments, setup

from routegen.generation.evaluate import request_seed, sample_grades
from routegen.generation.novelty import cell_key
from routegen.generation.report import ROW_HEADER, fidelity_row
from routegen.generation.sampling import sample_routes
from routegen.route import Route


def lent_holds(route: Route, lend: str, rng: random.Random) -> Route:
    """The holds a real route lends: its start and end holds, or a random half of its holds (at least one) in
    their roles."""
    if lend == "start-end":
        return Route(route.start, (), route.end)
    holds = [(role, h) for role in ("start", "middle", "end") for h in getattr(route, role)]
    keep = set(rng.sample(range(len(holds)), max(1, len(holds) // 2)))
    pick = {
        role: tuple(h for i, (r, h) in enumerate(holds) if r == role and i in keep)
        for role in ("start", "middle", "end")
    }
    return Route(**pick)


def complete(module, critic, number: int, lenders: list[Route], seed: int) -> list[Route]:
    """One completion per lender's fixed holds, at the grade, with the generator's sampling defaults; each its own
    request, seeded apart from every other grade's and request's."""
    routes = []
    for i, f in enumerate(lenders):
        got = sample_routes(module, number, 1, critic=critic, fixed=f, seed=request_seed(seed, number, i),
                            keep_copies=True)  # fmt: skip
        routes.append(got[0].route)
    return routes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    p.add_argument("--lend", default="start-end", choices=["start-end", "half"],
                   help="what each real route lends: its start and end holds (default), or a random half of its holds")  # fmt: skip
    args = p.parse_args()
    generators, critic, grades, fid = setup(args)
    rng = random.Random(args.seed)
    lenders = {g.font: [lent_holds(r, args.lend, rng) for r in fid.b[g.font]] for g in grades}

    print(f"{args.split} split, completions of half B's {args.lend} holds ({fid.floor['n_per_side']} routes a side)")
    print(ROW_HEADER + "  (extra: completions that give back their lender's route)")
    print(fidelity_row("floor: real B vs A", fid.floor, fid.floor, fid.floor["seconds"]))
    for path, module in generators.items():
        name = os.path.relpath(path)
        t0 = time.perf_counter()
        free = sample_grades(module, grades, args.n, rerank=1, critic=critic, seed=args.seed, fixed=None, sampler={})
        print(fidelity_row(f"{name}, free", fid.measure(free), fid.floor, time.perf_counter() - t0))
        t0 = time.perf_counter()
        done = {g.font: complete(module, critic, g.number, lenders[g.font], args.seed) for g in grades}
        back = [cell_key(d) == cell_key(b) for g in grades for d, b in zip(done[g.font], fid.b[g.font])]
        back = f"{sum(back) / max(len(back), 1):.1%}"
        print(fidelity_row(f"{name}, completing", fid.measure(done), fid.floor, time.perf_counter() - t0, back))


if __name__ == "__main__":
    main()
