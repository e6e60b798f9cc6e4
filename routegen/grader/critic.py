"""The frozen critic: a trained grader wrapped for other models and commands, and how a generator carries one.

`Critic.load(path)` takes a grader checkpoint (file or run dir). It is an nn.Module that stays in eval mode
with no trainable parameters even when a parent module calls `.train()`, so a generator can keep one inside
its LightningModule (outside its optimisers) and differentiate through it w.r.t. relaxed (B, 3, 18, 11) grids.

Both generators hold their critic the same way (`load_critic` in setup, `save_critic` / `restore_critic` in
their checkpoint hooks), so a generator checkpoint works without the grader's own files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from routegen.checkpoints import load_module
from routegen.data import LabelScale
from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.grader.losses import predict_class
from routegen.grades import Grade
from routegen.route import Route


@dataclass(frozen=True)
class CriticScore:
    grade: Grade  # the predicted grade (for a V-scale critic: the easiest Font grade of the predicted V)
    number: int  # grade.number, 1 .. 16
    v: int  # predicted V grade
    expected: float  # expected grade number under the critic's distribution (1 .. 16)
    confidence: float  # probability of the predicted class
    top3: list[tuple[str, float]]  # [(grade name on the critic's scale, probability)] most likely first


class Critic(nn.Module):
    def __init__(self, module) -> None:
        super().__init__()
        self.net = module.net
        self.loss_head = module.loss_head
        self.scale: LabelScale = module.scale
        self.board: str = str(module.hparams.board)
        self.angle: int = int(module.hparams.angle)
        self.predict, self.prior_power = module.predict_rule
        # its expected grade on validation routes per grade (`routegen calibrate`): what --match matches
        self.profiles: dict | None = module.hparams.get("profiles")
        self.register_buffer("prior", module.prior.detach().clone())
        self.register_buffer("v_groups", module.v_groups)
        self.arch: str = module.arch
        self.data_hparams: dict = dict(getattr(module, "data_hparams", {}) or {})
        # what rebuilds the grader inside a generator's checkpoint (save_critic / restore_critic)
        self.recipe = {
            "hparams": dict(module.hparams),
            "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
            "data_hparams": self.data_hparams,
        }
        numbers = [self.scale.number_of_class(i) for i in range(self.scale.num_classes)]
        self.register_buffer("class_numbers", torch.tensor(numbers, dtype=torch.float))
        self.eval().requires_grad_(False)

    @classmethod
    def load(cls, path: str | Path) -> Critic:
        """From a grader checkpoint or run dir; another kind or a non-checkpoint is a CheckpointError."""
        return cls(load_module(path, expect="grader"))

    def train(self, mode: bool = True) -> Critic:
        """Always eval: a parent's `.train()` must not switch dropout back on."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return self.class_numbers.device

    def logits(self, grids: torch.Tensor) -> torch.Tensor:
        """Raw outputs of the grader's loss head: (B, C) logits, (B, C - 1) ordinal logits or (B, 1) a number."""
        return self.net(grids)

    def probs(self, grids: torch.Tensor) -> torch.Tensor:
        """(B, C) class probabilities on the critic's scale (regression critics: one-hot of the rounded number)."""
        return self.loss_head.probs(self.logits(grids))

    def expected_number(self, grids: torch.Tensor) -> torch.Tensor:
        """(B,) expected grade on the numbered scale 1 .. 16; differentiable w.r.t. relaxed grids.

        Classifiers: sum_k p_k * number(k). Regression: the predicted class index, mapped piecewise-linearly
        through the class numbers (identity + 1 for Font; the V grades' Font numbers for V).
        """
        out = self.logits(grids)
        if self.loss_head.out_dim == 1:
            x = self.loss_head.expected(out)  # (B,) in 0 .. C - 1
            lo = x.floor().long().clamp(max=self.scale.num_classes - 2)
            frac = x - lo
            return self.class_numbers[lo] * (1 - frac) + self.class_numbers[lo + 1] * frac
        return self.loss_head.probs(out) @ self.class_numbers

    @torch.no_grad()
    def score(self, routes: list[Route], batch_size: int = 512) -> list[CriticScore]:
        scores: list[CriticScore] = []
        for i in range(0, len(routes), batch_size):
            grids = routes_to_grids(routes[i : i + batch_size]).to(self.device)
            probs = self.probs(grids)
            expected = self.expected_number(grids)
            pred = self.predict_classes(probs)
            top_p, top_i = probs.topk(min(3, probs.shape[1]), dim=1)
            for b in range(len(grids)):
                c = int(pred[b])
                number = int(self.class_numbers[c])
                scores.append(
                    CriticScore(
                        grade=Grade.from_number(number),
                        number=number,
                        v=self.scale.v_of_class(c),
                        expected=float(expected[b]),
                        confidence=float(probs[b, c]),
                        top3=[(self.scale.names[int(j)], float(p)) for p, j in zip(top_p[b], top_i[b])],
                    )
                )
        return scores

    def predict_classes(self, probs: torch.Tensor) -> torch.Tensor:
        """(B,) the class the critic answers (its grader's prediction rule: argmax, median or expected)."""
        return predict_class(probs, self.predict, self.prior, self.prior_power, self.v_groups)


# --- How a generator carries its frozen critic ------------------------------------------------------------
# Not in the generator's state dict: strict loading would need the grader's architecture before the checkpoint
# is read. The grader's hparams and weights (its "recipe") go under CRITIC_KEY and rebuild it on load.

CRITIC_KEY = "routegen_critic"


def load_critic(path: str | Path, board: str) -> Critic:
    """A generator's critic from a grader checkpoint; one for another board is a RoutegenError."""
    critic = Critic.load(path)
    if critic.board != board:
        raise RoutegenError(f"critic is for board {critic.board}; this model is for board {board}")
    return critic


def save_critic(critic: Critic | None, checkpoint: dict) -> None:
    """on_save_checkpoint: the critic's recipe under CRITIC_KEY instead of its weights in the state dict."""
    _drop_critic_state(checkpoint["state_dict"])
    checkpoint[CRITIC_KEY] = critic.recipe if critic is not None else None


def restore_critic(checkpoint: dict, critic: Critic | None = None) -> Critic | None:
    """on_load_checkpoint: the critic rebuilt from its recipe (or the one the generator already has), its
    weights put back into the state dict so that strict loading finds them as built."""
    from routegen.grader.module import GraderModule

    saved, state_dict = checkpoint.get(CRITIC_KEY), checkpoint["state_dict"]
    if critic is None and saved:
        grader = GraderModule(**saved["hparams"])
        grader.load_state_dict(saved["state_dict"])
        grader.data_hparams = dict(saved.get("data_hparams") or {})
        critic = Critic(grader)
    _drop_critic_state(state_dict)
    if critic is not None:
        state_dict.update({f"critic.{k}": v for k, v in critic.state_dict().items()})
    return critic


def _drop_critic_state(state_dict: dict) -> None:
    for k in [k for k in state_dict if k.startswith("critic.")]:
        del state_dict[k]
