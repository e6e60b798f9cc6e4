"""Finding, loading and stamping routegen checkpoints: a file or a run directory, of the kind a command expects."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import torch

from routegen.errors import RoutegenError
from routegen.io import atomic_replace

# kind -> LightningModule class path; each module stamps its kind in the checkpoint (on_save_checkpoint -> mark).
KINDS = {
    "grader": "routegen.grader.module:GraderModule",
    "ar_transformer": "routegen.ar.module:ARTransformerModule",
    "cgan": "routegen.gan.module:CGANModule",
}
KIND_KEY = "routegen_kind"
# 2: one package per model family, nested config groups in the hparams. Older checkpoints have flat hparams that
# today's constructors refuse; they are retrained, not converted.
LAYOUT_KEY = "routegen_layout"
LAYOUT = 2
EXPERIMENT = {"grader": "critic", "ar_transformer": "ar", "cgan": "cgan"}  # conf/experiment/<name>.yaml per kind


class CheckpointError(RoutegenError):
    """A checkpoint that is missing, unreadable, of the wrong kind or of an older layout."""


def mark(checkpoint: dict, kind: str) -> None:
    """Stamp a checkpoint being saved with its model kind and the layout (call from on_save_checkpoint)."""
    checkpoint[KIND_KEY] = kind
    checkpoint[LAYOUT_KEY] = LAYOUT


def with_defaults(defaults: Mapping, given: Mapping | None, group: str) -> dict:
    """A config group (a dict or Hydra's DictConfig) merged over its defaults, so that a partial override
    (`model.loss.critic_weight=0`) keeps the rest; an unknown key is a ValueError naming it."""
    given = dict(given or {})
    if unknown := set(given) - set(defaults):
        raise ValueError(f"unknown {group} option(s) {', '.join(sorted(unknown))} (known: {', '.join(defaults)})")
    return {**defaults, **given}


def config_groups(defaults: Mapping[str, Mapping], **given: Mapping | None) -> dict:
    """Every config group of `defaults` ({group: its defaults}) merged with what was given for it (with_defaults;
    a group not given is its defaults), in the order of `defaults`."""
    if unknown := set(given) - set(defaults):
        raise ValueError(f"unknown config group(s) {', '.join(sorted(unknown))} (known: {', '.join(defaults)})")
    return {k: with_defaults(d, given.get(k), k) for k, d in defaults.items()}


def resolve_checkpoint(path: str | Path, prefer: str = "best") -> Path:
    """A .ckpt file as is; a run directory -> its checkpoints/best.ckpt (or last.ckpt)."""
    path = Path(path)
    if path.is_dir():
        for name in (prefer, "best", "last"):
            candidate = path / "checkpoints" / f"{name}.ckpt"
            if candidate.is_file():
                return candidate
        raise CheckpointError(f"no checkpoints/best.ckpt or last.ckpt in run directory {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    return path


def read_checkpoint(path: str | Path) -> dict:
    path = resolve_checkpoint(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a file that is not a checkpoint
        raise CheckpointError(f"not a readable checkpoint: {path} ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"not a Lightning checkpoint: {path}")
    return ckpt


def write_hparams(path: str | Path, out: str | Path | None = None, **values) -> Path:
    """Copy a checkpoint with some hyper-parameters set (post-training calibration, decoding rules) to `out`
    (default: in place), atomically: a temporary file beside it, then renamed over it. A dict value is merged
    into its config group (decode={"realism": 8} keeps decode.move_weight)."""
    ckpt = read_checkpoint(path)
    hparams = ckpt["hyper_parameters"]
    for key, value in values.items():
        old = hparams.get(key)
        hparams[key] = {**old, **value} if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    out = Path(out) if out is not None else resolve_checkpoint(path)
    atomic_replace(out, lambda tmp: torch.save(ckpt, tmp))
    return out


def module_class(kind: str):
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def check_checkpoint(ckpt: dict, path: str | Path, expect: str | tuple[str, ...] | None = None) -> str:
    """The checkpoint's kind, after checking it is one the caller can use (`expect`) and of today's layout."""
    kind = ckpt.get(KIND_KEY)
    if kind not in KINDS:
        raise CheckpointError(f"{path} is not a routegen checkpoint (no model kind recorded)")
    allowed = (expect,) if isinstance(expect, str) else expect
    if allowed and kind not in allowed:
        raise CheckpointError(f"{path} holds a {kind} model; this needs a checkpoint of kind {' or '.join(allowed)}")
    if ckpt.get(LAYOUT_KEY) != LAYOUT:
        raise CheckpointError(
            f"{path} was written by an older routegen (before the package-per-family layout); "
            f"retrain it with `python train.py experiment={EXPERIMENT[kind]}`"
        )
    return kind


def load_module(path: str | Path, expect: str | tuple[str, ...] | None = None):
    """Load a LightningModule in eval mode on the CPU from a checkpoint (file or run dir) or a shipped model's
    card (`routegen/weights/<board>/<name>.json`, weights in safetensors beside it).

    `expect` names the kind(s) the caller can use; another kind, or a checkpoint of an older layout, is a
    CheckpointError saying what to do.
    """
    if Path(path).suffix == ".json":
        from routegen.shipped import load_card_checkpoint, load_checkpoint_dict

        ckpt = load_card_checkpoint(path)
        check_checkpoint(ckpt, path, expect)
        return load_checkpoint_dict(ckpt)
    path = resolve_checkpoint(path)
    kind = check_checkpoint(read_checkpoint(path), path, expect)
    module = module_class(kind).load_from_checkpoint(path, map_location="cpu", weights_only=False)
    return module.eval()
