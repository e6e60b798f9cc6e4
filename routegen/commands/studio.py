"""Serve the studio: a local web app to generate, grade, edit, complete, save and share routes.

Opens on the shipped models of each board; --weights-dir points at another folder of cards, --critic and
--generator at checkpoints (each takes the place of the shipped model of its board and kind).

Examples:
  routegen studio                                  # http://127.0.0.1:8000, library in ~/.local/share/routegen
  routegen studio --port 8080 --db routes.sqlite
  routegen studio --generator runs/ar --critic runs/grader
"""

from __future__ import annotations

import argparse

HELP = "serve the studio web app (generate, grade, edit, complete, save, share routes)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--db", default=None, help="library SQLite file (default: $XDG_DATA_HOME/routegen/library.sqlite)")
    p.add_argument("--weights-dir", default=None, help="a folder of model cards <board>/<name>.json (default: shipped)")
    p.add_argument("--critic", action="append", default=[], metavar="CKPT", help="grader checkpoint (repeatable)")
    p.add_argument("--generator", action="append", default=[], metavar="CKPT",
                   help="AR transformer or cGAN checkpoint (repeatable)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="inference threads (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per inference (default 1)")


def run(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    from routegen.studio.app import create_app
    from routegen.studio.library import Library, default_db_path
    from routegen.studio.service import Models, Studio

    torch.set_num_threads(args.threads)  # with --workers threads, so one request cannot take every core
    models = Models.build(args.weights_dir, args.critic, args.generator)
    studio = Studio(models, workers=args.workers)
    library = Library(args.db or default_db_path())
    print(f"routegen studio: http://{args.host}:{args.port}/  (library {library.path})", flush=True)
    if not models.generators:  # the page still opens (edit, save, share) but cannot generate
        print("routegen studio: note: no generator found; pass --generator CKPT or --weights-dir", flush=True)
    uvicorn.run(create_app(studio, library), host=args.host, port=args.port, log_level="warning")
    return 0
