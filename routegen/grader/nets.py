"""The grader zoo: torch-only networks from a (B, 3, 18, 11) hold x role grid to `out_dim` raw outputs.

Every grader reads the grid as floats, so a relaxed route (probabilities) goes through the same code as a hard
one and gradients reach it. What the outputs mean (a number, class logits, ordinal logits) is the loss head's
business (routegen/grader/losses.py): out_dim is 1 for regression, C for cross-entropy, C - 1 for ordinal.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from routegen.board import COLS, NUM_CELLS, ROWS

N_ROLES = 3
N_IN = N_ROLES * NUM_CELLS  # 594 multi-hot hold x role features


class LinearGrader(nn.Module):
    """Linear model on the multi-hot hold x role encoding (with out_dim=1 and MSE: linear regression)."""

    def __init__(self, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(N_IN, out_dim)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.fc(grid.flatten(1))


class PerceptronGrader(LinearGrader):
    """Single-layer classifier: the same map as LinearGrader, trained as a classifier (out_dim = classes)."""


class PolynomialGrader(nn.Module):
    """Degree-2 regression: linear term + factorization-machine pairwise term sum_{i<j} <v_i, v_j> x_i x_j.

    The rank-`rank` factors keep all 594^2 / 2 hold-pair interactions trainable on a CPU.
    """

    def __init__(self, out_dim: int, rank: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.linear = nn.Linear(N_IN, out_dim)
        self.factors = nn.Parameter(torch.randn(N_IN, rank) * 0.01)
        self.pair = nn.Linear(rank, out_dim, bias=False)  # one weight per factor and output
        self.drop = nn.Dropout(dropout)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        x = grid.flatten(1)  # (B, 594)
        xv = x @ self.factors  # (B, k)
        pairs = 0.5 * (xv.pow(2) - x.pow(2) @ self.factors.pow(2))  # (B, k): sum over i<j of x_i x_j v_if v_jf
        return self.linear(x) + self.pair(self.drop(pairs))


class MLPGrader(nn.Module):
    def __init__(self, out_dim: int, hidden: int = 256, n_layer: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        layers, width = [], N_IN
        for _ in range(n_layer):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_dim)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(grid.flatten(1)))


class Block(nn.Module):
    """Pre-norm encoder block; `bias` (B, 1, 1, T) is added to every attention score (padding / presence)."""

    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, h, T, d)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(B, T, C)))
        return x + self.drop(self.mlp(self.ln2(x)))


class TransformerGrader(nn.Module):
    """Permutation-invariant encoder over hold tokens, pooled to a grade head.

    A token = hold identity + role + row + column embeddings; there is no sequence-order encoding, so the
    output does not depend on the order of holds. Two paths compute the same function on hard routes:
    - sparse (hard 0/1 grids): gather the present holds, pad to the longest route, mask the padding;
    - dense (relaxed grids): every board cell is a token, its presence p = sum of role probabilities enters as
      an attention key bias log(p + eps) and as mean-pooling weight, its role embedding is the p-weighted mix.
    """

    def __init__(
        self, out_dim: int, d_model: int = 96, n_layer: int = 3, n_head: int = 4, dropout: float = 0.1,
        eps: float = 1e-6,
    ) -> None:  # fmt: skip
        super().__init__()
        self.eps = eps
        self.hold = nn.Embedding(NUM_CELLS, d_model)
        self.role = nn.Embedding(N_ROLES, d_model)
        self.row = nn.Embedding(ROWS, d_model)
        self.col = nn.Embedding(COLS, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_head, dropout) for _ in range(n_layer))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, out_dim)
        cells = torch.arange(NUM_CELLS)
        self.register_buffer("cell_row", cells // COLS, persistent=False)
        self.register_buffer("cell_col", cells % COLS, persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def _place(self, cells: torch.Tensor) -> torch.Tensor:
        return self.hold(cells) + self.row(self.cell_row[cells]) + self.col(self.cell_col[cells])

    def _encode(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, bias[:, None, None, :])
        x = self.ln(x)
        pooled = (x * weight[..., None]).sum(1) / weight.sum(1, keepdim=True).clamp(min=self.eps)  # (B, C)
        return self.head(pooled)

    def forward_sparse(self, grid: torch.Tensor) -> torch.Tensor:
        flat = grid.flatten(2)  # (B, 3, 198)
        present = flat.amax(1) > 0.5  # (B, 198)
        n = present.sum(1)
        T = max(int(n.max()) if len(n) else 1, 1)
        cells = torch.argsort(present.float(), dim=1, descending=True, stable=True)[:, :T]  # present cells first
        mask = torch.arange(T, device=grid.device)[None, :] < n[:, None]  # (B, T)
        roles = flat.argmax(1).gather(1, cells)  # (B, T)
        x = self._place(cells) + self.role(roles)
        bias = torch.zeros(mask.shape, device=grid.device).masked_fill(~mask, float("-inf"))
        bias[:, 0] = bias[:, 0].clamp(min=-1e9)  # an empty route keeps one finite score (no NaN)
        return self._encode(x, mask.float(), bias)

    def forward_dense(self, grid: torch.Tensor) -> torch.Tensor:
        flat = grid.flatten(2).transpose(1, 2)  # (B, 198, 3)
        p = flat.sum(2).clamp(0.0, 1.0)  # (B, 198) presence
        mix = flat / flat.sum(2, keepdim=True).clamp(min=self.eps)  # role weights, sum to 1 where present
        cells = torch.arange(NUM_CELLS, device=grid.device)
        x = self._place(cells)[None] + mix @ self.role.weight  # (B, 198, C)
        return self._encode(x, p, torch.log(p + self.eps))

    def forward(self, grid: torch.Tensor, dense: bool | None = None) -> torch.Tensor:
        """`dense=None`: the sparse path for hard grids that need no gradient, else the dense path."""
        if dense is None:
            dense = grid.requires_grad or not bool(((grid == 0) | (grid == 1)).all())
        return self.forward_dense(grid) if dense else self.forward_sparse(grid)


ARCHS = {
    "linear": LinearGrader,
    "polynomial": PolynomialGrader,
    "perceptron": PerceptronGrader,
    "mlp": MLPGrader,
    "transformer": TransformerGrader,
}


def build_grader(arch: str, out_dim: int, **kwargs) -> nn.Module:
    """A zoo member by name; kwargs its own sizes (unknown ones are an error, so configs stay honest)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown grader arch {arch!r} (expected one of {', '.join(ARCHS)})")
    return ARCHS[arch](out_dim, **kwargs)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
