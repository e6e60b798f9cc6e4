"""A small decoder-only transformer (nanoGPT-style) with a KV cache and a constrained `generate`.

Torch only. Causal self-attention: position t sees tokens 0..t, so one forward pass over a whole training
sequence gives every next-token prediction at once (teacher forcing). At sampling time tokens are produced one
by one; the KV cache keeps each layer's keys and values so a step costs one token, not the whole prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int  # longest sequence (conditions + BOS + holds + EOS)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.1
    bias: bool = False


KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, nh, T, hs)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head, self.dropout = cfg.n_head, cfg.dropout

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        # Prefill (no past) is causal; one new token with a past may attend to everything cached.
        assert past is None or T == 1, "a cached step feeds one token at a time"
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=past is None, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y)), (k, v)


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, past=None):
        a, kv = self.attn(self.ln_1(x), past)
        x = x + a
        return x + self.mlp(self.ln_2(x)), kv


class Constraint(Protocol):
    """What `generate` needs from a decoding constraint (routegen.constraints.RouteConstraint implements it)."""

    def allowed(self) -> torch.Tensor: ...  # (B, vocab) bool

    def update(self, tokens: torch.Tensor) -> None: ...  # (B,)

    @property
    def done(self) -> torch.Tensor: ...  # (B,) bool


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # scaled init of the residual projections (GPT-2)
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None) -> tuple[torch.Tensor, KVCache]:
        """idx (B, T) -> logits (B, T, vocab) and the updated cache. With a cache, T must be 1."""
        B, T = idx.shape
        start = cache[0][0].shape[2] if cache else 0
        assert start + T <= self.cfg.block_size, f"sequence of {start + T} exceeds block_size {self.cfg.block_size}"
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        new_cache: KVCache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cache[i] if cache else None)
            new_cache.append(kv)
        return self.lm_head(self.ln_f(x)), new_cache

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        guidance: float = 1.0,
        uncond_idx: torch.Tensor | None = None,
        constraint: Constraint | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
        pad_token: int = 0,
        reference: Constraint | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Extend the prefixes idx (B, T) by up to max_new_tokens; returns (B, T + new).

        guidance != 1 mixes the logits of `uncond_idx` (the same prefixes with the grade nulled):
        uncond + guidance * (cond - uncond) (classifier-free guidance). `constraint` masks disallowed tokens
        at every step; rows it marks done are padded. temperature 0 = greedy.

        `reference`: a looser constraint stepped along the same tokens (the rules without the fixed holds). Then
        also returns (B,) log p_reference(new tokens) - log p_constraint(new tokens): the importance weight
        that turns these draws into draws of the reference's sampler that happen to obey `constraint` (0 when
        greedy, where neither is a distribution).
        """
        B = idx.shape[0]
        guided = guidance != 1.0 and uncond_idx is not None
        seq = torch.cat([idx, uncond_idx]) if guided else idx  # both halves in one batch
        cache: KVCache | None = None
        out = idx
        log_w = torch.zeros(B, device=idx.device)
        for _ in range(max_new_tokens):
            if use_cache:
                logits, cache = self(seq if cache is None else seq[:, -1:], cache)
            else:
                logits, _ = self(seq)
            logits = logits[:, -1, :].float()  # (2B or B, vocab)
            if guided:
                cond, uncond = logits[:B], logits[B:]
                logits = uncond + guidance * (cond - uncond)
            raw = logits
            if constraint is not None:
                logits = logits.masked_fill(~constraint.allowed(), float("-inf"))
            nxt = sample_logits(logits, temperature, top_k, top_p, generator)  # (B,)
            if reference is not None and constraint is not None:
                live = ~constraint.done
                loose = raw.masked_fill(~reference.allowed(), float("-inf"))
                step = token_log_prob(loose, nxt, temperature, top_k, top_p) - token_log_prob(
                    logits, nxt, temperature, top_k, top_p
                )
                log_w += torch.where(live, step, torch.zeros_like(step))
            if constraint is not None:
                nxt = torch.where(constraint.done, torch.full_like(nxt, pad_token), nxt)
                constraint.update(nxt)
                if reference is not None:
                    reference.update(nxt)
            out = torch.cat([out, nxt[:, None]], dim=1)
            seq = torch.cat([seq, torch.cat([nxt, nxt])[:, None] if guided else nxt[:, None]], dim=1)
            if constraint is not None and bool(constraint.done.all()):
                break
        return (out, log_w) if reference is not None else out


def filter_logits(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """(B, V) logits -> the logits the sampler draws from: divided by the temperature, outside top_k / top_p
    set to -inf (a temperature > 0 and top_k != 1; else sampling is greedy)."""
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) > top_p  # keep the smallest set whose mass reaches top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


def greedy(temperature: float, top_k: int | None) -> bool:
    return temperature <= 0 or top_k == 1


def sample_logits(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, V) logits -> (B,) token ids; -inf logits are never drawn."""
    if greedy(temperature, top_k):
        return logits.argmax(dim=-1)
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def token_log_prob(
    logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:  # fmt: skip
    """(B,) log-probability that sample_logits draws `tokens` from these logits (0 when greedy)."""
    if greedy(temperature, top_k):
        return torch.zeros(len(tokens), device=logits.device)
    logp = torch.log_softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
    return logp.gather(1, tokens[:, None]).squeeze(1)
