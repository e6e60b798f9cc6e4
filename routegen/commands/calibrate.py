"""Calibrate a trained checkpoint on its VALIDATION split and write the result into it (atomically).

cGAN: --move-weight auto|W chooses (or sets) how much the grade's move shares count in decoding, by the
real-vs-generated AUC on the validation routes (routegen/gan/calibrate.py); --hold-weight auto|W (re)counts the
training split's start / end hold shares into the decode prior and chooses (or sets) how much they count, by
the start / end hold spread and the AUC on the validation routes; --realism K fits the
discriminator's realism head (on the training split, its accuracy shown on validation) and makes K candidates
per route the default. Grader: --predict-rule and --prior-power (each auto unless given) choose how a
distribution becomes one grade, by validation MAE (routegen/grader/calibrate.py).

Examples:
  routegen calibrate --ckpt runs/cgan --move-weight auto --realism 8
  routegen calibrate --ckpt runs/cgan --hold-weight auto -n 100
  routegen calibrate --ckpt runs/critic --predict-rule argmax --prior-power auto
"""

from __future__ import annotations

import argparse

from routegen.commands.args import domain, grade_list
from routegen.errors import RoutegenError

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
    p.add_argument("--hold-weight", type=auto_or(float), metavar="auto|W",
                   help="cGAN: count the start / end hold shares, choose their weight on val, or set W")  # fmt: skip
    p.add_argument(
        "--realism",
        type=domain("realism"),
        metavar="K",
        help="cGAN: fit the realism head, default K candidates per route",
    )
    p.add_argument("--predict-rule", default="auto", metavar="auto|RULE",
                   help="grader: argmax, group_argmax, median or expected (default: auto)")  # fmt: skip
    p.add_argument("--prior-power", type=auto_or(float), default="auto", metavar="auto|P",
                   help="grader: divide by the training prior ** P before predicting (default: auto)")  # fmt: skip
    p.add_argument(
        "-n", type=domain("n"), default=200, help="cGAN move / hold weight: routes per grade and seed (default 200)"
    )
    p.add_argument("--grades", type=grade_list,
                   help="cGAN move / hold weight: grades to compare on (default 6B+ to 7C+, as evaluate-generator)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="sampling seed (the move weight uses it and the next)")
    p.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="cGAN: the split seed it was trained with, when its checkpoint recorded no data settings (default 0)",
    )
    p.add_argument("--guidance", type=auto_or(float), metavar="auto|G",
                   help="AR: classifier-free guidance by the fidelity yardstick on validation (auto) or set")  # fmt: skip
    p.add_argument("--judge", help="AR --guidance: the independent grader (default: the shipped judge)")
    p.add_argument("--data-dir", help="data directory (default: the grader's own, else routegen's default)")


def run(args: argparse.Namespace) -> int:
    from routegen.checkpoints import load_module, resolve_checkpoint, write_hparams
    from routegen.generation.evaluate import DEFAULT_GRADES
    from routegen.io import check_output_file

    if args.out:  # checked before the checkpoint loads
        check_output_file(args.out, "--out")
    args.grades = args.grades or grade_list(DEFAULT_GRADES)
    path = resolve_checkpoint(args.ckpt)
    module = load_module(path, expect=("cgan", "grader", "ar_transformer"))
    if getattr(module, "kind", None) == "cgan":
        values = calibrate_cgan(module, path, args)
    elif getattr(module, "kind", None) == "ar_transformer":
        values = calibrate_ar(module, path, args)
    else:
        values = calibrate_grader(module, path, args)
    out = write_hparams(path, args.out, **values)
    settings = ", ".join(f"{group}.{k}={_short(v)}" for group, d in values.items() for k, v in d.items())
    print(f"wrote {out}: {settings}")
    return 0


