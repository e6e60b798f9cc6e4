"""U-Net generator over the 18 x 11 board grid: (noise, grade, fixed holds) -> per-cell logits of none/start/middle/end.

Input channels per cell: `noise_ch` Gaussian noise, the grade embedding broadcast over the grid, the 3-channel
fixed-holds mask (which holds are given in which role: route completion), the board mask and two coordinate
channels (the absolute row matters: starts sit low, ends on row 18). The grid is padded to 20 x 12 so two
stride-2 levels divide it (20x12 -> 10x6 -> 5x3), then cropped back. Output (B, 4, 18, 11): class 0 = no hold,
1..3 = start / middle / end, with off-board cells forced to "none", starts above row 6 and ends off row 18
made impossible (the rules' row constraints, built into the output layer) and fixed cells forced to their role.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from routegen.board import COLS, ROWS
from routegen.errors import RoutegenError

PAD_ROWS, PAD_COLS = 20, 12
N_CLASSES = 4  # none, start, middle, end
FORCE = 30.0  # logit margin that makes a class certain (softmax ~ 1 - 1e-13) yet keeps numbers finite


@dataclass
class UNetConfig:
    num_grades: int = 16
    noise_ch: int = 8
    cond_dim: int = 16
    base: int = 32  # channels at full resolution; x2 per level
    null_grade: bool = False  # one more grade class, "any grade", for the grade contrast (guided); trained by
    # the cGAN's loss.cond_dropout


def coord_channels() -> torch.Tensor:
    """(2, 18, 11): row and column in [-1, 1]."""
    rows = torch.linspace(-1, 1, ROWS)[:, None].expand(ROWS, COLS)
    cols = torch.linspace(-1, 1, COLS)[None, :].expand(ROWS, COLS)
    return torch.stack([rows, cols])


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(8, c_out), nn.SiLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(8, c_out), nn.SiLU(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UNetGenerator(nn.Module):
    def __init__(self, cfg: UNetConfig, board_mask: torch.Tensor) -> None:
        super().__init__()
        self.cfg = cfg
        b, e = cfg.base, cfg.cond_dim
        self.grade = nn.Embedding(cfg.num_grades + cfg.null_grade, e)
        c_in = cfg.noise_ch + e + 3 + 1 + 2  # noise, grade, fixed mask, board mask, coordinates
        self.enc1 = ConvBlock(c_in, b)  # 20x12
        self.enc2 = ConvBlock(b, 2 * b)  # 10x6
        self.mid = ConvBlock(2 * b + e, 4 * b)  # 5x3, grade injected again where the receptive field is global
        self.up2 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.dec2 = ConvBlock(4 * b, 2 * b)
        self.up1 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.dec1 = ConvBlock(2 * b, b)
        self.out = nn.Conv2d(b, N_CLASSES, 1)
        self.register_buffer("board", board_mask.float()[None], persistent=False)  # (1, 18, 11)
        self.register_buffer("allowed", role_rows(board_mask), persistent=False)  # (3, 18, 11)
        self.register_buffer("coords", coord_channels(), persistent=False)  # (2, 18, 11)

    def forward(self, noise: torch.Tensor, grade: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
        """noise (B, noise_ch, 18, 11), grade (B,) class indices, fixed (B, 3, 18, 11) 0/1 -> logits (B, 4, 18, 11)."""
        B = noise.shape[0]
        g = self.grade(grade)  # (B, E)
        grid = lambda t: t.expand(B, *t.shape[-3:])  # noqa: E731
        x = torch.cat([noise, g[:, :, None, None].expand(-1, -1, ROWS, COLS), fixed, grid(self.board),
                       grid(self.coords)], dim=1)  # fmt: skip
        x = F.pad(x, (0, PAD_COLS - COLS, 0, PAD_ROWS - ROWS))  # (B, C, 20, 12)
        h1 = self.enc1(x)  # (B, b, 20, 12)
        h2 = self.enc2(F.avg_pool2d(h1, 2))  # (B, 2b, 10, 6)
        h3 = F.avg_pool2d(h2, 2)  # (B, 2b, 5, 3)
        h3 = self.mid(torch.cat([h3, g[:, :, None, None].expand(-1, -1, *h3.shape[-2:])], dim=1))
        d2 = self.dec2(torch.cat([self.up2(h3), h2], dim=1))  # (B, 2b, 10, 6)
        d1 = self.dec1(torch.cat([self.up1(d2), h1], dim=1))  # (B, b, 20, 12)
        logits = self.out(d1)[:, :, :ROWS, :COLS]  # crop back to the board
        return force_logits(logits, self.board[0] > 0, self.allowed > 0, fixed)

    def check_guidance(self, guidance: float) -> None:
        """A one-line RoutegenError for a grade contrast this generator has no "any grade" class for."""
        if guidance != 1 and not self.cfg.null_grade:
            raise RoutegenError(f"guidance {guidance} needs a generator trained with model.loss.cond_dropout > 0")

    def guided(self, noise: torch.Tensor, grade: torch.Tensor, fixed: torch.Tensor, guidance: float) -> torch.Tensor:
        """forward() with a grade contrast: any-grade logits + guidance x (grade's - any-grade's), classifier-free
        guidance's rule (1: forward() itself). Forced cells stay forced: both passes force them alike."""
        self.check_guidance(guidance)
        cond = self(noise, grade, fixed)
        if guidance == 1:
            return cond
        free = self(noise, torch.full_like(grade, self.cfg.num_grades), fixed)
        return free + guidance * (cond - free)


