"""`routegen sample` and `routegen render` end to end on a small untrained checkpoint: good and bad input."""

from __future__ import annotations

import json

import pytest
import torch
from generator_helpers import save_ar

from routegen.cli import main
from routegen.route import Route, check_route, parse_route


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return save_ar(tmp_path_factory.mktemp("ar") / "ar.ckpt")


def test_sample_writes_jsonl_pngs_and_seed_lines(ckpt, tmp_path, capsys, board2016):
    out, png = tmp_path / "routes.jsonl", tmp_path / "png"
    args = ["sample", "--ckpt", str(ckpt), "--grade", "7A", "-n", "5", "--seed", "3", "--format", "seed",
            "--temperature", "1.2", "--top-p", "0.9"]  # fmt: skip
    assert main([*args, "--output", str(out), "--png", str(png)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all(line.endswith(", Grade: 7") for line in lines)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and {r["target_grade_font"] for r in rows} == {"7A"}
    assert rows[0]["board"] == "2016" and rows[0]["angle"] == 40 and rows[0]["sampler"]["temperature"] == 1.2
    assert all(check_route(Route.from_record(r), board2016).ok for r in rows)
    assert all(isinstance(r["novel"], bool) for r in rows)
    assert len(list(png.glob("route_*.png"))) == 5
    # same seed, same routes
    assert main([*args]) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines


@pytest.mark.parametrize("grade", ["7A", "V6", "7"])
def test_every_grade_form(ckpt, capsys, grade):
    assert main(["sample", "--ckpt", str(ckpt), "--grade", grade, "-n", "2", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["target_grade_font"] for r in rows] == ["7A", "7A"]


def test_moonboard_format_and_fixed_holds(ckpt, capsys):
    args = ["--grade", "6C", "-n", "4", "--fixed", "F5,E18", "--format", "moonboard"]
    assert main(["sample", "--ckpt", str(ckpt), *args]) == 0
    for line in capsys.readouterr().out.strip().splitlines():
        route, _ = parse_route(line)
        assert "F5" in map(str, route.start) and "E18" in map(str, route.end)


def test_plain_table_when_not_a_terminal(ckpt, capsys):
    assert main(["sample", "--ckpt", str(ckpt), "--grade", "7B", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("target 7B") == 2 and "[" in out and "|" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grade", "8B+"], "8B+ was never seen"),
        (["--grade", "6A"], "6A was never seen"),
        (["--grade", "9Z"], "unknown grade '9Z'"),
        (["--grade", "7A", "--board", "2017"], "trained on board 2016"),
        (["--grade", "7A", "--fixed", "F9, D18"], "above row 6"),
        (["--grade", "7A", "--fixed", "Z9"], "unknown hold 'Z9'"),
        (["--grade", "7A", "--critic-rerank", "4", "--no-critic"], "needs a critic"),
        (["--grade", "7A", "-n", "0"], "expected an integer >= 1"),
    ],
)
def test_bad_input_is_a_one_line_error(ckpt, capsys, extra, message):
    assert main(["sample", "--ckpt", str(ckpt), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("routegen sample: error:") and message in err and len(err.splitlines()) == 1


def test_wrong_kind_and_missing_checkpoints(tmp_path, capsys):
    grader = tmp_path / "grader.ckpt"
    torch.save({"state_dict": {}, "routegen_kind": "grader"}, grader)
    assert main(["sample", "--ckpt", str(grader), "--grade", "7A"]) == 2
    assert "holds a grader model" in capsys.readouterr().err
    assert main(["sample", "--ckpt", str(tmp_path / "nope.ckpt"), "--grade", "7A"]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_render_command(tmp_path, capsys):
    routes = ["[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H], Grade: 5", "C5 E6 | E8 F11 | D18"]
    assert main(["render", *routes, "--png", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["route_000.png", "route_001.png"]
    assert main(["render", "A1 B2", "--png", str(tmp_path)]) == 2
    assert "render: error: argument 1: hold A1 is not on" in capsys.readouterr().err


def test_v_grade_picks_a_trained_font_grade(ckpt, capsys):
    """V4 is 6B or 6B+; the model never saw 6B, so V4 means 6B+ (number 4)."""
    assert main(["sample", "--ckpt", str(ckpt), "--grade", "V4", "-n", "1", "--format", "seed"]) == 0
    assert capsys.readouterr().out.strip().endswith(", Grade: 4")


def test_a_checkpoint_of_the_old_layout_is_a_one_line_error(ckpt, tmp_path, capsys):
    """Before the package-per-family layout: flat hparams and no layout stamp. Retrained, not converted."""
    old = torch.load(ckpt, weights_only=False)
    del old["routegen_layout"]
    old["hyper_parameters"] = {"n_layer": 1, "n_head": 2, "n_embd": 32, "critic_path": None}
    torch.save(old, tmp_path / "old.ckpt")
    assert main(["sample", "--ckpt", str(tmp_path / "old.ckpt"), "--grade", "7A"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(
        "old.ckpt was written by an older routegen (before the package-per-family layout); "
        "retrain it with `python train.py experiment=ar`"
    )


def test_several_grades_in_one_call_give_n_routes_each(ckpt, tmp_path, capsys):
    out = tmp_path / "routes.jsonl"
    argv = ["sample", "--ckpt", str(ckpt), "--grade", "6B+,7A,V8", "-n", "2", "--format", "json", "--no-critic"]
    assert main([*argv, "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["target_grade_font"] for r in rows] == ["6B+", "6B+", "7A", "7A", "7B", "7B"]
    single = ["sample", "--ckpt", str(ckpt), "--grade", "6B+", "-n", "2", "--format", "json", "--no-critic"]
    capsys.readouterr()
    assert main(single) == 0  # the first grade samples exactly as it would alone
    assert [json.loads(x)["start"] for x in capsys.readouterr().out.splitlines()] == [r["start"] for r in rows[:2]]
