"""CGANModule: grade-conditioned GAN with a U-Net generator and a frozen critic in the loop (kind "cgan").

Per batch (manual optimisation, two optimiser steps):
  D: hinge loss on real routes vs generated ones (no generator gradient);
  G: hinge adversarial loss + critic_weight * |critic expected grade - target| (+ structure hinge, per-grade
     statistics matching against the real routes, mode-seeking term).
The generator's per-cell 4-way choice (none/start/middle/end) goes through a straight-through Gumbel-softmax:
one-hot grids forward (like the real routes the discriminator sees), soft gradients backward at temperature
tau, annealed from tau_start to tau_end over `anneal_epochs`. A random subset of each real route's holds is
given as fixed (with probability `fixed_prob`), so route completion is learned. docs/gan.md
This file trains and validates; turning a trained generator's output into routes is routegen/gan/generate.py.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytorch_lightning as pl
import torch

from routegen.board import COLS, ROWS, load_board
from routegen.checkpoints import config_groups, mark
from routegen.data import LabelScale
from routegen.encoding import board_mask, routes_to_grids
from routegen.gan.decode import classes_to_route, decode, sample_classes
from routegen.gan.generate import generate_routes
from routegen.gan.iterative import iterative_routes
from routegen.gan.losses import (
    completion_loss,
    d_hinge_loss,
    g_hinge_loss,
    gumbel_straight_through,
    pair_distance,
    random_fixed,
    route_stats,
    stats_gap,
    structure_loss,
)
from routegen.gan.nets import ProjectionDiscriminator, UNetConfig, UNetGenerator
from routegen.gan.prior import DecodePriors, decode_counts
from routegen.generation.base import GradeConditioned, resolve_grade
from routegen.grader.critic import Critic, load_critic, restore_critic, save_critic
from routegen.route import check_route

DIVERSITY_CAP = 10.0  # cells: below the ~14 in which two real routes differ, so scattering holds never pays
# each config group's defaults (conf/model/cgan.yaml); a partial group (`model.loss.critic_weight=0`) keeps the rest
DEFAULTS = {
    "generator": {"noise_ch": 8, "cond_dim": 16, "base": 32},  # U-Net: noise channels, grade embedding, width
    "discriminator": {"base": 32, "minibatch_std": 0},  # minibatch_std: group size of that feature (0: off)
    "optim": {"lr_g": 4e-4, "lr_d": 4e-4, "beta1": 0.5, "beta2": 0.999, "grad_clip": 1.0},
    "loss": {
        "critic_weight": 1.0,  # 0 with a critic: the critic only monitors (a fair ablation)
        "critic_batch": 32,  # fakes per step the critic loss sees (0 = all): its dense pass dominates CPU time
        "critic_from_epoch": 0.0,  # the critic term joins at this epoch (0: from the start) ...
        "critic_ramp_epochs": 0.0,  # ... and fades in linearly over this many epochs (0: at once)
        "diversity_weight": 0.3,  # mode-seeking reward per differing cell (pairs of fakes)
        "structure_weight": 1.0,  # hinge on the expected start / end / hold counts (1-2, 1-2, 3-14)
        "stats_weight": 0.0,  # per-grade match of role counts and holds per row to the real routes' means
        "tau_start": 1.0,  # Gumbel-softmax temperature, annealed linearly to tau_end over anneal_epochs
        "tau_end": 0.3,
        "anneal_epochs": 8.0,
        "gumbel_scale": 1.0,  # Gumbel noise in the fakes' per-cell draw (0: straight-through argmax, noise input only)
        "fixed_prob": 0.5,  # share of real routes given a random subset of their holds as fixed (completion)
        "completion_weight": 0.0,  # cross-entropy of the real route's other holds given the fixed ones (0: off)
        "adversarial_weight": 1.0,  # the hinge term against the discriminator (0: no GAN, the discriminator idle)
        "cond_dropout": 0.0,  # share of fakes drawn for "any grade" (> 0: the generator learns it, for guidance)
    },
    "decode": {
        "move_weight": 0.3,  # prior decoding: weight of the grade's move shares in placing holds (0: off)
        "placement": "greedy",  # middle holds one at a time ("greedy") or drawn as one chain of moves ("chain")
        "chain_delta": None,  # chain: per grade class, its moves', offsets' and turns' fitted log weights (gan/chain_fit.py)
        "hold_weight": 1.0,  # prior decoding: weight of the grade's start / end hold shares (0: off); chosen on val
        "max_gap": 5,  # prior decoding: most rows between consecutive holds (the rule: 8); 5 in checkpoints before it
        "realism": 1,  # generate()'s default: candidates per route, the discriminator keeps the most real
        "realism_head": None,  # calibrated realism score for that choice (gan/select.py fit_realism_head)
        # the sampling pipeline's critic matching (generation/match.py): candidates per route, each weighted
        # also by the realism trees' (else the realism head's) real / generated ratio; chosen by `routegen
        # calibrate --match auto`
        "match": 1,
        "realism_trees": None,  # generation/realism.py, fitted by `routegen calibrate --realism-trees`
        "match_profiles": None,  # its own grade profiles for matching (generation/match.py; calibrate --match)
        "guidance": 1.0,  # grade contrast per generator pass (UNetGenerator.guided; needs loss.cond_dropout > 0)
    },
}


class CGANModule(GradeConditioned, pl.LightningModule):
    kind = "cgan"
    sampling_group = "decode"  # match and realism_trees live in hparams.decode
    # mean |critic grade - target| of decoded val routes + the naive (undecoded) invalid fraction; without a
    # critic only the second term. A quality metric, never a GAN loss.
    monitor = ("val/quality", "min")

    def __init__(
        self,
        board: str = "2016",
        angle: int = 40,
        label: str = "font",
        generator: Mapping | None = None,
        discriminator: Mapping | None = None,
        optim: Mapping | None = None,
        loss: Mapping | None = None,
        decode: Mapping | None = None,
        critic_ckpt: str | None = None,  # grader run dir or checkpoint; None: no critic (ablation)
        noise_seed: int = 0,  # the training noise; not "seed", which the datamodule's split seed would clash with
        class_counts: list[int] | None = None,  # filled from the training split at fit time (trained grades)
        decode_prior: dict | None = None,  # hold / start / end counts and moves of the training split (gan/prior.py)
        seed: int | None = None,  # the old name of noise_seed, in checkpoints written before the rename
    ) -> None:
        super().__init__()
        noise_seed = noise_seed if seed is None else seed
        self.save_hyperparameters(
            config_groups(DEFAULTS, generator=generator, discriminator=discriminator, optim=optim, loss=loss,
                          decode=decode)
            | {"board": board, "angle": angle, "label": label, "critic_ckpt": critic_ckpt, "noise_seed": noise_seed,
               "class_counts": class_counts, "decode_prior": decode_prior}
        )  # fmt: skip
        self.automatic_optimization = False
        self.scale = LabelScale(label)
        C = self.scale.num_classes
        g, d = self.hparams.generator, self.hparams.discriminator
        null_grade = self.hparams.loss["cond_dropout"] > 0
        self.generator = UNetGenerator(UNetConfig(C, g["noise_ch"], g["cond_dim"], g["base"], null_grade),
                                       board_mask(load_board(board)))  # fmt: skip
        self.discriminator = ProjectionDiscriminator(C, d["base"], d["minibatch_std"])
        self.critic: Critic | None = None  # from critic_ckpt in setup(), or from the checkpoint on load
        self.priors = DecodePriors(decode_prior, self.free_logits) if decode_prior else None
        numbers = [self.scale.number_of_class(i) for i in range(C)]
        self.register_buffer("class_numbers", torch.tensor(numbers, dtype=torch.float), persistent=False)
        # running sums of the real routes' statistics per grade (training only: the target of stats_gap)
        self.register_buffer("real_stat_sum", torch.zeros(C, 21), persistent=False)
        self.register_buffer("real_stat_n", torch.zeros(C), persistent=False)
        self._gen: torch.Generator | None = None

    # --- training ---------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        if self.critic is None and self.hparams.critic_ckpt:
            self.critic = load_critic(self.hparams.critic_ckpt, self.board)
        dm = self.attach_datamodule(self._trainer, stage)
        if dm is not None and stage == "fit":
            self.set_decode_prior(dm.splits["train"])

    def set_decode_prior(self, problems) -> None:
        """Record the training routes' counts for prior decoding (kept in the hparams, gan/prior.py)."""
        self.hparams.decode_prior = decode_counts(problems, self.scale)
        self.priors = DecodePriors(self.hparams.decode_prior, self.free_logits)

    def on_fit_start(self) -> None:
        # every rank its own noise: seed_everything alone would give all ranks the same fakes
        self._gen = torch.Generator(device=self.device).manual_seed(self.hparams.noise_seed + self.global_rank)

    def on_train_epoch_start(self) -> None:
        if self.priors is not None:  # the generator will change: calibrate the decoding thresholds anew
            self.priors.reset()

    def epoch_progress(self, batch_idx: int) -> float:
        """Epochs trained so far, fractional: the clock of the annealed temperature and the critic's fade-in."""
        return self.current_epoch + batch_idx / max(1, int(self.trainer.num_training_batches))

    def tau(self, batch_idx: int) -> float:
        hp = self.hparams.loss
        t = min(1.0, self.epoch_progress(batch_idx) / max(hp["anneal_epochs"], 1e-9))
        return hp["tau_start"] + (hp["tau_end"] - hp["tau_start"]) * t

    def critic_weight(self, batch_idx: int) -> float:
        """The critic term's weight now: 0 before critic_from_epoch, then a linear fade-in over critic_ramp_epochs
        to critic_weight. A late critic lets the completion term fit first, which the critic's pull slows
        (docs/gan.md, "Iterative placement")."""
        hp = self.hparams.loss
        since = self.epoch_progress(batch_idx) - hp.get("critic_from_epoch", 0.0)
        if since < 0:
            return 0.0
        ramp = hp.get("critic_ramp_epochs", 0.0)
        return hp["critic_weight"] * (min(1.0, since / ramp) if ramp > 0 else 1.0)

    def noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn((n, self.hparams.generator["noise_ch"], *self.generator.board.shape[1:]), generator=gen,
                           device=self.device)  # fmt: skip

    @torch.no_grad()
    def free_logits(self, grade_class: int, n: int, seed: int) -> torch.Tensor:
        """(n, 4, 18, 11) CPU logits of n routes of a grade without fixed holds (decoding-prior calibration)."""
        y = torch.full((n,), grade_class, device=self.device)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        fixed = torch.zeros((n, 3, ROWS, COLS), device=self.device)
        return self.generator(self.noise(n, gen), y, fixed).cpu()

    def relaxed(self, y, fixed, tau: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through Gumbel-softmax sample: one-hot (B, 3, 18, 11) grid forward, soft gradients back."""
        logits = self.generator(self.noise(len(y), gen), y, fixed)  # (B, 4, 18, 11)
        return gumbel_straight_through(logits, tau, gen, self.hparams.loss["gumbel_scale"])[:, 1:], logits

    def random_fixed(self, real: torch.Tensor, gen: torch.Generator, prob: float | None = None) -> torch.Tensor:
        """Per route, with probability fixed_prob (or `prob`): a random subset (keep rate ~ U(0, 1)) of its holds
        as fixed."""
        return random_fixed(real, gen, self.hparams.loss["fixed_prob"] if prob is None else prob)

    def training_step(self, batch, batch_idx: int) -> None:
        real, y = batch
        opt_g, opt_d = self.optimizers()
        hp, gen = self.hparams.loss, self._gen
        if gen is None:  # e.g. a bare call outside trainer.fit
            self.on_fit_start()
            gen = self._gen
        tau, clip = self.tau(batch_idx), self.hparams.optim["grad_clip"]
        fixed = self.random_fixed(real, gen)
        keep = torch.ones(len(y), dtype=torch.bool, device=self.device)
        if hp["cond_dropout"] > 0:  # drawn for "any grade": only the grade-free terms (completion, ...) see them
            keep = torch.rand(len(y), generator=gen, device=self.device) >= hp["cond_dropout"]
        yf, ff, rf, kf = y, fixed, real, keep  # the fakes' conditions and the real routes they were taken from
        if hp["diversity_weight"] > 0:  # pairs of fakes sharing a condition, for the mode-seeking term
            h = len(y) // 2  # [first half, first half again, odd one out]: pair_distance compares the halves
            pairs = lambda t: torch.cat([t[:h], t[:h], t[2 * h :]])  # noqa: E731
            yf, ff, rf, kf = pairs(y), pairs(fixed), pairs(real), pairs(keep)
        yg = torch.where(kf, yf, self.generator.cfg.num_grades)  # the generator's condition (the last: any grade)
        graded = bool(kf.any())  # the grade-aware terms score only the fakes drawn for a grade
        adversarial = hp["adversarial_weight"] > 0 and graded
        logs = {"train/tau": torch.tensor(tau)}

        if adversarial:
            with self.toggled_optimizer(opt_d):
                with torch.no_grad():
                    fake, _ = self.relaxed(yg, ff, tau, gen)
                d_real, d_fake = self.discriminator(real, y), self.discriminator(fake[kf], yf[kf])
                d_loss = d_hinge_loss(d_real, d_fake)
                opt_d.zero_grad()
                self.manual_backward(d_loss)
                self.clip_gradients(opt_d, gradient_clip_val=clip, gradient_clip_algorithm="norm")
                opt_d.step()
            logs["train/d_loss"] = d_loss

        with self.toggled_optimizer(opt_g):
            fake, logits = self.relaxed(yg, ff, tau, gen)
            g_loss = torch.zeros((), device=self.device)
            if adversarial:
                g_adv = g_hinge_loss(self.discriminator(fake[kf], yf[kf]))
                g_loss = g_loss + hp["adversarial_weight"] * g_adv
                logs["train/g_adv"] = g_adv
            critic_weight = self.critic_weight(batch_idx) if self.critic is not None and graded else 0.0
            if critic_weight > 0:
                k = hp["critic_batch"] or len(yf)
                fk, yk = fake[kf][:k], yf[kf][:k]
                crit = (self.critic.expected_number(fk) - self.class_numbers[yk]).abs().mean()
                g_loss = g_loss + critic_weight * crit
                logs["train/critic_mae"] = crit
                logs["train/critic_weight"] = torch.tensor(critic_weight)
            if hp["structure_weight"] > 0:
                st = structure_loss(torch.softmax(logits, dim=1))
                g_loss = g_loss + hp["structure_weight"] * st
                logs["train/structure"] = st
            if hp["stats_weight"] > 0 and graded:
                st = self.stats_loss(real, y, torch.softmax(logits, dim=1)[kf], yf[kf])
                g_loss = g_loss + hp["stats_weight"] * st
                logs["train/stats_gap"] = st
            if hp.get("completion_weight", 0.0) > 0:
                ce = self.completion_term(logits, rf, ff)
                g_loss = g_loss + hp["completion_weight"] * ce
                logs["train/completion_ce"] = ce
            if hp["diversity_weight"] > 0:
                # mode seeking: two fakes with one condition but other noise should differ (capped reward)
                dist = pair_distance(torch.softmax(logits, dim=1))  # (B // 2,) cells that differ
                g_loss = g_loss - hp["diversity_weight"] * dist.clamp(max=DIVERSITY_CAP).mean()
                logs["train/pair_distance"] = dist.mean()
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            self.clip_gradients(opt_g, gradient_clip_val=clip, gradient_clip_algorithm="norm")
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
        seed = self.hparams.noise_seed + 10_000 + self.global_rank
        self._val_gen = torch.Generator(device=self.device).manual_seed(seed)

    def on_test_epoch_start(self) -> None:
        self.on_validation_epoch_start()

    def _eval_step(self, batch, stage: str, batch_idx: int) -> None:
        real, y = batch
        gen = self._val_gen
        with torch.no_grad():
            fixed = torch.zeros((len(y), 3, ROWS, COLS), device=self.device)
            logits = self.generator(self.noise(len(y), gen), y, fixed).cpu()
        board = load_board(self.board)
        cpu_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen, device=self.device)))
        naive = [classes_to_route(sample_classes(x, 1.0, cpu_gen)) for x in logits]
        if self.hparams.decode.get("placement") == "iterative":  # judged as they will be drawn (gan/iterative.py)
            routes = iterative_routes(self, self.noise(len(y), gen), y, fixed, 1.0, cpu_gen)
        else:
            routes = [decode(x, board, generator=cpu_gen) for x in logits]
        invalid = torch.tensor([not check_route(r, board).ok for r in naive], dtype=torch.float).mean()
        n_holds = torch.tensor([len(r.hold_set) for r in naive], dtype=torch.float).mean()
        unique = len({r.hold_set for r in routes}) / len(routes)
        logs = {f"{stage}/naive_invalid": invalid, f"{stage}/naive_holds": n_holds,
                f"{stage}/batch_unique": torch.tensor(unique)}  # fmt: skip
        quality = invalid.to(self.device)
        if self.critic is not None:
            grids = routes_to_grids(routes).to(self.device)
            mae = (self.critic.expected_number(grids) - self.class_numbers[y]).abs().mean()
            logs[f"{stage}/critic_mae"] = mae
            quality = quality + mae
        logs[f"{stage}/quality"] = quality
        if self.hparams.loss.get("completion_weight", 0) > 0:
            logs[f"{stage}/completion_ce"] = self.heldout_completion_ce(real, y, batch_idx)
        self.log_dict(logs, prog_bar=True, sync_dist=True, batch_size=len(y))

    @torch.no_grad()
    def heldout_completion_ce(self, real: torch.Tensor, y: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """The completion term on held-out routes (nats per hold to place), each with a random subset of its
        holds fixed. The subsets and noise depend on the batch only, so every epoch is scored on the same
        questions: a likelihood to compare checkpoints by, which the GAN losses do not give."""
        gen = torch.Generator(device=self.device).manual_seed(self.hparams.noise_seed + 20_000 + batch_idx)
        fixed = self.random_fixed(real, gen, prob=1.0)
        return self.completion_term(self.generator(self.noise(len(y), gen), y, fixed), real, fixed)

    def completion_term(self, logits: torch.Tensor, real: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
        """The completion loss (losses.py) over this board's cells: training's term and validation's metric."""
        return completion_loss(logits, real, fixed, self.generator.board[0] > 0)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "val", batch_idx)

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "test", batch_idx)

    def configure_optimizers(self):
        hp = self.hparams.optim
        betas = (hp["beta1"], hp["beta2"])
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp["lr_g"], betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp["lr_d"], betas=betas)
        return [opt_g, opt_d]  # no schedulers: the LR monitor logs lr-Adam (G) and lr-Adam-1 (D)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        mark(checkpoint, self.kind)
        save_critic(self.critic, checkpoint)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.critic = restore_critic(checkpoint, self.critic)

    def candidate_log_weights(self, routes, number: int):
        """Log real / decoded per route (DRS): the realism trees' logit where fitted, else the discriminator's
        realism head's; None without either."""
        if self.realism_trees:
            return super().candidate_log_weights(routes, number)
        head = self.hparams.decode.get("realism_head")
        if not head or self.discriminator is None:
            return None
        from routegen.gan.select import realism_scores

        y = torch.full((len(routes),), resolve_grade(self, number), device=self.device)
        was_training = self.training
        self.eval()  # spectral norm must not step its power iteration
        try:
            return realism_scores(self.discriminator, routes, y, head).double().numpy()
        finally:
            self.train(was_training)

    # --- sampling: routegen/gan/generate.py -------------------------------------------------------------
    # generate(grades, *, fixed, seed, temperature, constrained, prior, realism): one route per entry of `grades`
    # (numbered scale), deterministic for a seed; the module is the function's first argument
    generate = generate_routes
