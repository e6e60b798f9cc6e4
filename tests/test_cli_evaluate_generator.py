"""`routegen evaluate-generator` end to end, with stand-in generators and graders (tests/test_gen_metrics.py)
loaded in place of checkpoints; the slow test runs the real artifacts when they exist."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_gen_metrics import LookupGrader, RandomSampler, RealSampler

from routegen.cli import main
from routegen.commands import evaluate_generator as cmd
from routegen.data import load_problems, split_problems
from routegen.generation.report import markdown

# Reference runs trained as in the README ("Reproducing the figures"): runs/{ar,critic,judge}
ARTIFACTS = Path(os.environ.get("ROUTEGEN_ARTIFACTS", Path(__file__).resolve().parent.parent / "runs"))


@pytest.fixture(scope="module")
def splits(data_dir):
    return split_problems(load_problems(data_dir), "font", seed=0)


@pytest.fixture
def stand_ins(monkeypatch, splits, tmp_path):
    """Checkpoint paths 'real', 'random' -> stand-in generators; grader files -> a grader knowing every grade."""
    gens = {"real": RealSampler(splits["val"]), "random": RandomSampler()}
    grader = LookupGrader(splits["train"] + splits["val"] + splits["test"])
    monkeypatch.setattr(cmd, "load_generator", lambda path: gens[path])
    monkeypatch.setattr(cmd, "load_grader", lambda path, role, board: grader)
    files = {}
    for name, body in (("critic", b"critic"), ("judge", b"judge"), ("judge_copy", b"critic")):
        files[name] = tmp_path / f"{name}.ckpt"
        files[name].write_bytes(body)
    return files


def test_evaluate_two_generators_with_and_without_rerank(stand_ins, tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["evaluate-generator", "--ckpt", "real", "--ckpt", "random", "--critic", str(stand_ins["critic"]),
            "--judge", str(stand_ins["judge"]), "--grades", "6B+,7A", "-n", "60", "--rerank", "1,2",
            "--output", str(out), "--no-fidelity"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "Yardstick" in printed.out and "rerank 2" in printed.out and "Targets" in printed.out
    assert "warning" not in printed.err
    report = json.loads(out.read_text())
    assert report["grades"] == ["6B+", "7A"] and report["n"] == 60
    assert [(r["ckpt"], r["rerank"]) for r in report["runs"]] == [
        ("real", 1),
        ("real", 2),
        ("random", 1),
        ("random", 2),
    ]
    real, rand = report["runs"][0], report["runs"][2]
    assert real["mean"]["novel"] == 0.0 and real["mean"]["judge_exact"] == 1.0  # copies of known, graded problems
    assert rand["mean"]["novel"] == 1.0 and rand["mean"]["valid"] == 1.0
    assert rand["auc_pooled"] > 0.9 > 0.7 > real["auc_pooled"]
    assert rand["unconstrained"]["mean"]["valid"] < 0.5  # the constrained=False reference
    assert rand["targets"]["auc"]["met"] is False and real["targets"]["valid"]["met"] is True
    yard = report["yardstick"]
    assert yard["per_grade"]["7A"]["n"] == 341 and yard["mean"]["judge_exact"] == 1.0
    assert {k: v["seed"] for k, v in report["grader_splits"].items()} == {"critic": 0, "judge": 0} and yard[
        "per_grade"
    ]["7A"]["judge_n"] == 683  # the judge on all the 7A routes it never trained on: its val and test splits
    assert 0.03 < yard["mean"]["near_copy"] < 0.3
    assert all(r["per_grade"]["7A"]["n"] == 60 and "fidelity" not in r for r in report["runs"])
    md = markdown(report)
    assert "| random ×2 | ✓ 100.0% >= 100.0% |" in md and "| real judge ±1 | 100.0% | 100.0% |" in md


def test_fidelity_beside_its_floor(stand_ins, tmp_path, capsys):
    """The fidelity table of each run and the real-vs-real floor under yardstick (docs/fidelity.md)."""
    out = tmp_path / "report.json"
    argv = ["evaluate-generator", "--ckpt", "real", "--ckpt", "random", "--critic", str(stand_ins["critic"]),
            "--judge", str(stand_ins["judge"]), "--grades", "6B+,7A,7C+", "-n", "40", "--no-unconstrained",
            "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Fidelity: random" in printed and "grade-aware AUC" in printed and "separating features" in printed
    report = json.loads(out.read_text())
    floor = report["yardstick"]["fidelity"]
    assert floor["per_grade"]["7A"]["pool"] == 341 and floor["per_grade"]["7A"]["judged_pool"] == 341  # seed 0
    assert floor["per_grade"]["7C+"]["pool"] == 29 and floor["included"] == ["6B+", "7A", "7C+"]
    assert floor["n_per_side"] == 40 + 40 + 14 and 0.3 < floor["auc"] < 0.7
    real, rand = (r["fidelity"] for r in report["runs"])
    assert rand["auc"] > 0.8 > 0.7 > real["auc"]  # ~94 routes a side; sharper with more
    assert real["w1_judged"] == 0.0 < rand["w1_judged"]  # the stand-in judge knows every real route's grade
    assert rand["per_grade"]["7A"]["unique"] == 1.0 and rand["per_grade"]["7A"]["across_grade_dup"] == 0.0
    assert len(rand["top_features"]) == 5 and rand["spread"]["end_effective"] > 0
    assert "real B vs A (the floor)" in markdown(report)
    # the fidelity issue's bar per run, printed, in the JSON and in the Markdown
    assert not rand["auc"] <= 0.58 and not report["runs"][1]["fidelity_bar"]["auc"]["met"]
    assert report["runs"][0]["fidelity_bar"]["auc"]["met"] and "near_copy" in report["runs"][0]["fidelity_bar"]
    assert printed.count("fidelity bar: ") == 2 and "fidelity bar: ✗ AUC" in markdown(report)


def test_fidelity_only(stand_ins, tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["evaluate-generator", "--ckpt", "random", "--judge", str(stand_ins["judge"]), "--grades", "6B+,7A",
            "-n", "30", "--fidelity-only", "--critic", str(stand_ins["critic"]), "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Fidelity: random" in printed and "Yardstick" not in printed and "Targets" not in printed
    report = json.loads(out.read_text())
    (run,) = report["runs"]
    assert report["fidelity_only"] and "per_grade" not in run and run["fidelity"]["auc"] > 0.85
    assert set(report["yardstick"]) == {"fidelity"}
    assert "real B vs A (the floor)" in markdown(report)
    assert "fidelity bar: ✗ AUC" in printed and "novel" not in run["fidelity_bar"]


def test_warns_when_critic_and_judge_are_the_same(stand_ins, capsys):
    argv = ["evaluate-generator", "--ckpt", "random", "--critic", str(stand_ins["critic"]),
            "--judge", str(stand_ins["judge_copy"]), "--grades", "7A", "-n", "10", "--no-unconstrained", "--no-fidelity"]  # fmt: skip
    assert main(argv) == 0
    assert "critic and judge are the same checkpoint" in capsys.readouterr().err


def test_graders_are_measured_on_their_own_held_out_split(stand_ins, monkeypatch, tmp_path, splits):
    """A judge trained on another split is measured on *its* test routes, not the generator's."""
    judge = LookupGrader(splits["train"] + splits["val"] + splits["test"])
    judge.data_hparams = {"seed": 5, "label": "font", "val_fraction": 0.1, "test_fraction": 0.1}
    monkeypatch.setattr(cmd, "load_grader", lambda path, role, board: judge)
    out = tmp_path / "r.json"
    argv = ["evaluate-generator", "--ckpt", "random", "--judge", str(stand_ins["judge"]), "--grades", "7A",
            "-n", "10", "--no-unconstrained", "--no-fidelity", "--critic", str(stand_ins["critic"]), "--critic-split-seed", "2",
            "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    splits = json.loads(out.read_text())["grader_splits"]
    assert {k: v["seed"] for k, v in splits.items()} == {"critic": 2, "judge": 5}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grades", "6B+,9Z"], "9Z"),
        (["--rerank", "1,0"], "--rerank factors must be >= 1 (got 0)"),
        (["--rerank", "1,x"], "bad --rerank '1,x'"),
        (["-n", "0"], "-n: expected an integer >= 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(stand_ins, capsys, extra, message):
    argv = ["evaluate-generator", "--ckpt", "random", "--critic", str(stand_ins["critic"]),
            "--judge", str(stand_ins["judge"]), *extra]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("routegen evaluate-generator: error:") and message in err and "\n" not in err


def test_rerank_needs_a_critic(stand_ins, capsys):
    argv = [
        "evaluate-generator",
        "--ckpt",
        "random",
        "--judge",
        str(stand_ins["judge"]),
        "--rerank",
        "8",
        "--no-critic",
    ]
    assert main(argv) == 2
    assert "needs a critic" in capsys.readouterr().err


def test_missing_checkpoint_is_an_error(tmp_path, capsys):
    argv = ["evaluate-generator", "--ckpt", str(tmp_path / "nope"), "--judge", str(tmp_path / "j"), "-n", "5"]
    assert main(argv) == 2
    assert "not found" in capsys.readouterr().err


SHIPPED = Path(__file__).resolve().parent.parent / "routegen" / "weights"


def test_a_grader_for_another_board_is_a_one_line_error(capsys):
    """Graded by the 2016 judge, a 2017 generator's routes would be measured on holds the judge never saw."""
    argv = ["evaluate-generator", "--ckpt", str(SHIPPED / "2017" / "ar.json"), "--judge",
            str(SHIPPED / "2016" / "judge.json"), "-n", "5"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "judge" in err and "board 2016" in err and "board 2017" in err and "\n" not in err
    assert main([*argv[:3], "--board", "2016", "-n", "5"]) == 2
    assert "--board 2016" in capsys.readouterr().err


def test_the_graders_default_to_the_generators_board(monkeypatch):
    """Without --critic and --judge, a 2017 generator is measured by the shipped 2017 graders (it was 2016's)."""
    import routegen.generation.evaluate as evaluate

    class Chosen(Exception):
        pass

    seen = {}

    def stop(generators, grades, *, critic, judge, **kw):
        seen.update(critic=critic.board, judge=judge.board)
        raise Chosen  # enough: the graders are chosen

    monkeypatch.setattr(evaluate, "evaluate_generators", stop)
    with pytest.raises(Chosen):
        main(["evaluate-generator", "--ckpt", str(SHIPPED / "2017" / "ar.json"), "-n", "5"])
    assert seen == {"critic": "2017", "judge": "2017"}


@pytest.mark.slow
def test_real_artifacts_small(tmp_path):
    """The trained AR run, critic and judge (if the artifacts exist): constrained sampling is always valid."""
    needed = [ARTIFACTS / name for name in ("ar", "critic", "judge")]
    if not all(p.exists() for p in needed):
        pytest.skip(f"artifacts not found under {ARTIFACTS}")
    out = tmp_path / "report.json"
    argv = ["evaluate-generator", "--ckpt", str(needed[0]), "--critic", str(needed[1]), "--judge", str(needed[2]),
            "--grades", "6B+,7A", "-n", "30", "--rerank", "1,2", "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert all(r["mean"]["valid"] == 1.0 for r in report["runs"])
