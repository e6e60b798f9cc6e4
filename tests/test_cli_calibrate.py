"""`routegen calibrate` on tiny untrained checkpoints and a small slice of the real data: what it chooses on the
validation split is written into the checkpoint (nested hparams groups), and misuse is a one-line error."""

from __future__ import annotations

import pytest
from generator_helpers import save_cgan
from grader_helpers import save_grader

from routegen.checkpoints import load_module, read_checkpoint
from routegen.cli import main
from routegen.gan.calibrate import MOVE_WEIGHTS
from routegen.grader.calibrate import POWERS, RULES
from routegen.grades import Grade, parse_grade

ARGS = ["-n", "10", "--grades", "6B+,7A"]


@pytest.fixture(scope="module")
def cgan_ckpt(tmp_path_factory, tiny_data):
    return save_cgan(tmp_path_factory.mktemp("cgan") / "cgan.ckpt", tiny_data)


@pytest.fixture(scope="module")
def grader_ckpt(tmp_path_factory, tiny_data):
    settings = {"dir": str(tiny_data), "board": "2016", "angle": 40, "label": "font", "include_v_only": None,
                "seed": 0, "val_fraction": 0.1, "test_fraction": 0.1}  # fmt: skip
    return save_grader(tmp_path_factory.mktemp("g") / "grader.ckpt", data_hparams=settings)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cgan_move_weight_auto_and_realism_head(cgan_ckpt, tiny_data, tmp_path, capsys):
    out_path = tmp_path / "calibrated.ckpt"
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", cgan_ckpt, "--move-weight", "auto", "--realism", "3",
                             *ARGS, "--data-dir", tiny_data, "--out", out_path)  # fmt: skip
    assert code == 0, err
    decode = read_checkpoint(out_path)["hyper_parameters"]["decode"]
    assert decode["move_weight"] in MOVE_WEIGHTS and decode["realism"] == 3
    assert len(decode["realism_head"]["coef"]) == 4 * 8 + 1
    table = [line for line in out.splitlines() if line[:1].isdigit()]
    assert len(table) == len(MOVE_WEIGHTS) and "validation accuracy" in out and f"wrote {out_path}" in out
    assert f"decode.move_weight={decode['move_weight']}" in out and "decode.realism=3" in out
    assert read_checkpoint(cgan_ckpt)["hyper_parameters"]["decode"]["realism_head"] is None  # source untouched
    m = load_module(out_path, expect="cgan")  # the calibrated checkpoint loads and samples with its new defaults
    assert len(m.generate([7, 7], seed=1)) == 2


def test_cgan_move_weight_set_in_place_keeps_the_rest(cgan_ckpt, tiny_data, tmp_path, capsys):
    path = tmp_path / "copy.ckpt"
    path.write_bytes(cgan_ckpt.read_bytes())
    code, out, err = run_cli(
        capsys, "calibrate", "--ckpt", path, "--move-weight", "0.6", *ARGS, "--data-dir", tiny_data
    )
    assert code == 0, err
    decode = read_checkpoint(path)["hyper_parameters"]["decode"]
    assert decode["move_weight"] == 0.6 and decode["realism"] == 1 and decode["realism_head"] is None
    assert [line.split()[0] for line in out.splitlines() if line[:1].isdigit()] == ["0.6"]


def test_grader_rule_auto(grader_ckpt, tmp_path, capsys):
    out_path = tmp_path / "g.ckpt"
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", grader_ckpt, "--out", out_path)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.split()[:1] and line.split()[0] in RULES]
    assert len(rows) == len(RULES) * len(POWERS) and "validation split" in out and "(lowest MAE)" in out
    predict = read_checkpoint(out_path)["hyper_parameters"]["predict"]
    assert predict["rule"] in RULES and predict["prior_power"] in POWERS
    assert f"predict.rule={predict['rule']}" in out
    # the grade profiles --match needs: the grader's expected grade on validation routes, per grade
    from routegen.grader.critic import Critic

    profiles = read_checkpoint(out_path)["hyper_parameters"]["profiles"]
    assert profiles["counts"] and all(len(c) == len(profiles["edges"]) - 1 for c in profiles["counts"].values())
    assert Critic.load(out_path).profiles == profiles and "grade profiles" in out


def test_grader_rule_set(grader_ckpt, tmp_path, capsys):
    out_path = tmp_path / "g.ckpt"
    argv = ["calibrate", "--ckpt", grader_ckpt, "--predict-rule", "median", "--prior-power", "0.3", "--out", out_path]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert read_checkpoint(out_path)["hyper_parameters"]["predict"] == {"rule": "median", "prior_power": 0.3}
    assert load_module(out_path, expect="grader").predict_rule == ("median", 0.3)


@pytest.mark.parametrize(
    ("which", "extra", "message"),
    [
        ("cgan", [], "nothing to calibrate"),
        ("cgan", ["--predict-rule", "median"], "are for grader checkpoints"),
        ("cgan", ["--realism", "0"], "--realism: expected an integer >= 1, got '0'"),
        ("cgan", ["--move-weight", "x"], "expected auto or a number, got 'x'"),
        ("cgan", ["--move-weight", "-1"], "must be >= 0"),
        ("grader", ["--realism", "4"], "are for cGAN checkpoints"),
        ("cgan", ["--placement", "zigzag"], "invalid choice: 'zigzag'"),
        ("grader", ["--placement", "chain"], "are for cGAN checkpoints; this is a grader"),
        ("grader", ["--max-gap", "8"], "are for cGAN checkpoints; this is a grader"),
        ("cgan", ["--max-gap", "9"], "--max-gap must be 1 .. 8 rows (the rule's most), not 9"),
        ("grader", ["--predict-rule", "mode"], "unknown --predict-rule 'mode'"),
        ("grader", ["--match", "4"], "--match and --realism-trees are for generator checkpoints"),
        ("grader", ["--realism-trees"], "--match and --realism-trees are for generator checkpoints"),
        ("cgan", ["--guidance", "auto"], "--guidance auto is for AR transformers; give a cGAN its guidance as a number"),
        ("cgan", ["--guidance", "2"], "guidance 2.0 needs a generator trained with model.loss.cond_dropout > 0"),
        ("grader", ["--guidance", "2"], "--guidance is for generator checkpoints; this is a grader"),
    ],
)
def test_misuse_is_a_one_line_error(cgan_ckpt, grader_ckpt, capsys, which, extra, message):
    ckpt = cgan_ckpt if which == "cgan" else grader_ckpt
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", ckpt, *extra)
    assert code == 2 and message in err and err.startswith("routegen calibrate: error:") and err.count("\n") == 1


