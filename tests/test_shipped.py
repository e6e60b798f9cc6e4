"""Shipped models: export to safetensors + card, load without pickle, refuse corrupted files; and the files
that ship inside the package: each matches its card, loads, and does what its card says."""

from __future__ import annotations

import json

import pytest
import torch

from routegen import shipped
from routegen.checkpoints import CheckpointError, load_module
from routegen.cli import main
from routegen.route import check_route
from tests.generator_helpers import save_ar
from tests.grader_helpers import save_grader


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A weights folder holding a tiny exported critic and AR transformer for board 2016."""
    tmp = tmp_path_factory.mktemp("shipped")
    out = tmp / "weights"
    shipped.export(save_grader(tmp / "g.ckpt"), "2016", "critic", out, figures={"headline": {"exact": "1%"}})
    shipped.export(save_ar(tmp / "ar.ckpt"), "2016", "ar", out, command="a test")
    return out


def test_export_writes_weights_and_a_card_with_its_facts(weights):
    card = json.loads((weights / "2016" / "ar.json").read_text())
    assert card["kind"] == "ar_transformer" and card["board"] == "2016" and card["angle"] == 40
    assert card["trained_grades"][0] == "6B+" and card["command"] == "a test"
    assert card["parameters"] > 1000 and card["sha256"] == shipped.sha256(weights / "2016" / "ar.safetensors")
    assert b"torch" not in (weights / "2016" / "ar.safetensors").read_bytes()[:2000]  # no pickle


def test_a_card_loads_the_same_model_as_its_checkpoint(weights, tmp_path):
    from_card = load_module(weights / "2016" / "ar.json", expect="ar_transformer")
    from_ckpt = load_module(save_ar(tmp_path / "ar.ckpt"))
    for (k, a), (_, b) in zip(from_card.state_dict().items(), from_ckpt.state_dict().items()):
        assert torch.equal(a, b), k
    assert [str(r) for r in from_card.generate([7] * 4, seed=1)] == [
        str(r) for r in from_ckpt.generate([7] * 4, seed=1)
    ]


def test_a_card_written_back_as_a_run_loads_the_same_model(weights, tmp_path):
    ckpt = shipped.card_to_run(weights / "2016" / "ar.json", tmp_path / "runs" / "ar")
    assert ckpt == tmp_path / "runs" / "ar" / "checkpoints" / "best.ckpt"
    from_run, from_card = load_module(tmp_path / "runs" / "ar"), load_module(weights / "2016" / "ar.json")
    assert [str(r) for r in from_run.generate([7] * 4, seed=1)] == [str(r) for r in from_card.generate([7] * 4, seed=1)]
    assert from_run.hparams == from_card.hparams


def test_a_corrupted_weights_file_is_refused(weights, tmp_path):
    bad = tmp_path / "2016"
    bad.mkdir()
    for name in ("critic.json", "critic.safetensors"):
        (bad / name).write_bytes((weights / "2016" / name).read_bytes())
    data = bytearray((bad / "critic.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (bad / "critic.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="do not match their card's SHA-256"):
        load_module(bad / "critic.json")


def test_models_lists_the_cards(weights, capsys):
    assert main(["models", "--weights-dir", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "critic" in out and "ar_transformer" in out and "exact 1%" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "--grade", "7A", "--board", "2019"], "no shipped"),
        (["sample", "--grade", "7A", "--model", "vae"], "invalid choice: 'vae'"),
        (["grade", "--board", "2019", "C5 | E8 | D18"], "no shipped critic model for board 2019"),
    ],
)
def test_bad_shipped_model_choices_are_one_line_errors(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


# --- the files that ship -------------------------------------------------------------------------------------
CARDS = shipped.cards()


@pytest.mark.parametrize("card", CARDS, ids=[f"{c['board']}/{c['name']}" for c in CARDS])
def test_every_shipped_model_matches_its_card_and_loads(card):
    path = shipped.card_path(card["board"], card["name"])
    assert shipped.sha256(path.with_name(card["weights"])) == card["sha256"]
    module = load_module(path)
    assert str(module.hparams.board) == card["board"]


def test_the_shipped_files_stay_small():
    total = sum(p.stat().st_size for p in shipped.WEIGHTS_DIR.glob("*/*") if p.is_file())
    assert total <= 26 * 2**20


@pytest.mark.parametrize("card", [c for c in CARDS if c["name"] in shipped.GENERATORS],
                         ids=lambda c: f"{c['board']}/{c['name']}")  # fmt: skip
def test_every_shipped_generator_gives_valid_routes_at_every_trained_grade(card):
    from routegen.board import load_board
    from routegen.generation.novelty import NoveltyIndex
    from routegen.generation.sampling import sample_routes
    from routegen.grades import parse_grade

    module = load_module(shipped.card_path(card["board"], card["name"]))
    board = load_board(card["board"])
    index = NoveltyIndex.from_data(card["board"], angle=card["angle"])
    for grade in card["trained_grades"]:
        samples = sample_routes(module, parse_grade(grade), 8, novelty=index, seed=0)
        assert all(check_route(s.route, board).ok for s in samples), grade
        assert all(s.novel is True for s in samples), grade  # copies of known problems are resampled


@pytest.mark.parametrize("card", [c for c in CARDS if c["kind"] == "grader"], ids=lambda c: f"{c['board']}/{c['name']}")
def test_every_shipped_grader_reproduces_its_cards_test_figures(card, capsys):
    assert main(["evaluate", "--ckpt", card["path"], "--split", "test", "--json"]) == 0
    measured, expected = json.loads(capsys.readouterr().out), card["figures"]
    assert measured["n"] == expected["n"] and measured["metrics"].keys() == expected["metrics"].keys()
    for name, metrics in expected["metrics"].items():
        # to float32 summation order (another CPU's vector width moves ECE in its 8th digit); one route
        # graded differently moves a rate by 1 / n, far outside this
        assert measured["metrics"][name] == pytest.approx(metrics, rel=1e-6, abs=1e-9), name


@pytest.mark.slow
@pytest.mark.parametrize("card", [c for c in CARDS if c["name"] in shipped.GENERATORS],
                         ids=lambda c: f"{c['board']}/{c['name']}")  # fmt: skip
def test_every_shipped_generators_card_figures_are_re_measured(card, tmp_path):
    """The card's evaluate-generator figures, measured again with the command that made them."""
    made = card["figures"]["args"]
    out = tmp_path / "report.json"
    argv = ["evaluate-generator", "--ckpt", card["path"], "--critic", made["critic"], "--judge", made["judge"],
            "-n", str(made["n"]), "--seed", str(made["seed"]), "--threads", str(made["threads"]), "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    now, then = json.loads(out.read_text())["runs"][0], card["figures"]["runs"][0]
    for key in ("valid", "unique", "novel", "near_copy", "judge_within1"):
        assert now["mean"][key] == pytest.approx(then["mean"][key], abs=0.01), key
    assert now["fidelity"]["auc"] == pytest.approx(then["fidelity"]["auc"], abs=0.02)
    assert now["fidelity"]["w1_judged"] == pytest.approx(then["fidelity"]["w1_judged"], abs=0.05)
