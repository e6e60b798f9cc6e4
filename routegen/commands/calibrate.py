"""Calibrate a trained checkpoint on its VALIDATION split and write the result into it (atomically).

cGAN: --placement chain|greedy|iterative sets how middle holds are placed (chain: drawn as one chain of moves, whose
move corrections are then fitted to the training routes after the weights; gan/chain_fit.py; iterative: the
whole route drawn hold by hold through the generator, gan/iterative.py); --max-gap ROWS the most rows between
consecutive holds that decoding makes (the chain's moves are refitted with it);
--move-weight auto|W chooses (or sets) how much the grade's move shares count in decoding, by the
real-vs-generated AUC on the validation routes (routegen/gan/calibrate.py); --hold-weight auto|W (re)counts the
training split's start / end hold shares into the decode prior and chooses (or sets) how much they count, by
the start / end hold spread and the AUC on the validation routes; --realism K fits the
discriminator's realism head (on the training split, its accuracy shown on validation) and makes K candidates
per route the default. AR and cGAN: --realism-trees [ROUNDS] fits real-vs-generated trees on the training split
(routegen/generation/realism.py) that weight each matched candidate, later rounds on its matched routes; --match auto|K chooses (or sets) the
candidates per route matched to the critic. Grader: --predict-rule and --prior-power (each auto unless given)
choose how a distribution becomes one grade, by validation MAE (routegen/grader/calibrate.py).

Examples:
  routegen calibrate --ckpt runs/cgan --move-weight auto --realism 8
  routegen calibrate --ckpt runs/cgan --placement chain --max-gap 8 --move-weight auto --realism-trees --match auto
  routegen calibrate --ckpt runs/cgan --realism-trees 2 --critic runs/critic
  routegen calibrate --ckpt runs/cgan --hold-weight auto -n 100
  routegen calibrate --ckpt runs/ar --guidance auto --realism-trees --match auto --critic runs/critic
  routegen calibrate --ckpt runs/critic --predict-rule argmax --prior-power auto
"""

from __future__ import annotations

import argparse

from routegen.commands.args import domain, grade_list
from routegen.errors import RoutegenError
from routegen.route import MAX_ROW_GAP

HELP = "calibrate a checkpoint on its validation split (cGAN decoding and selection, grader prediction rule)"


