"""Reliability numbers: peak memory of `routegen sample` against -n (flat: sampling goes in bounded chunks and
streams to --output), and the time to the first error for a bad argument (checked before anything heavy loads).

    python bench/bench_reliability.py                      # -n 10000 vs 100000 with the shipped AR model
    python bench/bench_reliability.py --ckpt runs/ar --sizes 2000,20000

Each sampling run is its own process, measured by resource.getrusage(RUSAGE_CHILDREN).ru_maxrss in a wrapper
process, so one run's peak never hides another's. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEAK = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
)


def routegen(*args: str) -> list[str]:
    return [sys.executable, "-m", "routegen.cli", *args]


def peak_rss_mib(argv: list[str], env: dict) -> tuple[float, float, int]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.monotonic() - start
    kib, code = done.stdout.split()[-2:]
    return int(kib) / 1024, seconds, int(code)


def first_error_seconds(argv: list[str], env: dict, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
        times.append(time.monotonic() - start)
        assert done.returncode == 2, done.stderr
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", help="generator checkpoint (default: the shipped AR model)")
    p.add_argument("--sizes", default="10000,100000", help="values of -n to compare (default 10000,100000)")
    p.add_argument("--threads", default="1", help="OMP_NUM_THREADS for the runs (default 1)")
    args = p.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": args.threads}
    model = ["--ckpt", args.ckpt] if args.ckpt else ["--model", "ar"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.sizes.split(",")]:
            out = Path(tmp) / f"routes_{n}.jsonl"
            argv = routegen("sample", *model, "--grade", "7A", "-n", str(n), "--no-critic", "--keep-copies",
                            "--format", "json", "--output", str(out))  # fmt: skip
            mib, seconds, code = peak_rss_mib(argv, env)
            lines = sum(1 for _ in out.open()) if out.is_file() else 0
            rows.append(
                (f"sample -n {n}", f"{mib:,.0f} MiB peak RSS", f"{seconds:,.1f} s", f"{lines:,} routes, exit {code}")
            )
    bad = first_error_seconds(routegen("sample", *model, "--grade", "9Z"), env)
    rows.append(("sample --grade 9Z", "-", f"{bad:.2f} s to the error", "exit 2"))
    bad = first_error_seconds(routegen("evaluate-generator", "--top-k", "0"), env)
    rows.append(("evaluate-generator --top-k 0", "-", f"{bad:.2f} s to the error", "exit 2"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in [("run", "memory", "time", "result"), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
