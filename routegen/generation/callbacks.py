"""Generators during training: sample tables (val/gen_* metrics, PNGs in the run dir, a W&B table) and the
fidelity yardstick on the validation routes (val/fidelity_*).

Lightning Callbacks configured in conf/callbacks/default.yaml (`generator_samples`, `fidelity`). It needs only what every
generator has (`generate`, `board`, `trained_grades`, and `critic` when one is attached), and does nothing for a
model without `generate` (the graders), so one callbacks config serves every model.
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger

from routegen.board import load_board
from routegen.data import hold_set_key
from routegen.grades import Grade
from routegen.route import Route, check_route, format_route


class GeneratorSamples(pl.Callback):
    """Every `every_n_epochs` validation epochs: `n` routes spread over the trained grades (seed 1000 + epoch:
    new routes each time, reproducible per epoch), scored for validity, uniqueness and (with a critic) grade
    error; the first `png` drawn to <out_dir>/epoch_NNN/ and, under W&B, logged as images and a table."""

    def __init__(self, every_n_epochs: int = 5, n: int = 64, png: int = 8, out_dir: str | None = None) -> None:
        self.every_n_epochs, self.n, self.png, self.out_dir = every_n_epochs, n, png, out_dir

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        every = self.every_n_epochs
        if not hasattr(module, "generate") or trainer.sanity_checking or not every:
            return
        if (trainer.current_epoch + 1) % every:
            return
        grades = sorted(module.trained_grades)
        targets = [grades[i % len(grades)] for i in range(self.n)]
        seed = 1000 + trainer.current_epoch
        routes = module.generate(targets, seed=seed)
        raw = module.generate(targets, seed=seed, constrained=False)
        board = load_board(module.board)
        metrics = {
            "val/gen_valid": sum(check_route(r, board).ok for r in routes) / len(routes),
            "val/gen_valid_unconstrained": sum(check_route(r, board).ok for r in raw) / len(raw),
            "val/gen_unique": len({hold_set_key(r) for r in routes}) / len(routes),
        }
        critic_grades: list[str | None] = [None] * len(routes)
        critic = getattr(module, "critic", None)
        if critic is not None:
            scores = critic.score(routes)
            critic_grades = [s.grade.font for s in scores]
            metrics["val/gen_critic_mae"] = sum(abs(s.expected - t) for s, t in zip(scores, targets)) / len(routes)
        module.log_dict(metrics, sync_dist=True)
        if trainer.is_global_zero:
            k = min(self.png, len(routes))
            self._draw(trainer, board, routes[:k], targets[:k], critic_grades[:k])

    def _draw(self, trainer: pl.Trainer, board, routes: list[Route], targets: list[int], critic: list) -> None:
        from routegen.render import save_route_pngs  # matplotlib only when drawing

        titles = [
            f"target {Grade.from_number(t).font}" + (f", critic {c}" if c else "") for t, c in zip(targets, critic)
        ]
        root = Path(self.out_dir) if self.out_dir else Path(trainer.default_root_dir) / "samples"
        pngs = save_route_pngs(routes, board, root / f"epoch_{trainer.current_epoch:03d}", titles)
        for lg in trainer.loggers:
            if not isinstance(lg, WandbLogger):  # images and tables exist only on W&B
                continue
            import wandb

            lg.log_image(key="samples/images", images=[str(p) for p in pngs], caption=titles, step=trainer.global_step)
            # the picture column holds wandb.Image objects (a path string would show as text)
            rows = [[format_route(r), Grade.from_number(t).font, c or "", wandb.Image(str(p))]
                    for r, t, c, p in zip(routes, targets, critic, pngs)]  # fmt: skip
            lg.log_table("samples/table", columns=["route", "target", "critic", "picture"], data=rows,
                         step=trainer.global_step)  # fmt: skip


class FidelityMonitor(pl.Callback):
    """Every `every_n_epochs` validation epochs: the fidelity yardstick (generation/fidelity.py) of `n` routes per
    grade against the validation routes of the datamodule: val/fidelity_auc (grade-aware two-sample AUC) beside
    val/fidelity_auc_floor (real vs real, measured once), the 1-NN accuracy val/fidelity_nn and its floor, and
    with a `judge` (a grader checkpoint)
    val/fidelity_w1 and its floor. Grades: `grades` (default: generation/evaluate.py DEFAULT_GRADES) that the
    model trained on. A model without `generate` or a trainer without a datamodule of problems: nothing."""

    def __init__(self, every_n_epochs: int = 5, n: int = 100, judge: str | None = None,
                 grades: list[str] | None = None) -> None:  # fmt: skip
        self.every_n_epochs, self.n, self.judge, self.grades = every_n_epochs, n, judge, grades
        self._fidelity = None

    def _prepare(self, trainer: pl.Trainer, module):
        from routegen.generation.evaluate import DEFAULT_GRADES
        from routegen.generation.fidelity import Fidelity
        from routegen.grades import parse_grade

        splits = getattr(getattr(trainer, "datamodule", None), "splits", None) or {}
        val = splits.get("val") or []
        wanted = [parse_grade(g) for g in (self.grades or DEFAULT_GRADES.split(","))]
        grades = [g for g in wanted if g.number in module.trained_grades]
        pools = {g.font: (g.number, [p.route for p in val if p.grade == g]) for g in grades}
        pools = {g: pool for g, pool in pools.items() if pool[1]}
        if not pools:
            return None
        judge = None
        if self.judge:
            from routegen.grader.critic import Critic

            judge = Critic.load(self.judge)
        judged = {g: routes for g, (_, routes) in pools.items()} if judge is not None else None
        return Fidelity(pools, judged, judge, n=self.n, seed=0, importance=False)

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        every = self.every_n_epochs
        if not hasattr(module, "generate") or trainer.sanity_checking or not every:
            return
        if (trainer.current_epoch + 1) % every or not trainer.is_global_zero:
            return
        if self._fidelity is None:
            self._fidelity = self._prepare(trainer, module) or False
        fid = self._fidelity
        if not fid:
            return
        seed = 2000 + trainer.current_epoch
        generated = {g: module.generate([num] * fid.k[g], seed=seed + num) for g, num in fid.numbers.items()}
        m = fid.measure(generated)
        metrics = {"val/fidelity_auc": m["auc"], "val/fidelity_auc_floor": fid.floor["auc"],
                   "val/fidelity_nn": m["nn_accuracy"], "val/fidelity_nn_floor": fid.floor["nn_accuracy"]}  # fmt: skip
        if fid.judge is not None:
            metrics |= {"val/fidelity_w1": m["w1_judged"], "val/fidelity_w1_floor": fid.floor["w1_judged"]}
        module.log_dict(metrics, rank_zero_only=True)
