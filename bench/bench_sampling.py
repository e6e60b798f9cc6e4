"""Sampling speed of generator checkpoints on this machine: batched routes/s (with / without KV cache), 1-route
latency, routes/s through the sampling pipeline as `routegen sample` runs it (the shipped critic grading every
route, and the model's default critic matching: K candidates per route), and how fast `routegen --help` answers.

  python bench/bench_sampling.py --shipped        # every shipped generator with its default settings
  python bench/bench_sampling.py --ckpt runs/ar --ckpt runs/cgan/... [--batch 1000] [--repeats 3]
Without --ckpt an untrained AR transformer of the default size is timed. Every module is called through the
same `generate(grades, seed=...)` as `routegen sample`; a module whose generate has no `use_cache` shows n/a.
"""

from __future__ import annotations

import argparse
import inspect
import time

import torch

from routegen.checkpoints import load_module, resolve_checkpoint


def timed(fn, repeats: int) -> float:
    """Best wall time of fn() over repeats, after one warm-up call (timeit's rule: on a shared machine the
    fastest run is the one least disturbed by other processes)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench(name: str, module, batch: int, repeats: int) -> dict:
    grade = min(module.trained_grades)
    grades = sorted(module.trained_grades)
    batch_grades = [grades[i % len(grades)] for i in range(batch)]
    has_cache = "use_cache" in inspect.signature(module.generate).parameters
    row = {"model": name, "batch": batch}
    t = timed(lambda: module.generate(batch_grades, seed=0), repeats)
    row["routes/s (cache)" if has_cache else "routes/s"] = batch / t
    row["routes/s (no cache)"] = (
        batch / timed(lambda: module.generate(batch_grades, seed=0, use_cache=False), repeats) if has_cache else None
    )
    row["routes/s unconstrained"] = batch / timed(
        lambda: module.generate(batch_grades, seed=0, constrained=False), repeats
    )
    row["1-route latency ms"] = 1000 * timed(lambda: module.generate([grade], seed=0), max(repeats, 10))
    critic = pipeline_critic(module)
    if critic is not None:
        from routegen.generation.sampling import resolve_match, sample_routes

        row["match K"] = resolve_match(module, None, critic, 1)
        row["routes/s sample pipeline"] = batch / timed(
            lambda: sample_routes(module, grade, batch, critic=critic, keep_copies=True), repeats
        )
    return row


def pipeline_critic(module):
    """The shipped critic of the module's board (what `routegen sample` grades with), or None."""
    from routegen.errors import RoutegenError
    from routegen.grader.critic import Critic
    from routegen.shipped import shipped

    try:
        return Critic.load(shipped(module.board, "critic"))
    except RoutegenError:
        return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", action="append", default=[], help="generator checkpoint or run dir (repeatable)")
    p.add_argument("--shipped", action="store_true", help="add every shipped generator (routegen/weights/)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = []
    if args.shipped:
        from routegen.shipped import GENERATORS, cards

        args.ckpt += [c["path"] for c in cards() if c["name"] in GENERATORS]
    for path in args.ckpt:
        module = load_module(path, expect=("ar_transformer", "cgan"))
        models.append((f"{type(module).__name__} {resolve_checkpoint(path)}", module))
    if not models:
        from routegen.ar.module import ARTransformerModule

        models.append(("ARTransformerModule (untrained, default size)", ARTransformerModule().eval()))
    rows = [bench(name, m, args.batch, args.repeats) for name, m in models]
    cols = ["routes/s (cache)", "routes/s (no cache)", "routes/s unconstrained", "1-route latency ms", "routes/s",
            "match K", "routes/s sample pipeline"]
    cols = [c for c in cols if any(c in r for r in rows)]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, best of {args.repeats}")
    print(f"| model | {' | '.join(cols)} |")
    print("|---|" + "---:|" * len(cols))
    for r in rows:
        cells = [("n/a" if r.get(c) is None else f"{r[c]}" if c == "match K" else f"{r[c]:,.1f}") for c in cols]
        print(f"| {r['model']} | {' | '.join(cells)} |")
    print(f"`routegen --help`: {help_seconds():.2f} s (best of 3, a fresh process each)")


def help_seconds() -> float:
    """Start-up cost a user feels: the CLI imports torch and Lightning only in the commands that need them."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "routegen.cli", "--help"]
    return timed(lambda: subprocess.run(cmd, capture_output=True, check=True), 3)


if __name__ == "__main__":
    main()
