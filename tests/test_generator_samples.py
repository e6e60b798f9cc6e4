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
from routegen.generation.callbacks import GeneratorSamples
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
