"""Constrained decoding: a batched state machine that masks every token that would break routegen.route's rules.

Tokens come in canonical order (start, middle, end; each bottom to top, left to right), which makes the rules
checkable one token at a time:
  - a hold must be on the board, unused (no repeats, no hold in two roles) and above the last of its role;
  - roles never go back; start holds sit in rows <= 6, end holds in row 18, at most 2 of each; no middle hold
    in row 18;
  - gap: middle holds come bottom to top, so the rows below a new middle hold are final when it is emitted;
    its distance to the highest row at or below it must be <= MAX_ROW_GAP;
  - budget: after a token, the holds still needed (pending fixed holds, the fewest middle holds that bridge
    the rows up to row 18, an end hold) must fit in MAX_HOLDS; this keeps a valid ending always reachable;
  - EOS only with >= 1 end hold, >= 3 holds and every fixed hold out.
Fixed holds (route completion): a fixed hold's cell is reserved for its role, a role cannot skip past one of
its pending fixed holds (so it is emitted when the canonical order reaches it), and the role cannot be left,
nor EOS emitted, while it has fixed holds pending.
"""

from __future__ import annotations

from functools import cache

import torch

from routegen.ar.tokenizer import EOS, NUM_ROLES, PAD, RouteTokenizer
from routegen.board import COLS, NUM_CELLS, ROWS, Board
from routegen.route import MAX_ROW_GAP, MAX_START_ROW, MIN_HOLDS, FixedHoldsError, Route, check_fixed

INF = 99


@cache
def fill_table(board: Board, max_gap: int = MAX_ROW_GAP) -> torch.Tensor:
    """(19, 19): fill[a, b] = fewest extra rows (with a board hold, below row 18) bridging row a to row b."""
    avail = [False] * (ROWS + 1)
    for h in board.holds:
        avail[h.row] = h.row < ROWS
    fill = torch.full((ROWS + 1, ROWS + 1), INF, dtype=torch.long)
    for b in range(ROWS + 1):
        for a in range(b, -1, -1):
            if b - a <= max_gap:
                fill[a, b] = 0
            else:
                steps = [1 + fill[r, b] for r in range(a + 1, min(a + max_gap, b - 1) + 1) if avail[r]]
                fill[a, b] = min(min(steps, default=INF), INF)
    return fill


