"""ARTransformerModule: grade-conditioned route generation with a causal transformer (kind "ar_transformer").

Training is teacher forcing: the whole canonical sequence goes in at once and every position predicts the
next token. Sampling (`generate`) is autoregressive with a KV cache and, by default, constrained decoding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from routegen.ar.constraints import RouteConstraint
from routegen.ar.net import GPT, GPTConfig
from routegen.ar.tokenizer import NULL, PAD, PREFIX_LEN, RouteTokenizer
from routegen.board import load_board
from routegen.checkpoints import config_groups, mark
from routegen.data import LabelScale
from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.generation.base import GradeConditioned, resolve_grade
from routegen.grader.critic import Critic, load_critic, restore_critic, save_critic
from routegen.route import Route, check_route, format_route

# each config group's defaults (conf/model/ar_transformer.yaml); a partial group keeps the rest
DEFAULTS = {
    "net": {"n_layer": 4, "n_head": 4, "n_embd": 128, "dropout": 0.1},
    # AdamW, linear warm-up then cosine down to 10% of lr
    "optim": {"lr": 1e-3, "weight_decay": 0.1, "warmup_steps": 100},
    # what generate() uses when a caller names none; `routegen calibrate --guidance auto` chooses the guidance.
    # match: candidates per route the sampling pipeline matches to the critic's grade profile (generation/
    # match.py; 1 = off), chosen by `routegen calibrate --match auto`
    "sample": {"guidance": 1.0, "temperature": 1.0, "top_k": None, "top_p": None, "match": 1, "realism_trees": None,
               "match_profiles": None},
}


class ARTransformerModule(GradeConditioned, pl.LightningModule):
    kind = "ar_transformer"
    sampling_group = "sample"  # match and realism_trees live in hparams.sample
    monitor = ("val/loss", "min")

    def __init__(
        self,
        board: str = "2016",
        angle: int = 40,
        label: str = "font",
        net: Mapping | None = None,
        cond_dropout: float = 0.1,  # grade -> NULL with this probability (classifier-free guidance needs p(route))
        optim: Mapping | None = None,
        sample: Mapping | None = None,
        critic_ckpt: str | None = None,  # a grader: critic grades in the sample table and val/gen_critic_mae
        class_counts: list[int] | None = None,  # filled from the training split at fit time (trained grades)
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            config_groups(DEFAULTS, net=net, optim=optim, sample=sample)
            | {"board": board, "angle": angle, "label": label, "cond_dropout": cond_dropout,
               "critic_ckpt": critic_ckpt, "class_counts": class_counts}
        )  # fmt: skip
        self.scale = LabelScale(label)
        self.tok = RouteTokenizer(num_grades=self.scale.num_classes)
        n = self.hparams.net
        self.model = GPT(GPTConfig(self.tok.vocab_size, self.tok.seq_len, n["n_layer"], n["n_head"], n["n_embd"],
                                   n["dropout"]))  # fmt: skip
        self.critic: Critic | None = None  # from critic_ckpt in setup(), or from the checkpoint on load

    # --- training ---------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        if self.critic is None and self.hparams.critic_ckpt:
            self.critic = load_critic(self.hparams.critic_ckpt, self.board)
        self.attach_datamodule(self._trainer, stage)

    def tokens(self, grid: torch.Tensor, label: torch.Tensor, drop: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        grade = label + self.tok.grade_offset
        if drop > 0:  # condition dropout: the model also learns p(route) for classifier-free guidance
            grade = torch.where(torch.rand(grade.shape, device=grade.device) < drop, NULL, grade)
        return self.tok.grids_to_tokens(grid, self.board, self.angle, grade)

    @staticmethod
    def teacher_forcing(seq: torch.Tensor, ok: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets): the shifted target is the input; -100 where nothing is predicted."""
        x, y = seq[:, :-1], seq[:, 1:].clone()
        y[:, : PREFIX_LEN - 1] = -100  # conditions and BOS are given, not predicted
        y[y == PAD] = -100
        y[~ok] = -100  # routes longer than MAX_HOLDS (6 of 20,371) are not learned
        return x, y

    def _loss(self, batch, drop: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        grid, label = batch
        x, y = self.teacher_forcing(*self.tokens(grid, label, drop))
        logits, _ = self.model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100)
        mask = y != -100
        acc = ((logits.argmax(-1) == y) & mask).sum() / mask.sum().clamp(min=1)
        return loss, acc

    def training_step(self, batch, batch_idx):
        loss, _ = self._loss(batch, self.hparams.cond_dropout)
        self.log("train/loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(batch[1]))
        return loss

    def validation_step(self, batch, batch_idx):
        loss, acc = self._loss(batch)
        n = len(batch[1])
        self.log_dict({"val/loss": loss, "val/token_acc": acc}, prog_bar=True, batch_size=n, sync_dist=True)
        self.log("val/ppl", loss.exp(), batch_size=n, sync_dist=True)

    def test_step(self, batch, batch_idx):
        loss, acc = self._loss(batch)
        n = len(batch[1])
        self.log_dict({"test/loss": loss, "test/token_acc": acc, "test/ppl": loss.exp()}, batch_size=n)

    def configure_optimizers(self):
        decay = [p for p in self.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.dim() < 2]
        hp = self.hparams.optim
        groups = [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": no_decay, "weight_decay": 0}]
        opt = torch.optim.AdamW(groups, lr=hp["lr"], betas=(0.9, 0.95))
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warm = min(hp["warmup_steps"], total // 10 + 1)

        def lr_at(step: int) -> float:  # linear warm-up, then cosine down to 10% (nanoGPT)
            if step < warm:
                return (step + 1) / warm
            progress = min((step - warm) / max(total - warm, 1), 1.0)
            return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "name": "lr"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        mark(checkpoint, self.kind)
        save_critic(self.critic, checkpoint)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.critic = restore_critic(checkpoint, self.critic)

    # --- sampling ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        grades: Sequence[int],
        *,
        fixed: Route | None = None,
        seed: int = 0,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        guidance: float | None = None,
        constrained: bool = True,
        use_cache: bool = True,
        with_log_weights: bool = False,
    ) -> list[Route] | tuple[list[Route], np.ndarray]:
        """One route per entry of `grades` (numbered scale). Deterministic for a seed; constrained routes all
        pass check_route. guidance > 1 pushes harder towards the grade (classifier-free guidance). An option
        left at None takes the checkpoint's default (hparams `sample`).

        with_log_weights: also return, per route, log p(route) - log q(route): p the sampler without fixed holds,
        q the one that keeps them. Decoding with fixed holds is a proposal, not the model's completion: once the
        model has drawn its own first start (or end) hold, the fixed one must still follow, so routes with an
        extra start or end come out far more often than the model would pair them. Resampling with these
        weights (the sampling pipeline's matching does) gives the model's own routes that contain the fixed
        holds. 0 without fixed holds."""
        if fixed is not None and not constrained:
            raise RoutegenError("fixed holds need constrained decoding")
        given = {"temperature": temperature, "top_k": top_k, "top_p": top_p, "guidance": guidance}  # not match
        opts = {k: self.hparams.sample[k] if v is None else v for k, v in given.items()}
        class_of = {g: resolve_grade(self, g) for g in dict.fromkeys(grades)}
        classes = [class_of[g] for g in grades]
        if not classes:
            return []
        board = load_board(self.board)
        dev = self.device
        prefix = self.tok.prefix(self.board, self.angle, classes).to(dev)
        uncond = self.tok.prefix(self.board, self.angle, [None] * len(classes)).to(dev)
        constraint = RouteConstraint(self.tok, board, len(classes), fixed=fixed, constrained=constrained, device=dev)
        weigh = with_log_weights and fixed is not None
        reference = RouteConstraint(self.tok, board, len(classes), device=dev) if weigh else None
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        was_training = self.training
        self.eval()
        try:
            out = self.model.generate(
                prefix, self.tok.max_holds + 1, **opts, uncond_idx=uncond, constraint=constraint, generator=gen,
                use_cache=use_cache, reference=reference,
            )  # fmt: skip
        finally:
            self.train(was_training)
        log_w = np.zeros(len(classes))
        if weigh:
            out, log_w = out[0], out[1].cpu().double().numpy()
        routes = [self.tok.decode(row[PREFIX_LEN:].tolist()) for row in out.cpu()]
        if constrained:  # the masks guarantee validity; a failure here is a bug, not bad luck
            bad = [format_route(r) for r in routes if not check_route(r, board).ok]
            assert not bad, f"constrained decoding produced invalid routes: {bad[:3]}"
        return (routes, log_w) if with_log_weights else routes

    @torch.no_grad()
    def log_likelihood(self, routes: Sequence[Route], grades: Sequence[int] | None = None, batch: int = 1024):
        """(N,) float tensor: log p(route | grade) in nats per predicted token (each hold and the EOS), by teacher
        forcing; `grades` None: the unconditional p(route) that guidance contrasts with. A route with more holds
        than the tokenizer takes gets NaN. How typical the model finds a route's holds together
        (bench/bench_likelihood.py)."""
        grade = (torch.full((len(routes),), NULL) if grades is None
                 else torch.tensor([resolve_grade(self, g) for g in grades]) + self.tok.grade_offset)  # fmt: skip
        out = torch.full((len(routes),), float("nan"))
        was_training = self.training
        self.eval()
        try:
            for s in range(0, len(routes), batch):
                grids = routes_to_grids(list(routes[s : s + batch])).to(self.device)
                seq, ok = self.tok.grids_to_tokens(grids, self.board, self.angle, grade[s : s + batch].to(self.device))
                x, y = self.teacher_forcing(seq, ok)
                logits, _ = self.model(x)
                nll = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=-100, reduction="none").sum(1)
                per_token = -nll / (y != -100).sum(1).clamp(min=1)
                out[s : s + batch] = torch.where(ok, per_token, float("nan")).cpu()
        finally:
            self.train(was_training)
        return out
