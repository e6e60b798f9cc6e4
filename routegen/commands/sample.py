"""Sample new routes of a target grade from a generator checkpoint (AR transformer or cGAN).

Examples:
  routegen sample --ckpt runs/ar --grade 7A -n 10
  routegen sample --ckpt runs/ar --grade V6 --critic runs/grader --critic-rerank 8 --png out/ --output routes.jsonl
  routegen sample --ckpt runs/ar --grade 6C+ --fixed "F5,E18" --format seed
  routegen sample --ckpt runs/cgan --grade 7A -n 10 --realism 8
"""

from __future__ import annotations

import argparse
import json
import sys

from routegen.commands.args import grade_choices, pick_trained

HELP = "sample routes of a target grade from a generator checkpoint"
FORMATS = ("table", "seed", "moonboard", "json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="generator checkpoint file or run directory")
    p.add_argument("--grade", required=True, type=grade_choices,
                   help="target grade: Font (7A), V (V6: the easiest of its Font grades the model knows) or number (7)")  # fmt: skip
    p.add_argument("--board", default=None, help="board the routes are for (must be the checkpoint's; default: it)")
    p.add_argument("-n", type=int, default=10, help="number of routes (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument(
        "--guidance", type=float, default=None, help="classifier-free guidance scale (1 = off; default: the model's)"
    )
    p.add_argument("--realism", type=int, default=None, metavar="K",
                   help="cGAN: decode K candidates per route, keep the one its discriminator finds most real "
                   "(default: the checkpoint's)")  # fmt: skip
    p.add_argument("--unconstrained", action="store_true", help="no constrained decoding (routes may be invalid)")
    p.add_argument("--critic", default=None, help="grader checkpoint: grade every route")
    p.add_argument("--critic-rerank", type=int, default=1, metavar="N",
                   help="sample N candidates per route, keep the one the critic grades closest to the target")  # fmt: skip
    p.add_argument("--fixed", default=None, help='holds every route must contain, e.g. "F5,E18" or "F5 | | E18"')
    p.add_argument("--keep-copies", action="store_true", help="keep routes identical to known problems")
    p.add_argument("--output", default=None, help="write JSON Lines (data schema + sampling facts)")
    p.add_argument("--png", default=None, metavar="DIR", help="draw each route to DIR/route_NNN.png")
    p.add_argument("--format", choices=FORMATS, default="table", help="terminal output (default: table)")


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.checkpoints import load_module
    from routegen.errors import RoutegenError
    from routegen.generation.sampling import sample_routes
    from routegen.route import parse_route

    module = load_module(args.ckpt, expect=("ar_transformer", "cgan"))
    if args.board is not None and str(args.board) != module.board:
        raise RoutegenError(f"board {args.board!r}: this checkpoint was trained on board {module.board}")
    board = load_board(module.board)
    target = pick_trained(args.grade, module.trained_grades)  # checked against them once, in sample_routes
    fixed = parse_route(args.fixed, board)[0] if args.fixed else None
    critic = _load_critic(args.critic) if args.critic else None
    kwargs = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    if args.guidance is not None:  # else the model's own default (the GAN takes none)
        kwargs["guidance"] = args.guidance
    if args.realism is not None:  # else the model's own default (the AR transformer takes none)
        kwargs["realism"] = args.realism
    if args.unconstrained:
        kwargs["constrained"] = False
    samples = sample_routes(
        module, target, args.n, critic=critic, rerank=args.critic_rerank, novelty=_novelty(module),
        keep_copies=args.keep_copies, fixed=fixed, seed=args.seed, **kwargs,
    )  # fmt: skip
    _print(samples, args.format, module.board, module.angle)
    if args.output:
        from routegen.io import atomic_write_jsonl

        atomic_write_jsonl(args.output, [s.to_record(module.board, module.angle) for s in samples])
    if args.png:
        from routegen.render import save_route_pngs

        titles = [_title(s) for s in samples]
        paths = save_route_pngs([s.route for s in samples], board, args.png, titles)
        print(f"wrote {len(paths)} PNGs to {args.png}", file=sys.stderr)
    return 0


def _load_critic(path: str):
    from routegen.grader.critic import Critic

    return Critic.load(path)


def _novelty(module):
    """The index of known problems for the copy check; None (with a note) when it cannot be built."""
    try:
        from routegen.generation.novelty import NoveltyIndex

        return NoveltyIndex.from_data(module.board, angle=module.angle)
    except (ImportError, FileNotFoundError, ValueError) as e:
        print(f"routegen sample: note: no novelty check ({e})", file=sys.stderr)
        return None


def _title(s) -> str:
    text = f"target {s.target.font}"
    if s.critic_grade is not None:
        text += f", critic {s.critic_grade.font} ({s.critic_confidence:.0%})"
    return text


def _novel(s) -> str:
    return "?" if s.novel is None else "new" if s.novel else "copy"


def _print(samples, fmt: str, board: str, angle: int) -> None:
    from routegen.route import format_route, format_row_first

    if fmt == "seed":
        lines = [format_row_first(s.route, s.target) for s in samples]
    elif fmt == "moonboard":
        lines = [format_route(s.route) for s in samples]
    elif fmt == "json":
        lines = [json.dumps(s.to_record(board, angle)) for s in samples]
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("#", "route (row first)", "start | middle | end", "target", "critic", "conf", "novel")
        for i, s in enumerate(samples, 1):
            critic = s.critic_grade.font if s.critic_grade else "-"
            conf = f"{s.critic_confidence:.0%}" if s.critic_confidence is not None else "-"
            table.add_row(
                str(i), format_row_first(s.route), format_route(s.route), s.target.font, critic, conf, _novel(s)
            )
        Console().print(table)
        return
    else:
        lines = []
        for i, s in enumerate(samples, 1):
            critic = f"critic {s.critic_grade.font} ({s.critic_confidence:.0%})" if s.critic_grade else "critic -"
            lines.append(
                f"{i}. {format_row_first(s.route)}  {format_route(s.route)}  target {s.target.font}  {critic}  {_novel(s)}"
            )
    print("\n".join(lines))
