"""Train every grader of the zoo on MoonBoard 2016 (Font and V labels) and print one comparison table.

    python bench/bench_graders.py [--out bench_runs/graders] [--epochs N | --quick] [--only transformer:font ...]

Each training is `python train.py model=grader_<arch> data=<data> logger=csv hydra.run.dir=<out>/<arch>_<label>`
(the configs' own settings unless --epochs/--quick), timed by wall clock. A run whose test metrics already exist
is reused (its recorded time too), so an interrupted bench resumes. Then for each: the test-split metrics
(model rows), parameters, training time, and inference routes/s on this CPU (hard routes, batch 512).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARCHS = ("transformer", "mlp", "polynomial", "perceptron", "linear")
LABELS = {"font": "moonboard2016", "v": "moonboard2016_v"}


def train_one(arch: str, label: str, out: Path, overrides: list[str]) -> dict:
    run = out / f"{arch}_{label}"
    timing = run / "bench_timing.json"
    if (run / "test_metrics.json").is_file() and timing.is_file():
        return json.loads(timing.read_text())
    cmd = [sys.executable, "train.py", f"model=grader_{arch}", f"data={LABELS[label]}", "logger=csv",
           f"hydra.run.dir={run}", "~callbacks.progress_bar", "trainer.enable_progress_bar=false",
           *overrides]  # fmt: skip
    print("+", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "bench_train.log", "w") as log:
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=log, stderr=subprocess.STDOUT)
    info = {"train_s": time.perf_counter() - t0, "cmd": " ".join(cmd), "threads": os.cpu_count()}
    timing.write_text(json.dumps(info))
    return info


def measure(run: Path) -> dict:
    import torch

    from routegen.checkpoints import load_module
    from routegen.data import load_problems
    from routegen.encoding import routes_to_grids
    from routegen.grader.nets import count_parameters

    module = load_module(run, expect="grader")
    grids = routes_to_grids([p.route for p in load_problems(board="2016", label="font")[:4096]])
    with torch.no_grad():
        module.probs(grids[:512])  # warm up
        t0 = time.perf_counter()
        for i in range(0, len(grids), 512):
            module.probs(grids[i : i + 512])
        rate = len(grids) / (time.perf_counter() - t0)
    table = json.loads((run / "test_metrics.json").read_text())
    return {"params": count_parameters(module.net), "routes_per_s": rate, "table": table,
            "loss": module.hparams.loss["name"], "predict": module.predict_rule[0]}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(ROOT / "bench_runs" / "graders"))
    p.add_argument("--epochs", type=int, help="override trainer.max_epochs")
    p.add_argument("--quick", action="store_true", help="3 epochs each (a smoke run, not a result)")
    p.add_argument("--only", nargs="*", help="arch:label pairs, e.g. transformer:font mlp:v")
    p.add_argument("overrides", nargs="*", help="extra train.py overrides for every run")
    args = p.parse_args()
    out = Path(args.out)
    overrides = list(args.overrides)
    if args.epochs or args.quick:
        overrides.append(f"trainer.max_epochs={args.epochs or 3}")
    pairs = [(a, lab) for lab in LABELS for a in ARCHS]
    if args.only:
        pairs = [tuple(s.split(":")) for s in args.only]
    rows = []
    for arch, label in pairs:
        timing = train_one(arch, label, out, overrides)
        rows.append((arch, label, timing, measure(out / f"{arch}_{label}")))
    print_table(rows)


def print_table(rows) -> None:
    cols = ("exact", "within1", "mae", "macro_f1", "qwk", "ece")
    head = "| grader | labels | loss | scale | " + " | ".join(cols) + " | params | train | routes/s |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    baselines = {}
    for arch, label, timing, m in rows:
        for row, metrics in m["table"].items():
            scale, who = row.split(" ", 1)
            if who != "model":
                baselines.setdefault((label, row), metrics)
                continue
            cells = " | ".join(f"{metrics[c]:.3f}" if c in ("mae", "qwk", "ece") else f"{metrics[c]:.1%}" for c in cols)
            print(f"| {arch} | {label} | {m['loss']} ({m['predict']}) | {scale} | {cells} | {m['params']:,} | "
                  f"{timing['train_s'] / 60:.1f} min | {m['routes_per_s']:,.0f} |")  # fmt: skip
    for (label, row), metrics in baselines.items():
        cells = " | ".join(f"{metrics[c]:.3f}" if c in ("mae", "qwk", "ece") else f"{metrics[c]:.1%}" for c in cols)
        scale, who = row.split(" ", 1)
        print(f"| constant: {who} | {label} | - | {scale} | {cells} | 0 | - | - |")


if __name__ == "__main__":
    main()