class RouteConstraint:
    """Per-batch decoding state. `allowed()` -> (B, vocab) mask for the next token; `update(tokens)` advances.

    constrained=False only masks the condition/special tokens (the model's raw validity, for reference).
    """

    def __init__(
        self,
        tok: RouteTokenizer,
        board: Board,
        batch_size: int,
        *,
        fixed: Route | None = None,
        constrained: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        self.tok, self.board, self.constrained = tok, board, constrained
        self.max_holds = tok.max_holds
        B, dev = batch_size, device
        cells = torch.arange(NUM_CELLS, device=dev)
        self.cell_row = cells // COLS + 1  # (198,) rows 1..18
        self.on_board = torch.tensor(board.cell_mask(), device=dev)
        self.row18 = self.on_board & (self.cell_row == ROWS)
        self.row_onehot = torch.nn.functional.one_hot(self.cell_row, ROWS + 1).float()  # (198, 19)
        self.fixed = torch.zeros(NUM_ROLES, NUM_CELLS, dtype=torch.bool, device=dev)
        if fixed is not None:
            check_fixed(fixed, board)
            for r, h in ((["start", "middle", "end"].index(name), h) for name, h in fixed.roles()):
                self.fixed[r, h.cell] = True
        self.has_fixed = bool(self.fixed.any())
        self.reserved = self.fixed.any(0, keepdim=True) & ~self.fixed  # (3, 198) cell fixed in another role
        role_ok = torch.ones(NUM_ROLES, NUM_CELLS, dtype=torch.bool, device=dev)
        role_ok[0] = self.cell_row <= MAX_START_ROW
        role_ok[2] = self.cell_row == ROWS
        role_ok[1] = self.cell_row < ROWS  # row 18 is for end holds only (routegen.route "middle_top")
        self.static_ok = role_ok & self.on_board & ~self.reserved  # (3, 198)
        self.fill = fill_table(board).to(dev)  # cached per board: treat as read-only
        self.chain_static = self.fill[:, ROWS]  # (19,) bridge from a top row to row 18, nothing fixed
        # state
        self.taken = torch.zeros(B, NUM_ROLES, NUM_CELLS, dtype=torch.bool, device=dev)
        self.used = torch.zeros(B, NUM_CELLS, dtype=torch.bool, device=dev)
        self.rows = torch.zeros(B, ROWS + 1, dtype=torch.bool, device=dev)  # index = row (0 unused)
        self.n = torch.zeros(B, dtype=torch.long, device=dev)
        self.n_role = torch.zeros(B, NUM_ROLES, dtype=torch.long, device=dev)
        self.last = torch.full((B, NUM_ROLES), -1, dtype=torch.long, device=dev)
        self.role = torch.zeros(B, dtype=torch.long, device=dev)
        self.top = torch.zeros(B, dtype=torch.long, device=dev)
        self._done = torch.zeros(B, dtype=torch.bool, device=dev)

    @property
    def done(self) -> torch.Tensor:
        return self._done

    def allowed(self) -> torch.Tensor:
        B, tok = self.n.shape[0], self.tok
        out = torch.zeros(B, tok.vocab_size, dtype=torch.bool, device=self.n.device)
        out[:, PAD] = self._done
        if not self.constrained:
            out[:, tok.hold_offset :] = ~self._done[:, None]
            out[:, EOS] = ~self._done
            return out
        holds, eos = self._hold_mask(), self._eos_mask()
        out[:, tok.hold_offset :] = holds.reshape(B, -1) & ~self._done[:, None]
        out[:, EOS] = eos & ~self._done
        stuck = ~self._done & ~out.any(1)
        if bool(stuck.any()):
            raise FixedHoldsError("no valid route contains these fixed holds (gaps too wide for 14 holds)")
        return out

    def _pending(self) -> torch.Tensor:
        return self.fixed[None] & ~self.taken  # (B, 3, 198)

    def _eos_mask(self) -> torch.Tensor:
        eos = (self.role == 2) & (self.n_role[:, 2] >= 1) & (self.n >= MIN_HOLDS)
        return eos & (self._pending().flatten(1).sum(1) == 0) if self.has_fixed else eos

    def _hold_mask(self) -> torch.Tensor:
        """(B, 3, 198) which hold tokens keep the route completable into a valid one.

        Built from per-cell (B, 198) and per-role (B, 3) facts, so only a few ops touch (B, 3, 198).
        """
        dev = self.n.device
        roles = torch.arange(NUM_ROLES, device=dev)
        cells = torch.arange(NUM_CELLS, device=dev)
        # per cell: unused, and the gap from the highest row at or below it is small enough
        below = torch.cummax(torch.arange(ROWS + 1, device=dev) * self.rows, dim=1).values  # (B, 19)
        p = below[:, self.cell_row]  # (B, 198)
        cell_ok = ~self.used & ((p == 0) | (self.cell_row - p <= MAX_ROW_GAP))
        # per role: roles never go back; middle / end need a start hold first; at most 2 start / end holds
        role_ok = (roles[None] >= self.role[:, None]) & ((roles[None] == 0) | (self.n_role[:, :1] >= 1))
        role_ok[:, 0] &= self.n_role[:, 0] < 2
        role_ok[:, 2] &= self.n_role[:, 2] < 2
        # budget: this hold + bridging middle holds + an end hold (+ pending fixed ones) <= max_holds
        top_after = torch.maximum(self.top[:, None], self.cell_row[None])  # (B, 198)
        pending = self._pending() if self.has_fixed else None
        bridge = self._chain(pending).gather(1, top_after)  # (B, 198)
        need_end = ((self.n_role[:, 2] == 0) & ~self.fixed[2].any())[:, None] & (roles < 2)[None]  # (B, 3)
        limit = self.max_holds - self.n[:, None] - 1 - need_end.long()  # (B, 3)
        ok = self.static_ok[None] & cell_ok[:, None, :] & role_ok[:, :, None]
        ok &= cells[None, None, :] > self.last[:, :, None]  # canonical order within a role
        if pending is None:
            ok &= bridge[:, None, :] <= limit[:, :, None]
        else:
            ok &= self._fixed_rules(pending, bridge, limit)
        return ok

    def _fixed_rules(self, pending: torch.Tensor, bridge: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
        """(B, 3, 198): no skipping a pending fixed hold of the same role, no leaving a role with one pending,
        start / end counts and the budget counting the pending ones (a pending hold emitted now counts once)."""
        roles = torch.arange(NUM_ROLES, device=pending.device)
        cells = torch.arange(NUM_CELLS, device=pending.device)
        pend_count = pending.sum(-1)  # (B, 3)
        next_pend = torch.where(pending, cells, NUM_CELLS).min(-1).values  # (B, 3)
        ok = cells[None, None, :] <= next_pend[:, :, None]
        between = (roles[None, None, :] >= self.role[:, None, None]) & (roles[None, None, :] < roles[None, :, None])
        blocked = (between & (pend_count[:, None, :] > 0)).any(-1)  # (B, 3): target role r blocked
        ok &= ~blocked[:, :, None]
        fixed = self.fixed[None].long()  # (1, 3, 198)
        for r in (0, 2):
            ok[:, r] &= (self.n_role[:, r, None] + 1 + pend_count[:, r, None] - fixed[:, r]) <= 2
        total_pending = pend_count.sum(1)[:, None, None] - fixed  # (B, 3, 198) pending after this token
        ok &= bridge[:, None, :] + total_pending <= limit[:, :, None]
        return ok

    def _chain(self, pending: torch.Tensor | None) -> torch.Tensor:
        """(B, 19): fewest bridging holds from a top row t up to row 18 through the pending fixed holds above t."""
        B = self.n.shape[0]
        if pending is None:
            return self.chain_static[None].expand(B, -1)
        prow = (pending.any(1).float() @ self.row_onehot) > 0  # (B, 19) rows with a pending fixed hold
        chain = torch.zeros(B, ROWS + 1, dtype=torch.long, device=pending.device)
        nxt = torch.full((B,), ROWS, dtype=torch.long, device=pending.device)
        for t in range(ROWS - 1, -1, -1):
            nxt = torch.where(prow[:, t + 1], torch.full_like(nxt, t + 1), nxt)
            chain[:, t] = (self.fill[t, nxt] + chain.gather(1, nxt[:, None])[:, 0]).clamp(max=INF)
        return chain

    def update(self, tokens: torch.Tensor) -> None:
        live = ~self._done
        is_hold = live & (tokens >= self.tok.hold_offset)
        rc = (tokens - self.tok.hold_offset).clamp(min=0)
        r, c = rc // NUM_CELLS, rc % NUM_CELLS
        b = torch.nonzero(is_hold).flatten()
        if len(b):
            rb, cb = r[b], c[b]
            self.taken[b, rb, cb] = True
            self.used[b, cb] = True
            self.rows[b, self.cell_row[cb]] = True
            self.n[b] += 1
            self.n_role[b, rb] += 1
            self.last[b, rb] = cb
            self.role[b] = rb
            self.top[b] = torch.maximum(self.top[b], self.cell_row[cb])
        self._done |= live & ((tokens == EOS) | (tokens == PAD))
