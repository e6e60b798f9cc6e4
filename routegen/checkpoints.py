"""Finding and loading routegen checkpoints: a file or a run directory, of the kind a command expects."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from routegen.errors import RoutegenError

# kind -> LightningModule class path; each module stores its kind in the checkpoint (on_save_checkpoint).
KINDS = {
    "grader": "routegen.grader.module:GraderModule",
    "ar_transformer": "routegen.ar.module:ARTransformerModule",
    "cgan": "routegen.gan.module:CGANModule",
}
KIND_KEY = "routegen_kind"


class CheckpointError(RoutegenError):
    """A checkpoint that is missing, unreadable, or of the wrong kind."""


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
    (default: in place), atomically: a temporary file beside it, then renamed over it."""
    ckpt = read_checkpoint(path)
    ckpt["hyper_parameters"].update(values)
    out = Path(out) if out is not None else resolve_checkpoint(path)
    tmp = out.with_name(f".{out.name}.tmp")
    torch.save(ckpt, tmp)
    tmp.replace(out)
    return out


def checkpoint_kind(path: str | Path) -> str:
    kind = read_checkpoint(path).get(KIND_KEY)
    if kind not in KINDS:
        raise CheckpointError(f"{path} is not a routegen checkpoint (no model kind recorded)")
    return kind


def module_class(kind: str):
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def load_module(path: str | Path, expect: str | tuple[str, ...] | None = None):
    """Load a LightningModule from a checkpoint (file or run dir) in eval mode on the CPU.

    `expect` names the kind(s) the caller can use; another kind is a CheckpointError naming both.
    """
    path = resolve_checkpoint(path)
    kind = checkpoint_kind(path)
    allowed = (expect,) if isinstance(expect, str) else expect
    if allowed and kind not in allowed:
        raise CheckpointError(f"{path} holds a {kind} model; this needs a checkpoint of kind {' or '.join(allowed)}")
    module = module_class(kind).load_from_checkpoint(path, map_location="cpu", weights_only=False)
    return module.eval()
