"""The GeneratorSamples callback: val/gen_* metrics and PNGs for both generators, nothing for a grader, and a W&B
table whose picture column holds images (not the text "Image")."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from routegen.ar.module import ARTransformerModule
from routegen.encoding import routes_to_grids
from routegen.gan.module import CGANModule
from routegen.generation.callbacks import FidelityMonitor, GeneratorSamples
from routegen.grader.module import GraderModule
from routegen.grades import Grade
from routegen.route import parse_route

REAL = ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18", "J5 | I9 H12 G16 | H18", "D5 F5 | D9 | E18"]


def loader() -> DataLoader:
    grids = routes_to_grids([parse_route(t)[0] for t in REAL] * 2)
    return DataLoader(TensorDataset(grids, torch.tensor([4, 6, 8, 10] * 2)), batch_size=8)


def cgan() -> CGANModule:
    m = CGANModule(generator={"noise_ch": 4, "cond_dim": 8, "base": 8}, discriminator={"base": 8})
    m.set_decode_prior(
        [SimpleNamespace(route=parse_route(t)[0], grade=Grade.from_number(6), grade_v=None) for t in REAL]
    )
    return m


def fit(module, tmp_path, logger=False) -> pl.Trainer:
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0,
                         logger=logger, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path,
                         callbacks=[GeneratorSamples(every_n_epochs=1, n=8, png=2)])  # fmt: skip
    trainer.fit(module, train_dataloaders=loader(), val_dataloaders=loader())
    return trainer


@pytest.mark.parametrize("make", [cgan, lambda: ARTransformerModule(net={"n_layer": 1, "n_head": 2, "n_embd": 16})])
def test_both_generators_log_metrics_and_pngs(tmp_path, make):
    trainer = fit(make(), tmp_path)
    assert {"val/gen_valid", "val/gen_valid_unconstrained", "val/gen_unique"} <= set(trainer.callback_metrics)
    assert trainer.callback_metrics["val/gen_valid"] == 1.0
    assert len(list((tmp_path / "samples" / "epoch_000").glob("*.png"))) == 2


def test_a_grader_is_left_alone(tmp_path):
    grader = GraderModule(net={"arch": "linear"})
    callback = GeneratorSamples(every_n_epochs=1)
    callback.on_validation_epoch_end(SimpleNamespace(sanity_checking=False, current_epoch=0), grader)
    assert not (tmp_path / "samples").exists()


def test_wandb_table_holds_images(tmp_path, monkeypatch):
    """W&B keeps a logged table twice: a run file (media cells written as the text "Image", by design) and a
    run_table artifact, the one its table panel shows: there the picture cells must be image files."""
    wandb = pytest.importorskip("wandb")
    from pytorch_lightning.loggers import WandbLogger

    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb_data"))  # where offline artifacts are staged
    try:
        fit(cgan(), tmp_path, WandbLogger(project="routegen-test", save_dir=str(tmp_path), offline=True))
    finally:
        wandb.finish()
    staged = [json.loads(p.read_text()) for p in (tmp_path / "wandb_data").rglob("*") if p.is_file() and
              p.read_bytes()[:1] == b"{"]  # fmt: skip
    tables = [t for t in staged if t.get("_type") == "table"]
    assert tables  # (wandb stages the same table more than once)
    for table in tables:
        pictures = [row[table["columns"].index("picture")] for row in table["data"]]
        assert len(pictures) == 2 and all(p["_type"] == "image-file" for p in pictures)
    assert len(list(tmp_path.glob("wandb/offline-run-*/files/media/images/samples/images_*.png"))) == 2


# --- FidelityMonitor: the fidelity yardstick on the validation routes during training ------------------------


class RealRoutes:
    """A 'generator' that returns validation routes of the asked grade (indistinguishable from them)."""

    def __init__(self, problems) -> None:
        self.pool: dict[int, list] = {}
        for p in problems:
            self.pool.setdefault(p.grade.number, []).append(p.route)
        self.trained_grades = set(self.pool)
        self.logged: dict = {}

    def generate(self, grades, *, seed=0, **kwargs):
        import random

        rng = random.Random(seed)
        return [rng.choice(self.pool[g]) for g in grades]

    def log_dict(self, metrics, **kwargs):
        self.logged |= metrics


class Random(RealRoutes):
    """Uniformly random start / middle / end holds: told from real routes at once."""

    def generate(self, grades, *, seed=0, **kwargs):
        import random

        from routegen.board import load_board

        rng, holds = random.Random(seed), load_board("2016").holds
        low = [h for h in holds if h.row <= 6]
        mid = [h for h in holds if 6 < h.row < 18]
        top = [h for h in holds if h.row == 18]
        from routegen.route import Route

        return [Route((rng.choice(low),), tuple(rng.sample(mid, 5)), (rng.choice(top),)) for _ in grades]


def test_fidelity_monitor_logs_the_yardstick_beside_its_floor(tmp_path):
    from routegen.data import load_problems, split_problems

    splits = split_problems(load_problems(None, "2016", 40, "font"), "font", 0)
    trainer = SimpleNamespace(sanity_checking=False, current_epoch=4, is_global_zero=True,
                              datamodule=SimpleNamespace(splits=splits))  # fmt: skip
    logged = {}
    for make in (RealRoutes, Random):
        module = make(splits["val"])
        FidelityMonitor(every_n_epochs=5, n=40, grades=["6B+", "7A"]).on_validation_epoch_end(trainer, module)
        logged[make.__name__] = module.logged
    real, rand = logged["RealRoutes"], logged["Random"]
    assert set(real) == {"val/fidelity_auc", "val/fidelity_auc_floor", "val/fidelity_nn", "val/fidelity_nn_floor"}
    assert abs(real["val/fidelity_auc"] - 0.5) < 0.2 and rand["val/fidelity_auc"] > 0.9
    assert rand["val/fidelity_nn"] > real["val/fidelity_nn_floor"] + 0.1
    off = RealRoutes(splits["val"])
    FidelityMonitor(every_n_epochs=5).on_validation_epoch_end(SimpleNamespace(**{**vars(trainer), "current_epoch": 3}),
                                                               off)  # fmt: skip
    assert off.logged == {}  # not this epoch