def calibrate_cgan(module, path, args) -> dict:
    from routegen.gan import calibrate as cal
    from routegen.gan.calibrate import MOVE_WEIGHTS, best_move_weight, fit_head, format_move_weights, move_weight_table

    if args.predict_rule != "auto" or args.prior_power != "auto":
        raise RoutegenError("--predict-rule and --prior-power are for grader checkpoints; this is a cGAN")
    if args.guidance is not None:
        raise RoutegenError("--guidance is for AR transformer checkpoints; this is a cGAN")
    if args.move_weight is None and args.realism is None and args.hold_weight is None:
        raise RoutegenError("nothing to calibrate: give --move-weight auto|W, --hold-weight auto|W and/or --realism K")
    splits = cal.cgan_splits(path, module, args.data_dir, args.split_seed)
    decode, values = {}, {}
    if args.move_weight is not None:
        weights = MOVE_WEIGHTS if args.move_weight == "auto" else (args.move_weight,)
        table = move_weight_table(module, splits["val"], args.grades, weights=weights, seeds=(args.seed, args.seed + 1),
                                  n=args.n)  # fmt: skip
        print(f"cGAN {path}, validation split (seed {args.split_seed}): {table['n_real']} real routes; {args.n} "
              "generated per grade and seed, one per target (realism 1); real-vs-generated AUC (0.5 = can't tell)")  # fmt: skip
        print(format_move_weights(table))
        decode["move_weight"] = best_move_weight(table)
        module.hparams.decode["move_weight"] = decode["move_weight"]  # the head below learns from these routes
        print(f"move weight {decode['move_weight']}" + (" (lowest mean AUC)" if args.move_weight == "auto" else ""))
    if args.hold_weight is not None:
        shares = cal.hold_shares(module, splits["train"])
        cal.set_hold_shares(module, shares)
        values["decode_prior"] = shares
        weights = cal.HOLD_WEIGHTS if args.hold_weight == "auto" else (args.hold_weight,)
        table = cal.hold_weight_table(module, splits["val"], args.grades, weights=weights,
                                      seeds=(args.seed, args.seed + 1), n=args.n)  # fmt: skip
        print(f"cGAN {path}, validation split: {table['n_real']} real routes; {args.n} generated per grade and seed "
              "(realism 1); start / end hold spread (top hold, its share, effective number) vs the real routes'")  # fmt: skip
        print(cal.format_hold_weights(table))
        decode["hold_weight"] = cal.best_hold_weight(table)
        module.hparams.decode["hold_weight"] = decode["hold_weight"]
        print(f"hold weight {decode['hold_weight']}"
              + (" (closest spread, AUC within noise of the lowest weight)" if args.hold_weight == "auto" else ""))  # fmt: skip
    if args.realism is not None:
        head, val_accuracy = fit_head(module, splits["train"], splits["val"], seed=args.seed)
        print(f"realism head: fitted on {head['n_real']} real + {head['n_fake']} decoded training routes "
              f"(accuracy {head['train_accuracy']:.3f}); validation accuracy {val_accuracy:.3f}; default K {args.realism}")  # fmt: skip
        decode |= {"realism": args.realism, "realism_head": head}
    return {"decode": decode} | values


def calibrate_ar(module, path, args) -> dict:
    from routegen.ar.calibrate import GUIDANCES, best_guidance, format_guidances, guidance_table
    from routegen.commands.args import shipped_or
    from routegen.grader.critic import Critic

    if args.guidance is None:
        raise RoutegenError("nothing to calibrate: give --guidance auto|G for an AR transformer")
    guidances = GUIDANCES if args.guidance == "auto" else (args.guidance,)
    judge = Critic.load(shipped_or(args.judge, module.board, "judge"))
    rows = guidance_table(module, judge, args.grades, n=args.n, seed=args.seed, split_seed=args.split_seed,
                          data_dir=args.data_dir, guidances=guidances)  # fmt: skip
    print(f"AR transformer {path}, validation split: grade-aware two-sample AUC and judged-grade W1 of {args.n} "
          "routes per grade (docs/fidelity.md)")  # fmt: skip
    print(format_guidances(rows))
    choice = best_guidance(rows)
    print(f"guidance {choice}" + (" (lowest AUC; W1 among those within noise)" if len(rows) > 1 else ""))
    return {"sample": {"guidance": choice}}


def calibrate_grader(module, path, args) -> dict:
    import torch

    from routegen.grader.calibrate import POWERS, RULES, best_rule, format_rules, rule_table
    from routegen.grader.evaluate import grader_probs, split_data

    if args.move_weight is not None or args.realism is not None or args.hold_weight is not None:
        raise RoutegenError("--move-weight, --hold-weight and --realism are for cGAN checkpoints; this is a grader")
    if args.guidance is not None:
        raise RoutegenError("--guidance is for AR transformer checkpoints; this is a grader")
    if args.predict_rule not in ("auto", *RULES):
        raise RoutegenError(
            f"unknown --predict-rule {args.predict_rule!r} (expected auto or one of {', '.join(RULES)})"
        )
    rules = RULES if args.predict_rule == "auto" else (args.predict_rule,)
    powers = POWERS if args.prior_power == "auto" else (args.prior_power,)
    routes, labels = split_data(module, "val", args.data_dir)
    rows = rule_table(module, grader_probs(module, routes), torch.tensor(labels), rules, powers)
    print(f"grader {path} ({module.scale.name} labels), validation split: {len(routes)} routes")
    print(format_rules(rows))
    best = best_rule(rows, module.scale.name)
    m = best["table"][f"{module.scale.name} model"]
    print(f"rule {best['rule']}, prior power {best['prior_power']}: validation {module.scale.name} MAE {m['mae']:.3f}, "
          f"exact {m['exact']:.3f}" + (" (lowest MAE)" if len(rows) > 1 else ""))  # fmt: skip
    return {"predict": {"rule": best["rule"], "prior_power": best["prior_power"]}}


def _short(value) -> str:
    if isinstance(value, list):  # per-grade counts (decode_prior)
        return "(counted)"
    return "(fitted)" if isinstance(value, dict) else str(value)
