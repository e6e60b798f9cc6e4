import gzip

import pytest

from routegen.data import DataError, LabelScale, hold_set_key, load_problems, split_problems, write_manifest
from routegen.datamodule import MoonBoardDataModule


@pytest.fixture(scope="module")
def problems(data_dir):
    return load_problems(data_dir)


def test_loads_real_files(problems, data_dir):
    assert len(problems) == 20371  # moonboard2016.jsonl.gz as shipped (data README)
    assert len(load_problems(data_dir, label="v")) == 26342  # + the V-only file
    p2017 = load_problems(data_dir, board="2017")
    assert p2017 and all(p.board == "2017" and p.angle == 40 for p in p2017)
    assert all(p.angle == 25 for p in load_problems(data_dir, board="2017", angle=25))


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_problems(tmp_path)
    (tmp_path / "moonboard2016.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="corrupt"):
        load_problems(tmp_path)
    with gzip.open(tmp_path / "moonboard2016.jsonl.gz", "wt") as f:
        f.write(
            '{"id": "1", "board": "2016", "angle": 40, "start": ["Z99"], "middle": [], "end": ["H18"], "grade_font": "6B+"}\n'
        )
    with pytest.raises(DataError, match="Z99"):
        load_problems(tmp_path)


def test_bad_board_angle_label(data_dir):
    with pytest.raises(DataError, match="board"):
        load_problems(data_dir, board="2020")
    with pytest.raises(DataError, match="25"):
        load_problems(data_dir, board="2016", angle=25)
    with pytest.raises(DataError, match="label"):
        LabelScale("kelvin")


def test_splits_are_leak_free_deterministic_and_stratified(problems):
    a = split_problems(problems, seed=0)
    b = split_problems(problems, seed=0)
    c = split_problems(problems, seed=1)
    assert {k: [p.id for p in v] for k, v in a.items()} == {k: [p.id for p in v] for k, v in b.items()}
    assert [p.id for p in a["test"]] != [p.id for p in c["test"]]
    keys = {name: {hold_set_key(p.route) for p in ps} for name, ps in a.items()}
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    assert sum(len(v) for v in a.values()) == len(problems)
    scale = LabelScale("font")
    for name in ("val", "test"):
        share = len(a[name]) / len(problems)
        assert 0.09 < share < 0.11
        # every grade with enough problems keeps its share in each split
        for cls in range(scale.num_classes):
            n_all = sum(scale.class_of(p.grade, p.grade_v) == cls for p in problems)
            n = sum(scale.class_of(p.grade, p.grade_v) == cls for p in a[name])
            if n_all >= 100:
                assert abs(n / n_all - 0.1) < 0.02


def test_duplicate_hold_sets_stay_together(problems):
    # identical hold sets with different roles must not straddle splits
    twin = problems[:50] + [p.__class__(**{**p.__dict__, "id": p.id + "-twin"}) for p in problems[:50]]
    splits = split_problems(twin, seed=3)
    where = {p.id: name for name, ps in splits.items() for p in ps}
    assert all(where[p.id] == where[p.id + "-twin"] for p in problems[:50])


def test_manifest_lists_every_id(problems, tmp_path):
    import json

    splits = split_problems(problems[:300], seed=0)
    write_manifest(splits, tmp_path / "m.json", seed=0)
    body = json.loads((tmp_path / "m.json").read_text())
    assert body["seed"] == 0 and sorted(body["train"] + body["val"] + body["test"]) == sorted(
        p.id for p in problems[:300]
    )


def test_datamodule_batches_and_balanced_sampler(data_dir, tmp_path):
    dm = MoonBoardDataModule(
        dir=str(data_dir), batch_size=64, sampler="balanced", manifest_path=str(tmp_path / "m.json")
    )
    dm.setup()
    grids, labels = next(iter(dm.train_dataloader()))
    assert grids.shape == (64, 3, 18, 11) and labels.max() < 16
    assert (tmp_path / "m.json").is_file()
    # balanced sampling: 6B+ (class 3) no longer dominates the batch
    share = sum((next(iter(dm.train_dataloader()))[1] == 3).float().mean().item() for _ in range(5)) / 5
    assert share < 0.3
