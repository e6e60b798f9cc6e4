"""The data splits a trained generator was fitted on, for post-training calibration (routegen calibrate)."""

from __future__ import annotations


def generator_splits(path, module, data_dir=None, split_seed: int = 0) -> dict:
    """The train / val / test split a generator was trained with, rebuilt from the data settings its checkpoint
    recorded (the datamodule's: data dir, V-only files, split seed and fractions); `data_dir` overrides the
    recorded directory. A checkpoint without them (or a shipped card): the module's board, angle and label
    with the default fractions and `split_seed`."""
    from routegen.checkpoints import read_checkpoint
    from routegen.data import load_problems, split_problems

    try:
        hp = dict(read_checkpoint(path).get("datamodule_hyper_parameters") or {})
    except Exception:  # not a checkpoint file (a shipped card): no recorded data settings
        hp = {}
    label = module.scale.name
    problems = load_problems(data_dir or hp.get("dir"), hp.get("board", module.board), hp.get("angle", module.angle),
                             label, hp.get("include_v_only"))  # fmt: skip
    if not hp:
        return split_problems(problems, label, split_seed)
    return split_problems(problems, label, hp["seed"], hp["val_fraction"], hp["test_fraction"])
