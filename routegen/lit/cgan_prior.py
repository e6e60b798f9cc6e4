"""The cGAN's decoding prior: the training routes' hold / start / end counts and moves per grade, in the hparams.

routegen/gan_prior.py holds the arithmetic; this mixin records the prior at fit time and calibrates the
2nd start / end thresholds of a grade on first use.
"""

from __future__ import annotations

import torch

from routegen.board import COLS, ROWS
from routegen.gan_prior import DecodePrior, calibrate, data_prior, move_log_shares


class DecodePriorMixin:
    """For CGANModule: needs `hparams`, `scale`, `generator`, `noise(n, gen)`, `device`, `_thresholds` and `_priors`."""

    def set_decode_prior(self, problems) -> None:
        """Record the training routes' hold / start / end counts and move shares for prior decoding (kept in the
        hparams)."""
        by_class: dict[int, list] = {}
        for p in problems:
            if (c := self.scale.class_of(p.grade, p.grade_v)) is not None:
                by_class.setdefault(c, []).append(p.route)
        self.hparams.decode_prior = data_prior(by_class, self.scale.num_classes)
        self._thresholds, self._priors = {}, {}

    def decode_prior(self, grade_class: int) -> DecodePrior | None:
        """The grade's decoding prior; its 2nd start / end thresholds are calibrated on first use, on 128 free
        routes of the grade (fixed seed), to the training routes' share of 2-start / 2-end routes of the grade."""
        saved = self.hparams.get("decode_prior")
        if not saved:
            return None
        if grade_class not in self._thresholds:
            y = torch.full((128,), grade_class, device=self.device)
            gen = torch.Generator(device=self.device).manual_seed(12345 + grade_class)
            fixed = torch.zeros((len(y), 3, ROWS, COLS), device=self.device)
            with torch.no_grad():
                logits = self.generator(self.noise(len(y), gen), y, fixed).cpu()
            rates = [(saved.get(f"two_{r}_rates") or [saved[f"two_{r}_rate"]] * (grade_class + 1))[grade_class]
                     for r in ("start", "end")]  # fmt: skip
            self._thresholds[grade_class] = calibrate(logits, *rates)
        weight = float(self.hparams.get("move_weight", 0.0))
        if (grade_class, weight) not in self._priors:  # cached: its move table is built once per grade
            counts = saved["hold_counts"][grade_class]
            every = saved.get("move_counts")
            self._priors[grade_class, weight] = DecodePrior(
                counts if sum(counts) else [1.0] * len(counts),
                *self._thresholds[grade_class],
                move_logq=move_log_shares(every[grade_class], [sum(c) for c in zip(*every)])
                if every and weight > 0 else None,
                move_weight=weight,
            )  # fmt: skip
        return self._priors[grade_class, weight]
