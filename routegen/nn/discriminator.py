"""Grade-conditioned projection discriminator over (B, 3, 18, 11) hold x role grids (hard or relaxed).

SNGAN recipe (Miyato & Koyama 2018): spectral-normalised convolutions, a score = linear(h) + <embed(grade), h>
(the projection), trained with the hinge loss. Spectral norm bounds the critic's Lipschitz constant without the
second backward pass of a gradient penalty, which matters on a CPU.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from routegen.nn.unet import COLS, PAD_COLS, PAD_ROWS, ROWS, coord_channels


class ProjectionDiscriminator(nn.Module):
    def __init__(self, num_grades: int = 16, base: int = 32) -> None:
        super().__init__()
        b = base
        sn = spectral_norm
        self.body = nn.Sequential(
            sn(nn.Conv2d(3 + 2, b, 3, padding=1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(b, 2 * b, 3, padding=1)), nn.LeakyReLU(0.2),
            nn.AvgPool2d(2),  # 10x6
            sn(nn.Conv2d(2 * b, 4 * b, 3, padding=1)), nn.LeakyReLU(0.2),
            nn.AvgPool2d(2),  # 5x3
            sn(nn.Conv2d(4 * b, 4 * b, 3, padding=1)), nn.LeakyReLU(0.2),
        )  # fmt: skip
        self.linear = sn(nn.Linear(4 * b, 1))
        self.embed = sn(nn.Embedding(num_grades, 4 * b))
        self.register_buffer("coords", coord_channels(), persistent=False)

    def features(self, grid: torch.Tensor) -> torch.Tensor:
        """grid (B, 3, 18, 11) -> (B, 4b) pooled features (also read by routegen/gan_select.py's realism head)."""
        x = torch.cat([grid, self.coords.expand(grid.shape[0], -1, -1, -1)], dim=1)
        x = F.pad(x, (0, PAD_COLS - COLS, 0, PAD_ROWS - ROWS))
        return self.body(x).sum(dim=(2, 3))  # (B, 4b) sum pooling, as in SNGAN

    def score(self, h: torch.Tensor, grade: torch.Tensor) -> torch.Tensor:
        """Pooled features (B, 4b), grade (B,) -> (B,) realness scores: linear(h) + <embed(grade), h>."""
        return self.linear(h).squeeze(1) + (self.embed(grade) * h).sum(1)

    def forward(self, grid: torch.Tensor, grade: torch.Tensor) -> torch.Tensor:
        """grid (B, 3, 18, 11), grade (B,) class indices -> (B,) realness scores."""
        return self.score(self.features(grid), grade)