def auto_or(convert):
    def parse(text: str):
        if text.strip().lower() == "auto":
            return "auto"
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected auto or a number, got {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
        return value

    parse.__name__ = f"auto_or_{convert.__name__}"
    return parse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="cGAN or grader checkpoint file or run directory (written in place)")
    p.add_argument("--out", help="write the calibrated checkpoint here instead of in place")
    p.add_argument("--move-weight", type=auto_or(float), metavar="auto|W", help="cGAN: choose on val, or set W")
    p.add_argument("--placement", choices=("greedy", "chain", "iterative"),
                   help="cGAN: place middle holds one at a time (greedy), draw them as one chain of moves (chain), or "
                        "draw the whole route hold by hold through the generator (iterative; for a generator trained "
                        "with the completion term); set before the weights are chosen")  # fmt: skip
    p.add_argument("--max-gap", type=int, metavar="ROWS",
                   help="cGAN: most rows between consecutive holds in decoding (5 before it; the rule allows 8)")
    p.add_argument("--hold-weight", type=auto_or(float), metavar="auto|W",
                   help="cGAN: count the start / end hold shares, choose their weight on val, or set W")  # fmt: skip
    p.add_argument("--realism", type=domain("realism"), metavar="K",
                   help="cGAN: fit the realism head, default K candidates per route")  # fmt: skip
    p.add_argument("--predict-rule", default="auto", metavar="auto|RULE",
                   help="grader: argmax, group_argmax, median or expected (default: auto)")  # fmt: skip
    p.add_argument("--prior-power", type=auto_or(float), default="auto", metavar="auto|P",
                   help="grader: divide by the training prior ** P before predicting (default: auto)")  # fmt: skip
    p.add_argument("-n", type=domain("n"), default=200,
                   help="cGAN move / hold weight: routes per grade and seed (default 200)")  # fmt: skip
    p.add_argument("--grades", type=grade_list,
                   help="cGAN move / hold weight: grades to compare on (default 6B+ to 7C+, as evaluate-generator)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="sampling seed (the move weight uses it and the next)")
    p.add_argument("--split-seed", type=int, default=0,
                   help="cGAN: the split seed it was trained with, when its checkpoint recorded no data settings "
                        "(default 0)")  # fmt: skip
    p.add_argument("--guidance", type=auto_or(float), metavar="auto|G",
                   help="AR: classifier-free guidance by the fidelity yardstick on validation (auto) or set; cGAN: "
                        "its grade contrast, set (a generator trained with model.loss.cond_dropout > 0)")  # fmt: skip
    p.add_argument("--match", type=auto_or(int), metavar="auto|K",
                   help="AR, cGAN: candidates per route matched to the critic's grade profile (the cGAN's also "
                        "weighted by its realism head), by the fidelity yardstick on validation (auto) or set (1 = off)")  # fmt: skip
    p.add_argument("--realism-trees", type=int, nargs="?", const=1, metavar="ROUNDS",
                   help="AR, cGAN: fit the real-vs-generated trees (training split) that weight matched candidates, "
                        "before --match; ROUNDS > 1 (at most 4): each later round on the routes matched with the "
                        "trees so far, by --critic (default 1)")  # fmt: skip
    p.add_argument("--judge", help="--guidance / --match: the yardstick's independent grader (default: the shipped judge)")
    p.add_argument("--critic", help="--match: the calibrated critic to match with (default: the shipped critic)")
    p.add_argument("--data-dir", help="data directory (default: the grader's own, else routegen's default)")


def run(args: argparse.Namespace) -> int:
    from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams
    from routegen.commands.args import shipped_or
    from routegen.generation.evaluate import DEFAULT_GRADES
    from routegen.io import check_output_file

    if args.out:  # checked before the checkpoint loads
        check_output_file(args.out, "--out")
    args.grades = args.grades or grade_list(DEFAULT_GRADES)
    path = resolve_checkpoint(args.ckpt)
    module = load_module(path, expect=("cgan", "grader", "ar_transformer"))
    kind = getattr(module, "kind", None)
    _check_options(kind, args)
    sweep = {"grades": args.grades, "n": args.n, "seed": args.seed, "split_seed": args.split_seed,
             "data_dir": args.data_dir}  # fmt: skip
    if kind == "cgan":
        from routegen.gan.calibrate import calibrate

        values = calibrate(module, path, placement=args.placement, max_gap=args.max_gap,
                           move_weight=args.move_weight, hold_weight=args.hold_weight,
                           guidance=args.guidance, realism=args.realism, realism_trees=args.realism_trees or 0, match=args.match, judge=shipped_or(args.judge, module.board, "judge"),
                           critic=shipped_or(args.critic, module.board, "critic"), **sweep)  # fmt: skip
    elif kind == "ar_transformer":
        from routegen.ar.calibrate import calibrate

        values = calibrate(module, path, judge=shipped_or(args.judge, module.board, "judge"), guidance=args.guidance,
                           realism_trees=args.realism_trees or 0, match=args.match, critic=shipped_or(args.critic, module.board, "critic"), **sweep)  # fmt: skip
    else:
        from routegen.grader.calibrate import calibrate

        values = calibrate(module, path, rule=args.predict_rule, prior_power=args.prior_power, data_dir=args.data_dir)
    if kind in ("cgan", "ar_transformer") and module.match_profiles and "match_profiles" not in values.get(
        module.sampling_group, {}
    ):  # counted with the settings just changed: matching counts each request's candidates until --match again
        values.setdefault(module.sampling_group, {})["match_profiles"] = None
    out = write_hparams(path, args.out, **values)
    settings = ", ".join(f"{group}.{k}={_short(v)}" for group, d in values.items() for k, v in d.items())
    print(f"wrote {out}: {settings}")
    return 0


def _check_options(kind: str | None, args: argparse.Namespace) -> None:
    """A one-line RoutegenError for an option the checkpoint's kind does not take, or for nothing to calibrate."""
    from routegen.generation.realism import MAX_ROUNDS

    if args.realism_trees is not None and not 1 <= args.realism_trees <= MAX_ROUNDS:
        raise RoutegenError(f"--realism-trees takes 1 .. {MAX_ROUNDS} rounds, not {args.realism_trees}")
    cgan_only = (args.placement, args.max_gap, args.move_weight, args.hold_weight, args.realism) != (None,) * 5
    cgan_options = cgan_only or args.match is not None or args.realism_trees or args.guidance is not None
    if kind == "cgan" and (args.predict_rule != "auto" or args.prior_power != "auto"):
        raise RoutegenError("--predict-rule and --prior-power are for grader checkpoints; this is a cGAN")
    if kind != "cgan" and cgan_only:
        this = "an AR transformer" if kind == "ar_transformer" else "a grader"
        raise RoutegenError(f"--placement, --max-gap, --move-weight, --hold-weight and --realism are for cGAN checkpoints; this is "
                            f"{this}")
    if kind not in ("cgan", "ar_transformer") and (args.match is not None or args.realism_trees):
        raise RoutegenError("--match and --realism-trees are for generator checkpoints; this is a grader")
    if kind not in ("ar_transformer", "cgan") and args.guidance is not None:
        raise RoutegenError("--guidance is for generator checkpoints; this is a grader")
    if kind == "cgan" and args.guidance == "auto":
        raise RoutegenError("--guidance auto is for AR transformers; give a cGAN its guidance as a number")
    if kind == "cgan" and not cgan_options:
        raise RoutegenError("nothing to calibrate: give --placement, --move-weight auto|W, --hold-weight auto|W, --realism K, "
                            "--realism-trees and/or --match auto|K")
    if kind == "ar_transformer" and args.guidance is None and args.match is None and not args.realism_trees:
        raise RoutegenError("nothing to calibrate: give --guidance auto|G, --realism-trees and/or --match auto|K for "
                            "an AR transformer")
    if args.max_gap is not None and not 1 <= args.max_gap <= MAX_ROW_GAP:
        raise RoutegenError(f"--max-gap must be 1 .. {MAX_ROW_GAP} rows (the rule's most), not {args.max_gap}")
    if args.match == 0:
        raise RoutegenError("--match must be auto or an integer >= 1 (1 = off)")


def _short(value) -> str:
    if isinstance(value, list):  # per-grade counts (decode_prior)
        return "(counted)"
    return "(fitted)" if isinstance(value, dict) else str(value)
