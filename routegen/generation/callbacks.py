"""Sample tables during training: cheap generation metrics on val, PNGs in the run dir, a W&B table if W&B logs.

Model-agnostic: works for any module with `generate` / `board` / `trained_grades` (AR transformer, cGAN).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger

from routegen.board import load_board
from routegen.data import hold_set_key
from routegen.grades import Grade
from routegen.route import check_route, format_route


def log_samples(module: pl.LightningModule) -> None:
    hp = module.hparams
    grades = sorted(module.trained_grades)
    targets = [grades[i % len(grades)] for i in range(hp.sample_n)]
    seed = 1000 + module.current_epoch  # new routes each time, reproducible per epoch
    board = load_board(module.board)
    routes = module.generate(targets, seed=seed)
    raw = module.generate(targets, seed=seed, constrained=False)
    valid = sum(check_route(r, board).ok for r in routes) / len(routes)
    metrics = {
        "val/gen_valid": valid,
        "val/gen_valid_unconstrained": sum(check_route(r, board).ok for r in raw) / len(raw),
        "val/gen_unique": len({hold_set_key(r) for r in routes}) / len(routes),
    }
    critic_grades: list[str | None] = [None] * len(routes)
    critic = module.critic() if hasattr(module, "critic") else None
    if critic is not None:
        scores = critic.score(routes)
        critic_grades = [s.grade.font for s in scores]
        metrics["val/gen_critic_mae"] = sum(abs(s.expected - t) for s, t in zip(scores, targets)) / len(routes)
    module.log_dict(metrics, sync_dist=True)

    from routegen.render import save_route_pngs  # matplotlib only when drawing

    k = min(hp.sample_png, len(routes))
    titles = [
        f"target {Grade.from_number(t).font}" + (f", critic {c}" if c else "") for t, c in zip(targets, critic_grades)
    ]
    out_dir = Path(module.trainer.default_root_dir) / "samples" / f"epoch_{module.current_epoch:03d}"
    if module.trainer.is_global_zero:
        pngs = save_route_pngs(routes[:k], board, out_dir, titles[:k])
        for lg in module.loggers:
            if isinstance(lg, WandbLogger):  # tables and images exist only on W&B
                import wandb

                rows = [
                    [format_route(r), Grade.from_number(t).font, c, wandb.Image(str(p))]
                    for r, t, c, p in zip(routes, targets, critic_grades, pngs)
                ]
                lg.log_table("samples", columns=["route", "target", "critic", "picture"], data=rows)
