"""Load-test a running studio: 8 concurrent clients, bounded request loops, 127.0.0.1 only.

    python bench/bench_studio.py                      # starts `routegen studio` on a free port (shipped models)
    python bench/bench_studio.py --tiny               # ... with tiny untrained models (no shipped files needed)
    python bench/bench_studio.py --generator runs/ar --critic runs/critic   # trained checkpoints
    python bench/bench_studio.py --url http://127.0.0.1:8000/

Two phases, each with --clients threads: generate (n=6 routes with critic grades, validity and nearest problem)
and grade-on-edit (one hold added or removed, then /api/grade, as the editor does on every click). Prints
p50 / p95 latency and requests per second per phase against the targets (generate p50 <= 250 ms, grade p50 <=
30 ms, no errors); exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_P50_MS = {"generate": 250, "grade": 30}
BASE = {"start": ["F5"], "middle": ["D8", "F12", "C15"], "end": ["E18"]}


def post(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status, (time.perf_counter() - t0) * 1000


def client_loop(host: str, port: int, kind: str, count: int, board: str, holds: list[str], seed: int, out: list):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    for _ in range(count):
        if kind == "generate":
            body = {"board": board, "model": "ar", "grade": "7A", "n": 6}  # no seed, as the front end asks
        else:  # an edit: one more middle hold (or one fewer), as a click in the editor
            extra = rng.sample([h for h in holds if h not in sum(BASE.values(), [])], rng.randint(0, 3))
            body = {"board": board, "route": {**BASE, "middle": BASE["middle"] + extra}}
        out.append(post(conn, f"/api/{kind}", body))
    conn.close()


def phase(host: str, port: int, kind: str, clients: int, count: int, board: str, holds: list[str]) -> dict:
    results: list[tuple[int, float]] = []
    threads = [threading.Thread(target=client_loop, args=(host, port, kind, count, board, holds, c, results))
               for c in range(clients)]  # fmt: skip
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = sorted(t for _, t in results)
    pct = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    errors = sum(status != 200 for status, _ in results)
    return {"kind": kind, "n": len(ms), "errors": errors, "p50": pct(0.5), "p95": pct(0.95), "rps": len(ms) / wall}


def start_server(tiny: bool, extra: list[str]) -> tuple[subprocess.Popen, int, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "routegen.cli", "studio", "--port", str(port), "--db", f"{tmp.name}/lib.sqlite"]
    if tiny:
        from tests.studio_helpers import make_weights

        cmd += ["--weights-dir", str(make_weights(Path(tmp.name)))]
    cmd += extra
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, port, tmp


def wait_ready(host: str, port: int, board: str, timeout: float = 120) -> dict:
    """The /api/boards answer once the server is up, after one generate + grade so the models are warm."""
    deadline = time.time() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=60)
            conn.request("GET", "/api/boards")
            boards = json.loads(conn.getresponse().read())
            post(conn, "/api/generate", {"board": board, "model": "ar", "grade": "7A", "n": 6})
            post(conn, "/api/grade", {"board": board, "route": BASE})
            return boards
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running studio on 127.0.0.1 (default: start one)")
    p.add_argument("--tiny", action="store_true", help="start the studio with tiny untrained models")
    p.add_argument("--generator", action="append", default=[], help="passed to the studio it starts")
    p.add_argument("--critic", action="append", default=[], help="passed to the studio it starts")
    p.add_argument("--board", default="2016")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--generate", type=int, default=10, help="generate requests per client")
    p.add_argument("--grade", type=int, default=50, help="grade requests per client")
    args = p.parse_args()
    proc = None
    extra = [x for g in args.generator for x in ("--generator", g)] + [x for c in args.critic for x in ("--critic", c)]
    if args.url:
        parts = urlsplit(args.url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            p.error("the bench only talks to a studio on this machine (127.0.0.1)")
        host, port = "127.0.0.1", parts.port or 80
    else:
        proc, port, tmp = start_server(args.tiny, extra)
        host = "127.0.0.1"
    try:
        boards = wait_ready(host, port, args.board)
        holds = next(b["holds"] for b in boards["boards"] if b["name"] == args.board)
        rows = [phase(host, port, "generate", args.clients, args.generate, args.board, holds),
                phase(host, port, "grade", args.clients, args.grade, args.board, holds)]  # fmt: skip
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    ok = True
    print(f"\nstudio bench: {args.clients} concurrent clients, {os.cpu_count()} CPUs, "
          f"{args.url or ' '.join(extra) or ('tiny models' if args.tiny else 'shipped models')}")  # fmt: skip
    print(f"{'request':<10}{'n':>6}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>8}{'target p50':>12}  result")
    for r in rows:
        good = r["errors"] == 0 and r["p50"] <= TARGET_P50_MS[r["kind"]]
        ok &= good
        print(f"{r['kind']:<10}{r['n']:>6}{r['errors']:>8}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['rps']:>8.1f}"
              f"{'<= ' + str(TARGET_P50_MS[r['kind']]):>12}  {'ok' if good else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
