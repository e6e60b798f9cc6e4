"""Routes <-> token ids for the autoregressive transformer.

A sequence is `[board, angle, grade, BOS, hold_1, ..., hold_n, EOS, PAD...]`: three condition tokens, then the
holds in canonical order (start holds, then middle, then end; each bottom to top, then left to right) and EOS.
Hold tokens are role-aware: one token per (role, grid cell), so the role needs no separate token and the
canonical order is simply ascending token id. The grade slot takes NULL when the grade is dropped (training
with condition dropout; the unconditional half of classifier-free guidance).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from routegen.board import ANGLES, NUM_CELLS, hold_from_cell
from routegen.errors import RoutegenError
from routegen.route import MAX_HOLDS, ROLES, Route

PAD, BOS, EOS, NULL = 0, 1, 2, 3
BOARDS = tuple(ANGLES)  # ("2016", "2017")
ANGLE_VALUES = tuple(sorted({a for angles in ANGLES.values() for a in angles}))  # (25, 40)
NUM_ROLES = len(ROLES)
PREFIX_LEN = 4  # board, angle, grade, BOS


class TokenizerError(RoutegenError):
    """A board, angle, grade class or token sequence the tokenizer cannot encode or decode."""


class RouteTokenizer:
    """Vocabulary: 4 specials, boards, angles, `num_grades` grade classes, then 3 x 198 role-aware hold tokens."""

    def __init__(self, num_grades: int = 16, max_holds: int = MAX_HOLDS) -> None:
        self.num_grades = num_grades
        self.max_holds = max_holds
        self.board_offset = 4
        self.angle_offset = self.board_offset + len(BOARDS)
        self.grade_offset = self.angle_offset + len(ANGLE_VALUES)
        self.hold_offset = self.grade_offset + num_grades
        self.vocab_size = self.hold_offset + NUM_ROLES * NUM_CELLS
        self.seq_len = PREFIX_LEN + max_holds + 1  # conditions, BOS, holds, EOS

    # --- conditions -------------------------------------------------------------------------------------
    def board_token(self, board: str) -> int:
        if str(board) not in BOARDS:
            raise TokenizerError(f"unknown board {board!r} (expected one of {', '.join(BOARDS)})")
        return self.board_offset + BOARDS.index(str(board))

    def angle_token(self, angle: int) -> int:
        if int(angle) not in ANGLE_VALUES:
            raise TokenizerError(f"unknown angle {angle!r} (expected one of {ANGLE_VALUES})")
        return self.angle_offset + ANGLE_VALUES.index(int(angle))

    def grade_token(self, grade_class: int | None) -> int:
        """Grade class index (LabelScale class) -> token; None -> NULL (unconditional)."""
        if grade_class is None:
            return NULL
        if not 0 <= grade_class < self.num_grades:
            raise TokenizerError(f"grade class {grade_class} out of range 0..{self.num_grades - 1}")
        return self.grade_offset + grade_class

    def prefix(self, board: str, angle: int, grade_classes: Sequence[int | None]) -> torch.Tensor:
        """(B, 4) condition tokens + BOS, one row per grade class."""
        b, a = self.board_token(board), self.angle_token(angle)
        return torch.tensor([[b, a, self.grade_token(g), BOS] for g in grade_classes], dtype=torch.long)

    # --- holds ------------------------------------------------------------------------------------------
    def hold_token(self, role: int, cell: int) -> int:
        return self.hold_offset + role * NUM_CELLS + cell

    def is_hold(self, token: int) -> bool:
        return self.hold_offset <= token < self.vocab_size

    def encode(self, route: Route, board: str, angle: int, grade_class: int | None) -> list[int]:
        """One route -> its full token sequence (unpadded)."""
        holds = [self.hold_token(r, h.cell) for r, name in enumerate(ROLES) for h in getattr(route, name)]
        if len(holds) > self.max_holds:
            raise TokenizerError(f"route {route} has {len(holds)} holds (at most {self.max_holds})")
        return self.prefix(board, angle, [grade_class])[0].tolist() + holds + [EOS]

    def decode(self, tokens: Sequence[int]) -> Route:
        """Hold tokens -> Route (specials skipped; decoding stops at the first EOS after a hold or at PAD)."""
        parts: list[list] = [[], [], []]
        for t in tokens:
            t = int(t)
            if t in (EOS, PAD) and any(parts):
                break
            if self.is_hold(t):
                role, cell = divmod(t - self.hold_offset, NUM_CELLS)
                parts[role].append(hold_from_cell(cell))
        return Route(*(tuple(p) for p in parts))

    def grids_to_tokens(
        self, grids: torch.Tensor, board: str, angle: int, grade_tokens: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Vectorised: grids (B, 3, 18, 11) + grade tokens (B,) -> (tokens (B, seq_len), ok (B,) bool).

        The flat (role, cell) index of a grid entry *is* its canonical rank, so sorting the set positions gives
        the canonical sequence. `ok` is False for routes longer than max_holds (they are cut; skip their loss).
        """
        B = grids.shape[0]
        flat = grids.reshape(B, NUM_ROLES * NUM_CELLS) > 0.5
        pos = torch.arange(NUM_ROLES * NUM_CELLS, device=grids.device).expand(B, -1)
        big = NUM_ROLES * NUM_CELLS
        keys = torch.where(flat, pos, torch.full_like(pos, big)).sort(dim=1).values[:, : self.max_holds]  # (B, H)
        n = flat.sum(1)
        holds = torch.where(keys < big, keys + self.hold_offset, torch.full_like(keys, PAD))
        tokens = torch.full((B, self.seq_len), PAD, dtype=torch.long, device=grids.device)
        tokens[:, 0] = self.board_token(board)
        tokens[:, 1] = self.angle_token(angle)
        tokens[:, 2] = grade_tokens
        tokens[:, 3] = BOS
        tokens[:, PREFIX_LEN : PREFIX_LEN + self.max_holds] = holds
        eos_at = PREFIX_LEN + n.clamp(max=self.max_holds)
        tokens[torch.arange(B, device=grids.device), eos_at] = EOS
        return tokens, n <= self.max_holds
