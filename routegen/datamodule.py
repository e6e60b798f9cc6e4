"""LightningDataModule over the real MoonBoard problems: grids + grade classes, leak-free splits."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from routegen.data import LabelScale, Problem, load_problems, split_problems, write_manifest
from routegen.encoding import routes_to_grids


class MoonBoardDataModule(pl.LightningDataModule):
    """Batches of `(grid (B, 3, 18, 11), label (B,))` for one board / angle / label scale.

    With range-labelled problems (Font labels + include_v_only) training batches are `(grid, low, high)`:
    the class lies in [low, high] (V5 -> 6C..6C+), and the loss heads take the whole range as the answer.

    `sampler="balanced"` draws training batches with inverse-frequency weights (for the heavy 6B+ skew);
    `class_counts` (train split) lets a model weight its loss instead.
    """

    def __init__(
        self,
        dir: str | None = None,
        board: str = "2016",
        angle: int = 40,
        label: str = "font",
        include_v_only: bool | None = None,
        seed: int = 0,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        batch_size: int = 256,
        sampler: str = "none",
        num_workers: int = 0,
        manifest_path: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.scale = LabelScale(label)
        if sampler not in ("none", "balanced"):
            raise ValueError(f"unknown sampler {sampler!r} (expected 'none' or 'balanced')")
        self.splits: dict[str, list[Problem]] = {}
        self.datasets: dict[str, TensorDataset] = {}

    @property
    def num_classes(self) -> int:
        return self.scale.num_classes

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        hp = self.hparams
        problems = load_problems(hp.dir, hp.board, hp.angle, hp.label, hp.include_v_only)
        self.splits = split_problems(problems, hp.label, hp.seed, hp.val_fraction, hp.test_fraction)
        for name, ps in self.splits.items():
            ranges = torch.tensor([self.scale.class_range(p.grade, p.grade_v) for p in ps], dtype=torch.long)
            ranges = ranges.reshape(-1, 2)
            labels = (ranges[:, 0], ranges[:, 1]) if self.has_ranges else (ranges[:, 0],)
            self.datasets[name] = TensorDataset(routes_to_grids([p.route for p in ps]), *labels)
        if hp.manifest_path and (self.trainer is None or self.trainer.is_global_zero):
            write_manifest(
                self.splits, Path(hp.manifest_path), board=hp.board, angle=hp.angle, label=hp.label, seed=hp.seed
            )

    @property
    def has_ranges(self) -> bool:
        """Whether some training labels are class ranges (Font labels with the V-only problems)."""
        return self.scale.name == "font" and bool(self.hparams.include_v_only)

    @property
    def class_counts(self) -> torch.Tensor:
        """(C,) training examples per class; a range-labelled one counts fractionally, split in proportion to
        the precisely graded counts of its range."""
        self.setup()
        tensors = self.datasets["train"].tensors
        low, high = tensors[1], tensors[-1]  # the same tensor when every label is exact
        exact = low == high
        counts = torch.bincount(low[exact], minlength=self.num_classes).float()
        spread = counts.clone()
        for lo, hi in set(zip(low[~exact].tolist(), high[~exact].tolist())):
            n = ((low == lo) & (high == hi)).sum()
            share = counts[lo : hi + 1] / counts[lo : hi + 1].sum().clamp(min=1.0)
            spread[lo : hi + 1] += n * (share if share.sum() > 0 else 1.0 / (hi - lo + 1))
        return spread

    def train_dataloader(self) -> DataLoader:
        ds = self.datasets["train"]
        if self.hparams.sampler == "balanced":
            weights = (1.0 / self.class_counts.clamp(min=1))[ds.tensors[1]]
            sampler = WeightedRandomSampler(weights, num_samples=len(ds), replacement=True)
            return DataLoader(ds, self.hparams.batch_size, sampler=sampler, num_workers=self.hparams.num_workers)
        return DataLoader(ds, self.hparams.batch_size, shuffle=True, num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.datasets["val"], self.hparams.batch_size, num_workers=self.hparams.num_workers)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.datasets["test"], self.hparams.batch_size, num_workers=self.hparams.num_workers)
