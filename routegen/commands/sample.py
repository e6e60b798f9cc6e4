"""Sample new routes of a target grade from a generator checkpoint (AR transformer or cGAN).

Examples:
  routegen sample --grade 7A -n 10                 # the shipped generator and critic for MoonBoard 2016
  routegen sample --grade 6C+ --board 2017 --model ar
  routegen sample --ckpt runs/ar --grade 7A -n 10
  routegen sample --ckpt runs/ar --grade V6 --critic runs/grader --critic-rerank 8 --png out/ --output routes.jsonl
  routegen sample --ckpt runs/ar --grade 6C+ --fixed "F5,E18" --format seed
  routegen sample --ckpt runs/cgan --grade 7A -n 10 --realism 8
"""

from __future__ import annotations

import argparse
import sys

from routegen.commands.args import (
    board_known_early,
    domain,
    grade_choices_list,
    parse_fixed,
    pick_trained,
    shipped_critic,
    shipped_or,
)

HELP = "sample routes of a target grade (the shipped generator, or a checkpoint)"
FORMATS = ("table", "seed", "moonboard", "json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", help="generator checkpoint file or run directory (default: the shipped --model)")
    p.add_argument("--model", choices=("ar", "cgan"), default=None,
                   help="without --ckpt: which shipped generator (default: the board's best, `routegen models`)")  # fmt: skip
    p.add_argument("--grade", required=True, type=grade_choices_list,
                   help="target grade: Font (7A), V (V6: the easiest of its Font grades the model knows) or number "
                   "(7); several, comma-separated (6B+,7A,7B+), give -n routes each")  # fmt: skip
    p.add_argument("--board", default=None,
                   help="2016 or 2017: the shipped models' board (default 2016); with --ckpt it must be the checkpoint's")  # fmt: skip
    p.add_argument(
        "-n", type=domain("n"), default=10, help="number of routes (default 10; any number: sampled in chunks)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=domain("temperature"), default=1.0, help="> 0; 0 = greedy (default 1)")
    p.add_argument("--top-k", type=domain("top_k"), default=None, help="AR: sample among the k likeliest tokens (>= 1)")
    p.add_argument("--top-p", type=domain("top_p"), default=None, help="AR: nucleus sampling threshold in (0, 1]")
    p.add_argument("--guidance", type=domain("guidance"), default=None,
                   help="classifier-free guidance scale >= 0 (0 = ignore the grade, 1 = off; default: the model's); "
                        "a cGAN takes it when trained with model.loss.cond_dropout > 0")  # fmt: skip
    p.add_argument("--realism", type=domain("realism"), default=None, metavar="K",
                   help="cGAN: decode K candidates per route, keep the one its discriminator finds most real "
                   "(default: the checkpoint's)")  # fmt: skip
    p.add_argument("--unconstrained", action="store_true", help="no constrained decoding (routes may be invalid)")
    p.add_argument(
        "--critic", default=None, help="grader checkpoint that grades every route (default: the shipped one)"
    )
    p.add_argument("--no-critic", action="store_true", help="do not grade the routes")
    p.add_argument("--critic-rerank", type=domain("rerank"), default=1, metavar="N",
                   help="sample N candidates per route, keep the one the critic grades closest to the target: graded "
                   "nearer the target, but more like the grade's prototype than like its real routes (docs/fidelity.md)")  # fmt: skip
    p.add_argument("--match", type=domain("match"), default=None, metavar="K",
                   help="sample K candidates per route, keep one so that the critic grades the routes the way it grades "
                   "real routes of the grade (1 = off; default: the model's, when the critic has grade profiles)")  # fmt: skip
    p.add_argument("--fixed", default=None, help='holds every route must contain, e.g. "F5,E18" or "F5 | | E18" (the AR, '
                   "matched: 8 x K candidates weighted towards its own completions; docs/ar.md)")  # fmt: skip
    p.add_argument("--keep-copies", action="store_true", help="keep routes identical to known problems")
    p.add_argument("--output", default=None, help="write JSON Lines (data schema + sampling facts)")
    p.add_argument("--png", default=None, metavar="DIR",
                   help="draw each route to DIR/route_NNN.png; route_*.png files an earlier run left in DIR are "
                   "removed (nothing else there is touched)")  # fmt: skip
    p.add_argument("--format", choices=FORMATS, default="table", help="terminal output (default: table)")


def run(args: argparse.Namespace) -> int:
    from routegen.board import load_board
    from routegen.checkpoints import load_module
    from routegen.errors import RoutegenError
    from routegen.io import check_output_dir, check_output_file
    from routegen.shipped import default_generator

    if args.output:  # every argument checked before the model loads (seconds)
        check_output_file(args.output)
    if args.png:
        check_output_dir(args.png)
    if args.critic_rerank > 1 and args.no_critic:
        raise RoutegenError("--critic-rerank needs a critic; drop --no-critic")
    parse_fixed(args.fixed, board_known_early(args.board, args.ckpt))
    name = args.model or default_generator(args.board or "2016")
    module = load_module(shipped_or(args.ckpt, args.board, name), expect=("ar_transformer", "cgan"))
    if args.board is not None and str(args.board) != module.board:
        raise RoutegenError(f"board {args.board!r}: this checkpoint was trained on board {module.board}")
    board = load_board(module.board)
    targets = [pick_trained(g, module.trained_grades) for g in args.grade]  # checked once each, in iter_samples
    fixed = parse_fixed(args.fixed, board)
    critic_path = None if args.no_critic else args.critic or shipped_critic(module.board)
    critic = _load_critic(critic_path) if critic_path else None
    kwargs = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    if args.guidance is not None:  # else the model's own default
        kwargs["guidance"] = args.guidance
    if args.realism is not None:  # else the model's own default (the AR transformer takes none)
        kwargs["realism"] = args.realism
    if args.unconstrained:
        kwargs["constrained"] = False
    from itertools import chain

    from routegen.generation.sampling import iter_samples, write_samples

    novelty = _novelty(module)
    # the i-th grade samples with seed + 1000 i: one seed for every grade would offer the same route twice
    chunks = chain.from_iterable(
        iter_samples(module, target, args.n, critic=critic, rerank=args.critic_rerank, match=args.match, novelty=novelty,
                     keep_copies=args.keep_copies, fixed=fixed, seed=args.seed + 1000 * i, **kwargs)
        for i, target in enumerate(targets)
    )  # fmt: skip
    write_samples(chunks, args.n * len(targets), board, module.angle, args.format, args.output, args.png)
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