def test_grader_without_data_settings_is_an_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "calibrate", "--ckpt", save_grader(tmp_path / "g.ckpt"))
    assert code == 2 and "no saved data settings" in err


def test_calibrate_is_listed(capsys):
    assert main(["--help"]) == 0
    assert "calibrate" in capsys.readouterr().out


def test_cgan_chain_placement_fits_its_move_corrections(cgan_ckpt, tiny_data, tmp_path, capsys, monkeypatch):
    from routegen.gan import chain_fit

    monkeypatch.setattr(chain_fit, "ROUTES", 16)  # a few routes per grade and round: this checks the plumbing
    out_path = tmp_path / "chain.ckpt"
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", cgan_ckpt, "--placement", "chain", "--move-weight",
                             "0.6", *ARGS, "--data-dir", tiny_data, "--out", out_path)  # fmt: skip
    assert code == 0, err
    decode = read_checkpoint(out_path)["hyper_parameters"]["decode"]
    m = load_module(out_path, expect="cgan")
    trained = {str(m.scale.class_of(g, g.v)) for g in map(Grade.from_number, m.trained_grades)}
    fitted = set(decode["chain_delta"])  # the trained grades that have training routes in the tiny data
    assert decode["placement"] == "chain" and fitted <= trained
    assert {str(m.scale.class_of(g, g.v)) for g in map(parse_grade, ("6B+", "7A"))} <= fitted
    assert all(len(d) == len(chain_fit.FITTED) for d in decode["chain_delta"].values())
    assert "placement chain" in out and "chain moves fitted" in out and "decode.chain_delta=(fitted)" in out
    assert len(m.generate([7, 7], seed=1)) == 2  # decodes with its corrections


def test_cgan_max_gap_is_recorded_and_refits_the_chain(cgan_ckpt, tiny_data, tmp_path, capsys, monkeypatch):
    from routegen.gan import chain_fit

    monkeypatch.setattr(chain_fit, "ROUTES", 16)
    chained = tmp_path / "chain.ckpt"
    assert run_cli(capsys, "calibrate", "--ckpt", cgan_ckpt, "--placement", "chain", *ARGS, "--data-dir", tiny_data,
                   "--out", chained)[0] == 0  # fmt: skip
    assert load_module(chained, expect="cgan").hparams.decode["max_gap"] == 5  # checkpoints before it: 5
    wider = tmp_path / "wider.ckpt"
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", chained, "--max-gap", "8", *ARGS, "--data-dir", tiny_data,
                             "--out", wider)  # fmt: skip
    assert code == 0, err
    decode = read_checkpoint(wider)["hyper_parameters"]["decode"]
    assert decode["max_gap"] == 8 and decode["chain_delta"] and "max gap 8 rows" in out and "chain moves fitted" in out
    from routegen.gan import generate

    seen, plain = [], generate.decode
    monkeypatch.setattr(generate, "decode", lambda *a: seen.append(a[-1].max_gap) or plain(*a))
    assert len(load_module(wider, expect="cgan").generate([7, 7], seed=1)) == 2 and seen == [8, 8]  # decodes with it


def test_match_records_the_generators_own_profiles_and_a_later_change_drops_them(
    cgan_ckpt, grader_ckpt, tiny_data, tmp_path, capsys, monkeypatch
):
    import routegen.generation.match as match
    from routegen.grader.critic import Critic

    monkeypatch.setattr(match, "OWN_CANDIDATES", 32)  # per grade; the shipped models count 4096
    critic = tmp_path / "critic.ckpt"
    assert run_cli(capsys, "calibrate", "--ckpt", grader_ckpt, "--out", critic)[0] == 0  # its grade profiles
    path = tmp_path / "cgan.ckpt"
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", cgan_ckpt, "--out", path, "--match", "4", "--critic",
                             critic, "--judge", critic, *ARGS, "--data-dir", tiny_data)  # fmt: skip
    assert code == 0, err
    decode = read_checkpoint(path)["hyper_parameters"]["decode"]
    own = decode["match_profiles"]
    assert decode["match"] == 4 and own["critic"] == match.profiles_fingerprint(Critic.load(critic).profiles)
    assert own["candidates"] == 32 and all(sum(c) == pytest.approx(32) for c in own["counts"].values())
    assert set(own["gains"]) == {"4", str(match.QUICK_MATCH)}  # for its K and the studio's
    gains = own["gains"]["4"]
    assert gains and set(gains) <= set(own["counts"]) and all(g > 0 for v in gains.values() for g in v)
    assert "decode.match_profiles=(fitted)" in out
    # counted with the decoding of then: another move weight leaves matching to count each request's candidates
    code, out, err = run_cli(capsys, "calibrate", "--ckpt", path, "--move-weight", "0.6", *ARGS, "--data-dir", tiny_data)
    assert code == 0, err
    assert read_checkpoint(path)["hyper_parameters"]["decode"]["match_profiles"] is None
