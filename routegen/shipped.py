"""Shipped pretrained models: safetensors weights beside a JSON card, inside the package.

`routegen/weights/<board>/<name>.safetensors` holds every tensor of a trained checkpoint (the module's state and,
for a generator, its frozen critic); `<name>.json` holds the rest (kind, hyper-parameters, the data it was
trained on, its measured figures, the command that made it, the weights' SHA-256). Loading reads no pickle:
tensors come from safetensors, everything else from JSON, and the module is rebuilt as Lightning would from a
checkpoint. A file whose SHA-256 differs from its card is refused, never loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from routegen.checkpoints import KIND_KEY, LAYOUT_KEY, CheckpointError, check_checkpoint, module_class, read_checkpoint
from routegen.io import atomic_write_bytes, atomic_write_text, readable_json

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
BOARDS = ("2016", "2017")
MODELS = ("critic", "judge", "ar", "cgan")  # what a board may ship; the generators are "ar" and "cgan"
GENERATORS = ("ar", "cgan")
# the generator `routegen sample` uses without --model: the one closest to real routes of the grade on the
# fidelity yardstick (docs/results.md); a board falls back to the first generator it ships
DEFAULT_GENERATOR = {"2016": "ar", "2017": "ar"}
KEEP = ("state_dict", "hyper_parameters", "routegen_data", "routegen_critic", KIND_KEY, LAYOUT_KEY)
TENSOR = "__tensor__"  # a JSON placeholder {"__tensor__": key} for a tensor stored in the safetensors file


def split_tensors(obj, prefix: str, tensors: dict[str, torch.Tensor]):
    """A nested checkpoint value -> JSON-able value, its tensors moved into `tensors` under path-like keys."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous().clone()  # safetensors refuses shared storage
        return {TENSOR: prefix}
    if isinstance(obj, dict):
        return {str(k): split_tensors(v, f"{prefix}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [split_tensors(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    raise CheckpointError(f"cannot ship a checkpoint value of type {type(obj).__name__} at {prefix}")


def join_tensors(obj, tensors: dict[str, torch.Tensor]):
    if isinstance(obj, dict):
        if set(obj) == {TENSOR}:
            return tensors[obj[TENSOR]]
        return {k: join_tensors(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_tensors(v, tensors) for v in obj]
    return obj


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_path(board: str, name: str, weights_dir: Path = WEIGHTS_DIR) -> Path:
    return Path(weights_dir) / str(board) / f"{name}.json"


def export(ckpt: str | Path, board: str, name: str, weights_dir: Path = WEIGHTS_DIR, **card_fields) -> dict:
    """Write `<weights_dir>/<board>/<name>.{safetensors,json}` from a checkpoint (file or run dir); returns the card.

    `card_fields` (figures, command, ...) go into the card as they are.
    """
    from safetensors.torch import save

    checkpoint = read_checkpoint(ckpt)
    check_checkpoint(checkpoint, ckpt)
    tensors: dict[str, torch.Tensor] = {}
    body = split_tensors({k: checkpoint[k] for k in KEEP if k in checkpoint}, "", tensors)
    weights = card_path(board, name, weights_dir).with_suffix(".safetensors")
    atomic_write_bytes(weights, save(tensors))
    module = load_checkpoint_dict(join_tensors(body, tensors))
    hp, data = checkpoint["hyper_parameters"], checkpoint.get("routegen_data") or {}
    if "figures" in card_fields:
        card_fields["figures"] = {"headline": headline(card_fields["figures"]), **card_fields["figures"]}
    card = {
        "name": name,
        "kind": checkpoint[KIND_KEY],
        "board": str(hp.get("board", board)),
        "angle": int(hp.get("angle", 40)),
        "label_scale": hp.get("label", "font"),
        "trained_grades": trained_grades(module),
        "parameters": sum(p.numel() for n, p in module.named_parameters() if not n.startswith("critic.")),
        "data": {"file": data.get("file") or f"moonboard{board}.jsonl.gz", "split_seed": data.get("seed")},
        **card_fields,
        "weights": weights.name,
        "sha256": sha256(weights),
        "checkpoint": body,
    }
    atomic_write_text(card_path(board, name, weights_dir), readable_json(card))
    return card


def trained_grades(module) -> list[str]:
    """Font names of the grades a model was trained on (its class counts), easiest first."""
    from routegen.grades import Grade

    if hasattr(module, "trained_grades"):
        return [Grade.from_number(n).font for n in sorted(module.trained_grades)]
    counts = module.class_counts.tolist()
    return [module.scale.names[i] for i, c in enumerate(counts) if c > 0]


def load_checkpoint_dict(checkpoint: dict):
    """Rebuild a LightningModule from a checkpoint-shaped dict as `load_from_checkpoint` does (no file, no pickle)."""
    module = module_class(checkpoint[KIND_KEY])(**checkpoint["hyper_parameters"])
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval()


def read_card(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"shipped model card not found: {path}")
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"shipped model card {path} is not valid JSON ({e})") from None


def load_card_checkpoint(path: str | Path) -> dict:
    """The checkpoint-shaped dict of a shipped card, after checking its weights against the card's SHA-256."""
    from safetensors.torch import load_file

    path = Path(path)
    card = read_card(path)
    weights = path.with_name(card["weights"])
    if not weights.is_file():
        raise CheckpointError(f"shipped weights missing: {weights}")
    if sha256(weights) != card["sha256"]:
        raise CheckpointError(f"shipped weights {weights} do not match their card's SHA-256 (corrupted?); not loaded")
    return join_tensors(card["checkpoint"], load_file(weights))


def card_to_run(path: str | Path, run_dir: str | Path) -> Path:
    """A shipped card's checkpoint written back as `run_dir/checkpoints/best.ckpt`, a run that `make models`
    reuses instead of training (FROM_SHIPPED=1: recalibrate and re-export the shipped weights). Returns its path."""
    import io

    import pytorch_lightning as pl

    ckpt = load_card_checkpoint(path) | {"pytorch-lightning_version": pl.__version__}  # what Lightning loads by
    out = Path(run_dir) / "checkpoints" / "best.ckpt"
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return out


def cards(weights_dir: Path = WEIGHTS_DIR) -> list[dict]:
    """Every shipped card (without its checkpoint body), by board then model name."""
    out = []
    for board in BOARDS:
        for name in MODELS:
            if (path := card_path(board, name, weights_dir)).is_file():
                out.append({k: v for k, v in read_card(path).items() if k != "checkpoint"} | {"path": str(path)})
    return out


def shipped(board: str, name: str, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """The card of a shipped model; a board or model not shipped is a one-line error listing what is."""
    board = str(board)
    path = card_path(board, name, weights_dir)
    if not path.is_file():
        have = ", ".join(f"{c['board']}/{c['name']}" for c in cards(weights_dir)) or "none"
        raise CheckpointError(f"no shipped {name} model for board {board} (shipped: {have}); pass --ckpt")
    return path


def shipped_generators(board: str, weights_dir: Path = WEIGHTS_DIR) -> list[Path]:
    """The cards of every generator shipped for a board (a one-line error when there is none)."""
    paths = [p for name in GENERATORS if (p := card_path(board, name, weights_dir)).is_file()]
    if not paths:
        raise CheckpointError(f"no shipped generator for board {board}; pass --ckpt")
    return paths


def default_generator(board: str, weights_dir: Path = WEIGHTS_DIR) -> str:
    """The name of the generator `routegen sample` uses on a board when no --model is given."""
    preferred = DEFAULT_GENERATOR.get(str(board), GENERATORS[0])
    if card_path(board, preferred, weights_dir).is_file():
        return preferred
    return next((name for name in GENERATORS if card_path(board, name, weights_dir).is_file()), preferred)


def headline(figures: dict) -> dict:
    """The few figures `routegen models` shows: from `routegen evaluate --json` (a grader) or from
    `routegen evaluate-generator --output` (a generator; the first run, beside the real routes' yardstick)."""
    pct = "{:.1%}".format
    if "metrics" in figures:  # a grader on its test split
        m, base = figures["metrics"]["font model"], figures["metrics"]["font most frequent"]
        return {"exact": pct(m["exact"]), "±1": pct(m["within1"]), "MAE": f"{m['mae']:.3f}",
                "(constant": f"{pct(base['exact'])} / {pct(base['within1'])})"}  # fmt: skip
    if figures.get("runs"):
        run, real = figures["runs"][0], figures["yardstick"]
        out = {}
        if (fid := run.get("fidelity")) and (floor := real.get("fidelity")):
            out["2-sample AUC"] = f"{fid['auc']:.3f} (floor {floor['auc']:.3f})"
            out["judged W1"] = f"{fid['w1_judged']:.2f} (floor {floor['w1_judged']:.2f})"
        if spread := run.get("spread"):
            out["top end"] = f"{spread['end_top']} {pct(spread['end_top_share'])}"
        return out
    return {}
