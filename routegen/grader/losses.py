"""Loss heads: how a grader's raw outputs become a loss, class probabilities and an expected class.

- `ce`: C logits, cross-entropy with label smoothing and optional class weights.
- `ordinal`: C - 1 logits, CORN (Shi et al. 2021): logit k models P(y > k | y > k - 1), trained on the
  examples that reached step k; probabilities are rank-consistent by construction.
- `mse`: one number on the class-index scale (0 .. C - 1), squared error (to the nearest end of a range). Its
  "distribution" is a one-hot of the rounded, clamped prediction (a point estimate has no spread to report);
  `expected` is the number itself, so it stays differentiable.

Every head also takes a label *range* `[y, y_high]` (a V-only problem: V5 is 6C or 6C+): its likelihood is the
probability of the whole range, so the head learns the V level without being told a Font grade it was never
given. With y_high = y (or None) each loss is exactly the usual one.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

LOSSES = ("ce", "ordinal", "mse")


class LossHead(nn.Module):
    def __init__(self, num_classes: int, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.register_buffer("weight", weight if weight is not None else torch.ones(num_classes))

    out_dim: int

    def forward(self, out: torch.Tensor, y: torch.Tensor, y_high: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        """(B, C) class probabilities."""
        raise NotImplementedError

    def expected(self, out: torch.Tensor) -> torch.Tensor:
        """(B,) expected class index (float, differentiable)."""
        return self.probs(out) @ torch.arange(self.num_classes, dtype=out.dtype, device=out.device)


class CrossEntropyHead(LossHead):
    def __init__(self, num_classes: int, weight: torch.Tensor | None = None, label_smoothing: float = 0.0) -> None:
        super().__init__(num_classes, weight)
        self.out_dim = num_classes
        self.label_smoothing = label_smoothing

    def forward(self, out: torch.Tensor, y: torch.Tensor, y_high: torch.Tensor | None = None) -> torch.Tensor:
        if y_high is None or bool((y_high == y).all()):
            return F.cross_entropy(out, y, weight=self.weight, label_smoothing=self.label_smoothing)
        per = F.cross_entropy(out, y, weight=self.weight, label_smoothing=self.label_smoothing, reduction="none")
        k = torch.arange(self.num_classes, device=out.device)
        in_range = (k >= y[:, None]) & (k <= y_high[:, None])
        ranged = out.logsumexp(-1) - out.masked_fill(~in_range, float("-inf")).logsumexp(-1)  # -log P(range)
        w = self.weight[y]
        per = torch.where(y_high == y, per, ranged * w)  # reduction="none" already weighted the exact rows
        return per.sum() / w.sum()

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        return out.softmax(-1)


class CornHead(LossHead):
    def __init__(self, num_classes: int, weight: torch.Tensor | None = None) -> None:
        super().__init__(num_classes, weight)
        self.out_dim = num_classes - 1

    def forward(self, out: torch.Tensor, y: torch.Tensor, y_high: torch.Tensor | None = None) -> torch.Tensor:
        # -log P(y <= class <= y_high) = -sum_{k < y} log s_k - log(1 - prod_{y <= k <= y_high} s_k), with
        # s_k = sigmoid(logit k); the last class has no step of its own (the product is then 0). For one class
        # this is CORN's binary cross-entropy over the steps the example reaches (y + 1 of them, or C - 1).
        y_high = y if y_high is None else y_high
        k = torch.arange(self.out_dim, device=out.device)
        log_s = F.logsigmoid(out)
        passed = (log_s * (k < y[:, None])).sum(-1)
        in_range = (k >= y[:, None]) & (k <= y_high[:, None])
        has_step = y_high < self.out_dim
        x = (log_s * in_range).sum(-1).clamp(max=-1e-7)  # log prod s_k < 0
        log1mexp = torch.where(x > -0.693, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))
        one_step = F.logsigmoid(-out.gather(1, y.clamp(max=self.out_dim - 1)[:, None])[:, 0])  # exact, no clamp
        stays = torch.where(y_high == y, one_step, log1mexp)  # log(1 - prod s_k)
        nll = -(passed + torch.where(has_step, stays, torch.zeros_like(stays)))
        steps = y.float() + has_step.float()
        w = self.weight[y]
        return (nll * w).sum() / (steps * w).sum().clamp(min=1.0)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        above = torch.cumprod(torch.sigmoid(out), dim=-1)  # (B, K): P(y > k)
        ones, zeros = torch.ones_like(above[:, :1]), torch.zeros_like(above[:, :1])
        cum = torch.cat([ones, above, zeros], dim=-1)  # P(y > k - 1) for k = 0 .. C
        return (cum[:, :-1] - cum[:, 1:]).clamp(min=0.0)


class MSEHead(LossHead):
    def __init__(self, num_classes: int, weight: torch.Tensor | None = None) -> None:
        super().__init__(num_classes, weight)
        self.out_dim = 1

    def forward(self, out: torch.Tensor, y: torch.Tensor, y_high: torch.Tensor | None = None) -> torch.Tensor:
        y_high = y if y_high is None else y_high
        x = out[:, 0]
        err = (y.float() - x).clamp(min=0) + (x - y_high.float()).clamp(min=0)  # 0 inside the range
        w = self.weight[y]
        return (err.pow(2) * w).sum() / w.sum()

    def expected(self, out: torch.Tensor) -> torch.Tensor:
        return out[:, 0].clamp(0.0, self.num_classes - 1)

    def probs(self, out: torch.Tensor) -> torch.Tensor:
        return F.one_hot(self.expected(out).round().long(), self.num_classes).to(out.dtype)


def build_loss(
    name: str, num_classes: int, weight: torch.Tensor | None = None, label_smoothing: float = 0.0
) -> LossHead:
    if name == "ce":
        return CrossEntropyHead(num_classes, weight, label_smoothing)
    if name == "ordinal":
        return CornHead(num_classes, weight)
    if name == "mse":
        return MSEHead(num_classes, weight)
    raise ValueError(f"unknown loss {name!r} (expected one of {', '.join(LOSSES)})")


def class_weights(counts: torch.Tensor, power: float = 0.5) -> torch.Tensor:
    """Inverse-frequency weights (counts ** -power), normalised to mean 1 over the seen classes."""
    w = counts.clamp(min=1.0).pow(-power) * (counts > 0)
    return w * (counts > 0).sum() / w.sum().clamp(min=1e-12)


def predict_class(
    probs: torch.Tensor, how: str = "argmax", prior: torch.Tensor | None = None, prior_power: float = 0.0,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:  # fmt: skip
    """(B,) class from a distribution: `argmax` (mode), `median`, `expected` (rounded mean), or `group_argmax`:
    the most likely group (`groups[c]`, e.g. the V grade of Font class c), then the most likely class in it.

    `prior_power` tau > 0 first divides by the training prior ** tau (post-hoc logit adjustment): rarer grades
    get answered more often, trading exact accuracy on 6B+ for macro-F1. Tuned on val, never on test.
    """
    if prior is not None and prior_power > 0:
        probs = probs / torch.where(prior > 0, prior, 1.0).pow(prior_power)  # unseen grades stay unboosted
        probs = probs / probs.sum(-1, keepdim=True)
    if how == "argmax":
        return probs.argmax(-1)
    if how == "group_argmax":
        if groups is None:
            raise ValueError("group_argmax needs the class -> group map")
        group_p = torch.zeros(len(probs), int(groups.max()) + 1, dtype=probs.dtype, device=probs.device)
        best = group_p.index_add_(1, groups, probs).argmax(-1)  # (B,)
        return probs.masked_fill(groups[None, :] != best[:, None], -1.0).argmax(-1)
    if how == "median":
        return (probs.cumsum(-1) < 0.5).sum(-1).clamp(max=probs.shape[-1] - 1)
    if how == "expected":
        idx = torch.arange(probs.shape[-1], dtype=probs.dtype, device=probs.device)
        return (probs @ idx).round().long()
    raise ValueError(f"unknown prediction rule {how!r} (expected argmax, median, expected or group_argmax)")
