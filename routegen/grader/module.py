"""GraderModule: any zoo network + any loss head, trained on the grade classes (kind "grader").

The checkpoint carries what `routegen evaluate` needs to rebuild the split (data hparams under
`routegen_data`) and the training class counts (a buffer), so no Hydra config is needed to reuse it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger

from routegen.checkpoints import config_groups, mark
from routegen.data import LabelScale
from routegen.grader.losses import build_loss, class_weights, predict_class
from routegen.grader.metrics import confusion, confusion_figure, evaluate_classes, flat_metrics, format_table
from routegen.grader.nets import build_grader
from routegen.io import atomic_savefig, atomic_write_text

log = logging.getLogger(__name__)
DATA_KEY = "routegen_data"
# which network sizes each architecture takes (the rest of `net` is ignored by it)
ARCH_ARGS = {
    "linear": (),
    "perceptron": (),
    "polynomial": ("rank", "dropout"),
    "mlp": ("hidden", "n_layer", "dropout"),
    "transformer": ("d_model", "n_layer", "n_head", "dropout"),
}
# each config group's defaults; a partial group (`model.net.d_model=128`) keeps the rest
DEFAULTS = {
    "net": {"arch": "transformer", "d_model": 96, "n_layer": 3, "n_head": 4, "hidden": 256, "rank": 16, "dropout": 0.1},
    # ce | ordinal (CORN) | mse; label smoothing for ce; class_weighting p > 0 weights the loss by count ** -p
    "loss": {"name": "ce", "label_smoothing": 0.0, "class_weighting": 0.0},
    # argmax | median | expected | group_argmax; prior_power p > 0 divides by the training prior ** p first
    "predict": {"rule": "argmax", "prior_power": 0.0},
    # AdamW; cosine = linear warm-up over warmup_pct of the steps, then cosine decay; or none
    "optim": {"lr": 1e-3, "weight_decay": 0.01, "scheduler": "cosine", "warmup_pct": 0.1},
}


class GraderModule(pl.LightningModule):
    monitor = ("val/mae", "min")  # mean absolute class error of the chosen prediction rule

    def __init__(
        self,
        board: str = "2016",
        angle: int = 40,
        label: str = "font",
        net: Mapping | None = None,
        loss: Mapping | None = None,
        predict: Mapping | None = None,
        optim: Mapping | None = None,
        profiles: Mapping | None = None,  # written by `routegen calibrate` (generation/match.py), not configured
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            config_groups(DEFAULTS, net=net, loss=loss, predict=predict, optim=optim)
            | {"board": board, "angle": angle, "label": label, "profiles": profiles}
        )
        net_hp = self.hparams.net
        if net_hp["arch"] not in ARCH_ARGS:
            raise ValueError(f"unknown grader arch {net_hp['arch']!r} (expected one of {', '.join(ARCH_ARGS)})")
        self.scale = LabelScale(label)
        C = self.scale.num_classes
        self.loss_head = build_loss(self.hparams.loss["name"], C, label_smoothing=self.hparams.loss["label_smoothing"])
        self.net = build_grader(
            net_hp["arch"], self.loss_head.out_dim, **{k: net_hp[k] for k in ARCH_ARGS[net_hp["arch"]]}
        )
        self.register_buffer("class_counts", torch.zeros(C))  # training split, filled at fit time
        self.data_hparams: dict = {}
        self._test: list[tuple[torch.Tensor, torch.Tensor]] = []

    @property
    def arch(self) -> str:
        return str(self.hparams.net["arch"])

    @property
    def predict_rule(self) -> tuple[str, float]:
        """(rule, prior_power): how this grader turns class probabilities into one answer."""
        return str(self.hparams.predict["rule"]), float(self.hparams.predict["prior_power"])

    # --- what the Critic and the CLI use -----------------------------------------------------------------
    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        """Raw outputs of the loss head's kind (logits, ordinal logits or a number)."""
        return self.net(grid)

    def probs(self, grid: torch.Tensor) -> torch.Tensor:
        return self.loss_head.probs(self(grid))

    @property
    def prior(self) -> torch.Tensor:
        return self.class_counts / self.class_counts.sum().clamp(min=1.0)

    def predict_classes(self, probs: torch.Tensor) -> torch.Tensor:
        """(B,) the answered class: the prediction rule (and prior adjustment) the hparams name."""
        rule, power = self.predict_rule
        return predict_class(probs, rule, self.prior, power, self.v_groups.to(probs.device))

    @property
    def v_groups(self) -> torch.Tensor:
        """(C,) the V grade index of each class (identity for V-labelled graders)."""
        return torch.tensor([self.scale.v_of_class(i) for i in range(self.scale.num_classes)]) - 3

    # --- training ----------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None:
            return
        if stage == "fit" and self.class_counts.sum() == 0:
            self.class_counts.copy_(dm.class_counts)
            if (p := self.hparams.loss["class_weighting"]) > 0:
                self.loss_head.weight.copy_(class_weights(self.class_counts, p))
        self.data_hparams = {k: v for k, v in dict(dm.hparams).items() if k != "manifest_path"}

    def _step(self, batch, stage: str) -> torch.Tensor:
        grid, y, y_high = batch[0], batch[1], batch[-1]  # y_high: top of a label range (= y for graded ones)
        out = self(grid)
        loss = self.loss_head(out, y, y_high)
        sync = stage != "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, on_epoch=True, on_step=stage == "train", sync_dist=sync,
                 batch_size=len(y))  # fmt: skip
        if stage != "train":
            err = (self.predict_classes(self.loss_head.probs(out)) - y).abs().float()
            for name, value in (
                ("mae", err.mean()),
                ("exact", (err == 0).float().mean()),
                ("within1", (err <= 1).float().mean()),
            ):
                self.log(f"{stage}/{name}", value, prog_bar=name == "mae", sync_dist=True, batch_size=len(y))
        return loss if stage == "train" else out

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        out = self._step(batch, "test")
        self._test.append((self.loss_head.probs(out).detach().float(), batch[1]))

    def on_test_epoch_start(self) -> None:
        self._test = []

    def on_test_epoch_end(self) -> None:
        probs = torch.cat([p for p, _ in self._test]) if self._test else torch.zeros(0, self.scale.num_classes)
        y = torch.cat([t for _, t in self._test]) if self._test else torch.zeros(0, dtype=torch.long)
        if self.trainer.world_size > 1:  # every rank scored its shard; gather them (padding repeats are few)
            probs, y = self.all_gather(probs).flatten(0, 1), self.all_gather(y).flatten()
        table = self.evaluate(probs, y)
        self.log_dict(flat_metrics(table, "test"), rank_zero_only=True)
        if self.trainer.is_global_zero:
            self._report(table, probs, y)

    def evaluate(self, probs: torch.Tensor, y: torch.Tensor) -> dict[str, dict[str, float]]:
        """The metric table (model and baselines) of class probabilities against true classes."""
        pred = self.predict_classes(probs).cpu().numpy()
        counts = self.class_counts.long().cpu().numpy()
        train_y = np.repeat(np.arange(len(counts)), counts)
        return evaluate_classes(self.scale, y.cpu().numpy(), pred, probs.cpu().numpy(), train_y)

    def _report(self, table: dict, probs: torch.Tensor, y: torch.Tensor) -> None:
        text = format_table(table)
        log.info("test metrics\n%s", text)
        print(text)
        run_dir = Path(self.trainer.default_root_dir)
        atomic_write_text(run_dir / "test_metrics.json", json.dumps(table, indent=1))
        cm = confusion(y.cpu().numpy(), self.predict_classes(probs).cpu().numpy(), self.scale.num_classes)
        fig = confusion_figure(cm, self.scale.names, f"{self.arch} grader, test split")
        atomic_savefig(fig, run_dir / "confusion_test.png", dpi=120)
        for lg in self.loggers:
            if isinstance(lg, WandbLogger):
                lg.log_image("test/confusion", [fig])
        import matplotlib.pyplot as plt

        plt.close(fig)

    def configure_optimizers(self):
        hp = self.hparams.optim
        # nanoGPT's split: matrices and embeddings decay, biases and norms don't
        decay = [p for p in self.parameters() if p.dim() >= 2]
        rest = [p for p in self.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": rest, "weight_decay": 0.0}], lr=hp["lr"]
        )
        if hp["scheduler"] == "none":
            return opt
        if hp["scheduler"] != "cosine":
            raise ValueError(f"unknown scheduler {hp['scheduler']!r} (expected cosine or none)")
        # linear warm-up then cosine to zero; a LambdaLR (not OneCycleLR) so a resumed run may extend max_epochs
        steps = max(int(self.trainer.estimated_stepping_batches), 1)
        warm = max(int(hp["warmup_pct"] * steps), 1)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(steps - warm, 1))))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "name": "lr"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        mark(checkpoint, "grader")
        checkpoint[DATA_KEY] = self.data_hparams

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.data_hparams = dict(checkpoint.get(DATA_KEY) or {})
