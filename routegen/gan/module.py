"""CGANModule: grade-conditioned GAN with a U-Net generator and a frozen critic in the loop (kind "cgan").

Per batch (manual optimisation, two optimiser steps):
  D: hinge loss on real routes vs generated ones (no generator gradient);
  G: hinge adversarial loss + critic_weight * |critic expected grade - target| (+ structure hinge, per-grade
     statistics matching against the real routes, mode-seeking term).
The generator's per-cell 4-way choice (none/start/middle/end) goes through a straight-through Gumbel-softmax:
one-hot grids forward (like the real routes the discriminator sees), soft gradients backward at temperature
tau, annealed from tau_start to tau_end over `anneal_epochs`. A random subset of each real route's holds is
given as fixed (with probability `fixed_prob`), so route completion is learned. docs/gan.md
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytorch_lightning as pl
import torch

from routegen.board import COLS, ROWS, load_board
from routegen.data import LabelScale
from routegen.encoding import board_mask, routes_to_grids
from routegen.errors import RoutegenError
from routegen.gan.decode import check_fixed, classes_to_route, decode, fixed_grid, naive_decode, sample_classes
from routegen.gan.losses import (
    d_hinge_loss,
    g_hinge_loss,
    gumbel_straight_through,
    pair_distance,
    route_stats,
    stats_gap,
    structure_loss,
)
from routegen.gan.nets import ProjectionDiscriminator, UNetConfig, UNetGenerator
from routegen.gan.prior import DecodePrior, DecodePriorMixin
from routegen.gan.select import most_real
from routegen.generation.base import GradeConditioned
from routegen.grader.critic import CRITIC_KEY, drop_critic_state, grader_from_recipe, grader_recipe
from routegen.route import Route, check_route

log = logging.getLogger(__name__)
GEN_CHUNK = 256  # routes per generator pass in generate() (same results, per-sample ops; bounds memory)
DIVERSITY_CAP = 10.0  # cells: below the ~14 in which two real routes differ, so scattering holds never pays


class CGANModule(GradeConditioned, DecodePriorMixin, pl.LightningModule):
    # mean |critic grade - target| of decoded val routes + the naive (undecoded) invalid fraction; without a
    # critic only the second term. A quality metric, never a GAN loss.
    monitor = ("val/quality", "min")

    def __init__(
        self,
        board: str = "2016",
        angle: int = 40,
        label: str = "font",
        noise_ch: int = 8,
        cond_dim: int = 16,
        g_base: int = 32,
        d_base: int = 32,
        lr_g: float = 4e-4,
        lr_d: float = 4e-4,
        beta1: float = 0.5,
        beta2: float = 0.999,
        grad_clip: float = 1.0,
        critic_ckpt: str | None = None,  # grader run dir or checkpoint; None: no critic (ablation)
        critic_weight: float = 1.0,  # 0 with a critic: the critic only monitors (a fair ablation)
        critic_batch: int = 32,  # fakes per step the critic loss sees (0 = all): its dense pass dominates CPU time
        diversity_weight: float = 0.3,  # mode-seeking reward per differing cell (pairs of fakes)
        structure_weight: float = 1.0,  # hinge on the expected start / end / hold counts (1-2, 1-2, 3-14)
        stats_weight: float = 0.0,  # per-grade match of role counts and holds per row to the real routes' means
        tau_start: float = 1.0,
        tau_end: float = 0.3,
        anneal_epochs: float = 8.0,
        fixed_prob: float = 0.5,
        seed: int = 0,
        class_counts: list[int] | None = None,  # filled from the training split at fit time (trained grades)
        decode_prior: dict | None = None,  # hold / start / end counts of the training split (gan_prior.data_prior)
        move_weight: float = 0.3,  # prior decoding: weight of the grade's move shares in placing holds (0: off)
        realism: int = 1,  # generate()'s default: candidates per route, the discriminator keeps the most real
        realism_head: dict | None = None,  # calibrated realism score for that choice (gan_select.fit_realism_head)
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.scale = LabelScale(label)
        C = self.scale.num_classes
        mask = board_mask(load_board(board))
        self.generator = UNetGenerator(UNetConfig(C, noise_ch, cond_dim, g_base), mask)
        self.discriminator = ProjectionDiscriminator(C, d_base)
        self.critic = None  # built in setup() from critic_ckpt, or in on_load_checkpoint() from the checkpoint
        self._critic_saved: dict | None = None
        numbers = [self.scale.number_of_class(i) for i in range(C)]
        self.register_buffer("class_numbers", torch.tensor(numbers, dtype=torch.float), persistent=False)
        # running sums of the real routes' statistics per grade (training only: the target of stats_gap)
        self.register_buffer("real_stat_sum", torch.zeros(C, 21), persistent=False)
        self.register_buffer("real_stat_n", torch.zeros(C), persistent=False)
        self._gen: torch.Generator | None = None
        self._thresholds: dict[int, tuple[float, float]] = {}  # per grade class, calibrated on first use
        self._priors: dict[tuple[int, float], DecodePrior] = {}  # per grade class and move weight

    # --- the critic --------------------------------------------------------------------------------------
    def _attach_critic(self, grader) -> None:
        """Wrap a GraderModule as the frozen critic; keep its recipe so checkpoints can rebuild it."""
        from routegen.grader.critic import Critic

        critic = Critic(grader)
        if critic.board != self.board:
            raise RoutegenError(f"critic is for board {critic.board}; this model is for board {self.board}")
        self.critic = critic.eval().requires_grad_(False)  # Critic.train() keeps it in eval under our .train()
        self._critic_saved = grader_recipe(grader)

    # --- training ---------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        if self.critic is None and self.hparams.critic_ckpt:
            from routegen.checkpoints import load_module

            self._attach_critic(load_module(self.hparams.critic_ckpt, expect="grader"))
        dm = self.attach_datamodule(self._trainer, stage)
        if dm is not None and stage == "fit":
            self.set_decode_prior(dm.splits["train"])

    def on_fit_start(self) -> None:
        # every rank its own noise: seed_everything alone would give all ranks the same fakes
        self._gen = torch.Generator(device=self.device).manual_seed(self.hparams.seed + self.global_rank)

    def tau(self, batch_idx: int) -> float:
        hp = self.hparams
        epoch = self.current_epoch + batch_idx / max(1, int(self.trainer.num_training_batches))
        t = min(1.0, epoch / max(hp.anneal_epochs, 1e-9))
        return hp.tau_start + (hp.tau_end - hp.tau_start) * t

    def noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn((n, self.hparams.noise_ch, *self.generator.board.shape[1:]), generator=gen,
                           device=self.device)  # fmt: skip

    def relaxed(self, y, fixed, tau: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through Gumbel-softmax sample: one-hot (B, 3, 18, 11) grid forward, soft gradients back."""
        logits = self.generator(self.noise(len(y), gen), y, fixed)  # (B, 4, 18, 11)
        return gumbel_straight_through(logits, tau, gen)[:, 1:], logits

    def random_fixed(self, real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Per route, with probability fixed_prob: a random subset (keep rate ~ U(0, 1)) of its holds as fixed."""
        B = real.shape[0]
        use = torch.rand((B, 1, 1, 1), generator=gen, device=self.device) < self.hparams.fixed_prob
        rate = torch.rand((B, 1, 1, 1), generator=gen, device=self.device)
        keep = torch.rand(real.shape, generator=gen, device=self.device) < rate
        return real * (use & keep)

    def training_step(self, batch, batch_idx: int) -> None:
        real, y = batch
        opt_g, opt_d = self.optimizers()
        hp, gen = self.hparams, self._gen
        if gen is None:  # e.g. a bare call outside trainer.fit
            self.on_fit_start()
            gen = self._gen
        tau = self.tau(batch_idx)
        fixed = self.random_fixed(real, gen)
        yf, ff = y, fixed
        if hp.diversity_weight > 0:  # pairs of fakes sharing a condition, for the mode-seeking term
            h = len(y) // 2  # [first half, first half again, odd one out]: pair_distance compares the halves
            yf, ff = torch.cat([y[:h], y[:h], y[2 * h :]]), torch.cat([fixed[:h], fixed[:h], fixed[2 * h :]])

        with self.toggled_optimizer(opt_d):
            with torch.no_grad():
                fake, _ = self.relaxed(yf, ff, tau, gen)
            d_real, d_fake = self.discriminator(real, y), self.discriminator(fake, yf)
            d_loss = d_hinge_loss(d_real, d_fake)
            opt_d.zero_grad()
            self.manual_backward(d_loss)
            self.clip_gradients(opt_d, gradient_clip_val=hp.grad_clip, gradient_clip_algorithm="norm")
            opt_d.step()

        with self.toggled_optimizer(opt_g):
            fake, logits = self.relaxed(yf, ff, tau, gen)
            g_adv = g_hinge_loss(self.discriminator(fake, yf))
            g_loss = g_adv
            logs = {"train/d_loss": d_loss, "train/g_adv": g_adv, "train/tau": torch.tensor(tau)}
            if self.critic is not None and hp.critic_weight > 0:
                k = hp.critic_batch or len(yf)
                crit = (self.critic.expected_number(fake[:k]) - self.class_numbers[yf[:k]]).abs().mean()
                g_loss = g_loss + hp.critic_weight * crit
                logs["train/critic_mae"] = crit
            if hp.structure_weight > 0:
                st = structure_loss(torch.softmax(logits, dim=1))
                g_loss = g_loss + hp.structure_weight * st
                logs["train/structure"] = st
            if hp.stats_weight > 0:
                st = self.stats_loss(real, y, torch.softmax(logits, dim=1), yf)
                g_loss = g_loss + hp.stats_weight * st
                logs["train/stats_gap"] = st
            if hp.diversity_weight > 0:
                # mode seeking: two fakes with one condition but other noise should differ (capped reward)
                dist = pair_distance(torch.softmax(logits, dim=1))  # (B // 2,) cells that differ
                g_loss = g_loss - hp.diversity_weight * dist.clamp(max=DIVERSITY_CAP).mean()
                logs["train/pair_distance"] = dist.mean()
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            self.clip_gradients(opt_g, gradient_clip_val=hp.grad_clip, gradient_clip_algorithm="norm")
            opt_g.step()
        logs["train/g_loss"] = g_loss
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=True, batch_size=len(y))

    def stats_loss(self, real: torch.Tensor, y: torch.Tensor, p_fake: torch.Tensor, yf: torch.Tensor) -> torch.Tensor:
        """Moment matching per grade against the running mean of every real route seen so far."""
        with torch.no_grad():
            real4 = torch.cat([1 - real.sum(1, keepdim=True), real], dim=1)  # add the "none" channel
            self.real_stat_sum.index_add_(0, y, route_stats(real4))
            self.real_stat_n += torch.bincount(y, minlength=len(self.real_stat_n)).to(self.real_stat_n.dtype)
            target = self.real_stat_sum / self.real_stat_n.clamp(min=1)[:, None]
        return stats_gap(route_stats(p_fake), target, yf, len(target))

    # --- validation: generated routes judged like users get them -----------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._val_gen = torch.Generator(device=self.device).manual_seed(self.hparams.seed + 10_000 + self.global_rank)

    def on_test_epoch_start(self) -> None:
        self.on_validation_epoch_start()

    def _eval_step(self, batch, stage: str) -> None:
        _, y = batch
        gen = self._val_gen
        with torch.no_grad():
            fixed = torch.zeros((len(y), 3, ROWS, COLS), device=self.device)
            logits = self.generator(self.noise(len(y), gen), y, fixed).cpu()
        board = load_board(self.board)
        cpu_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen, device=self.device)))
        naive = [classes_to_route(sample_classes(x, 1.0, cpu_gen)) for x in logits]
        routes = [decode(x, board, generator=cpu_gen) for x in logits]
        invalid = torch.tensor([not check_route(r, board).ok for r in naive], dtype=torch.float).mean()
        n_holds = torch.tensor([len(r.hold_set) for r in naive], dtype=torch.float).mean()
        unique = len({r.hold_set for r in routes}) / len(routes)
        logs = {f"{stage}/naive_invalid": invalid, f"{stage}/naive_holds": n_holds,
                f"{stage}/batch_unique": torch.tensor(unique)}  # fmt: skip
        quality = invalid.to(self.device)
        if self.critic is not None:
            from routegen.encoding import routes_to_grids

            grids = routes_to_grids(routes).to(self.device)
            mae = (self.critic.expected_number(grids) - self.class_numbers[y]).abs().mean()
            logs[f"{stage}/critic_mae"] = mae
            quality = quality + mae
        logs[f"{stage}/quality"] = quality
        self.log_dict(logs, prog_bar=True, sync_dist=True, batch_size=len(y))

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def configure_optimizers(self):
        hp = self.hparams
        betas = (hp.beta1, hp.beta2)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr_g, betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr_d, betas=betas)
        return [opt_g, opt_d]  # no schedulers: the LR monitor logs lr-Adam (G) and lr-Adam-1 (D)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["routegen_kind"] = "cgan"
        drop_critic_state(checkpoint["state_dict"])
        checkpoint[CRITIC_KEY] = self._critic_saved  # routegen/grader/critic.py: why not in the state dict

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        saved, sd = checkpoint.get(CRITIC_KEY), checkpoint["state_dict"]
        if saved and self.critic is None:
            self._attach_critic(grader_from_recipe(saved, sd))
        drop_critic_state(sd)
        if self.critic is not None:  # strict loading then finds the critic as just built
            sd.update({f"critic.{k}": v for k, v in self.critic.state_dict().items()})

    # --- sampling ---------------------------------------------------------------------------------------
    def _grade_error(self, routes: list[Route], y: torch.Tensor) -> torch.Tensor | None:
        """|expected grade - target| by the critic this GAN was trained with (None without one, e.g. the ablation)."""
        if self.critic is None or self.hparams.critic_weight <= 0:
            return None
        grids = routes_to_grids(routes).to(self.device)
        return (self.critic.expected_number(grids) - self.class_numbers[y]).abs().cpu()

    @torch.no_grad()
    def generate(
        self,
        grades: Sequence[int],
        *,
        fixed: Route | None = None,
        seed: int = 0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        guidance: float = 1.0,
        constrained: bool = True,
        prior: bool = True,
        realism: int | None = None,
    ) -> list[Route]:
        """One route per entry of `grades` (numbered scale), deterministic for a seed. `temperature` scales the
        per-cell logits before sampling (0 = argmax). constrained=False is the naive decode (may be invalid);
        fixed holds appear in their roles in every route either way. prior=True (with constrained, when the
        checkpoint has a decode prior) takes the hold / start / end counts from the training data (gan_prior).
        realism=K > 1 decodes K candidates per route; the half closest to the target by the GAN's critic (when it
        was trained with one) compete, and the one the discriminator (through the calibrated `realism_head` when
        the checkpoint has one) scores most real wins (routegen/gan/select.py); None = the checkpoint's default
        (hparam `realism`), 1 = no selection."""
        for name, value, default in (("top_k", top_k, None), ("top_p", top_p, None), ("guidance", guidance, 1.0)):
            if value != default:
                raise RoutegenError(f"{name}={value} does not apply to the cGAN (it samples per cell, no tokens)")
        if temperature < 0:
            raise RoutegenError(f"temperature must be >= 0 (got {temperature})")
        k = self.hparams.get("realism", 1) if realism is None else realism
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise RoutegenError(f"realism must be an integer >= 1 (got {k!r})")
        if k > 1 and getattr(self, "discriminator", None) is None:
            raise RoutegenError(f"realism={k} needs the discriminator, and this cGAN has none")
        classes = [self.grade_class(g) for g in grades]
        board = load_board(self.board)
        if fixed is not None:
            check_fixed(fixed, board)
        if not classes:
            return []
        y = torch.tensor(classes, device=self.device).repeat_interleave(k)  # k candidates per route, side by side
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        cpu_gen = torch.Generator().manual_seed(int(seed))
        fx = fixed_grid(fixed).to(self.device).expand(len(y), -1, -1, -1)
        was_training = self.training
        self.eval()  # also keeps the discriminator's spectral norm from stepping its power iteration
        try:
            z, step = self.noise(len(y), gen), GEN_CHUNK  # a CPU runs 8 x 256 grids ~2x faster than 1 x 2048
            parts = [self.generator(z[i : i + step], y[i : i + step], fx[i : i + step]) for i in range(0, len(y), step)]
            logits = torch.cat(parts).cpu()
            if constrained:
                priors = [self.decode_prior(c) if prior else None for c in y.tolist()]
                routes = [decode(x, board, fixed, temperature, cpu_gen, p) for x, p in zip(logits, priors)]
            else:
                routes = [naive_decode(x, temperature, cpu_gen, fixed) for x in logits]
            if k == 1:
                return routes
            return most_real(
                self.discriminator, routes, y, k, self.hparams.get("realism_head"), self._grade_error(routes, y)
            )
        finally:
            self.train(was_training)