def role_rows(board_mask: torch.Tensor) -> torch.Tensor:
    """(3, 18, 11) where each role may go: on the board; starts in rows <= 6, middles below row 18, ends on
    row 18 only (routegen.route's rules)."""
    rows = torch.arange(1, ROWS + 1)[:, None].expand(ROWS, COLS)
    return torch.stack([board_mask & (rows <= 6), board_mask & (rows < ROWS), board_mask & (rows == ROWS)]).float()


def force_logits(logits: torch.Tensor, board: torch.Tensor, allowed: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
    """Roles where they can't be (off-board, starts above row 6, middles on 18, ends below 18) -> impossible; off-board
    cells -> certain "none"; fixed cells -> certain in their role. Differentiable elsewhere."""
    logits = torch.cat([logits[:, :1], logits[:, 1:].masked_fill(~allowed, -FORCE)], dim=1)
    fixed_any = fixed.amax(1, keepdim=True) > 0  # (B, 1, 18, 11)
    target = torch.cat([(~board).float().expand_as(fixed_any[:, 0])[:, None], fixed], dim=1)  # (B, 4, 18, 11)
    forced = (target * 2 - 1) * FORCE  # +FORCE for the forced class, -FORCE for the rest
    where = fixed_any | ~board[None, None]
    return torch.where(where, forced, logits)


# --- Grade-conditioned projection discriminator over (B, 3, 18, 11) hold x role grids (hard or relaxed).


class ProjectionDiscriminator(nn.Module):
    def __init__(self, num_grades: int = 16, base: int = 32, minibatch_std: int = 0) -> None:
        super().__init__()
        b = base
        sn = spectral_norm
        last = [sn(nn.Conv2d(4 * b, 4 * b, 3, padding=1)), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(
            sn(nn.Conv2d(3 + 2, b, 3, padding=1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(b, 2 * b, 3, padding=1)), nn.LeakyReLU(0.2),
            nn.AvgPool2d(2),  # 10x6
            sn(nn.Conv2d(2 * b, 4 * b, 3, padding=1)), nn.LeakyReLU(0.2),
            nn.AvgPool2d(2),  # 5x3
            *([] if minibatch_std else last),
        )  # fmt: skip
        # minibatch standard deviation (Karras et al. 2018): the last layer also sees how much the routes of a
        # group of `minibatch_std` differ, so a generator that gives one route for every noise is told apart
        self.group = minibatch_std
        self.tail = (
            nn.Sequential(sn(nn.Conv2d(4 * b + 1, 4 * b, 3, padding=1)), nn.LeakyReLU(0.2)) if minibatch_std else None
        )
        self.linear = sn(nn.Linear(4 * b, 1))
        self.embed = sn(nn.Embedding(num_grades, 4 * b))
        self.register_buffer("coords", coord_channels(), persistent=False)

    def features(self, grid: torch.Tensor) -> torch.Tensor:
        """grid (B, 3, 18, 11) -> (B, 4b) pooled features (also read by routegen/gan/select.py's realism head)."""
        x = torch.cat([grid, self.coords.expand(grid.shape[0], -1, -1, -1)], dim=1)
        x = F.pad(x, (0, PAD_COLS - COLS, 0, PAD_ROWS - ROWS))
        h = self.body(x)
        if self.tail is not None:
            h = self.tail(torch.cat([h, minibatch_std(h, self.group)], dim=1))
        return h.sum(dim=(2, 3))  # (B, 4b) sum pooling, as in SNGAN

    def score(self, h: torch.Tensor, grade: torch.Tensor) -> torch.Tensor:
        """Pooled features (B, 4b), grade (B,) -> (B,) realness scores: linear(h) + <embed(grade), h>."""
        return self.linear(h).squeeze(1) + (self.embed(grade) * h).sum(1)

    def forward(self, grid: torch.Tensor, grade: torch.Tensor) -> torch.Tensor:
        """grid (B, 3, 18, 11), grade (B,) class indices -> (B,) realness scores."""
        return self.score(self.features(grid), grade)


def minibatch_std(h: torch.Tensor, group: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, 1, H, W): the standard deviation over each group of `group` consecutive routes,
    averaged over channels and cells, broadcast back to the group's members (the largest group size <= `group`
    that divides B)."""
    B = h.shape[0]
    g = max(d for d in range(1, min(group, B) + 1) if B % d == 0)
    std = h.reshape(B // g, g, *h.shape[1:]).std(dim=1, correction=0) if g > 1 else torch.zeros_like(h[:1])
    per_group = std.mean(dim=(1, 2, 3))  # (B // g,)
    return per_group.repeat_interleave(g)[:, None, None, None].expand(B, 1, *h.shape[2:])
