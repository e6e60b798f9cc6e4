"""Realism trees (generation/realism.py, `routegen calibrate --realism-trees`): the exported trees score routes
exactly as scikit-learn's classifier does, they are fitted on a generator's training split and kept in its
checkpoint, and matching then weights each candidate by them."""

from __future__ import annotations

import numpy as np
import pytest
from generator_helpers import save_ar, save_cgan

from routegen.checkpoints import load_module, read_checkpoint
from routegen.cli import main
from routegen.errors import RoutegenError
from routegen.generation.features import FEATURE_NAMES
from routegen.generation.match import grade_profiles, match_pick
from routegen.generation.realism import TREES, export_trees, tree_logits


def fitted(seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, len(FEATURE_NAMES)))
    x[:, :50] = rng.integers(0, 2, size=(600, 50))  # one-hot columns, as most route features are
    y = (x[:, 0] + x[:, 3] * x[:, 700 % x.shape[1]] + rng.normal(0, 0.5, 600) > 0.5).astype(float)
    clf = HistGradientBoostingClassifier(**TREES, early_stopping=False, random_state=seed).fit(x, y)
    return clf, rng.normal(size=(300, len(FEATURE_NAMES)))


def test_exported_trees_score_like_scikit_learn():
    clf, x = fitted()
    trees = export_trees(clf)
    assert len(trees["trees"]) == TREES["max_iter"]
    np.testing.assert_allclose(tree_logits(trees, x), clf.decision_function(x), rtol=1e-9, atol=1e-9)


def test_trees_for_other_features_are_a_one_line_error():
    clf, x = fitted()
    with pytest.raises(RoutegenError, match="refit them"):
        tree_logits(export_trees(clf), x[:, :-1])


def test_the_ratio_is_counted_into_the_bin_shares():
    """Candidates graded 0.8 too hard, each with its exact log real / generated ratio: the ratio alone corrects
    the grading, so the kept routes are graded like the real ones; multiplying the profile ratio on top (bin
    shares counted unweighted) would correct twice and land near 5.5."""
    rng = np.random.default_rng(5)
    real = rng.normal(5.8, 0.6, 5000)
    profile = grade_profiles(real, [5] * len(real))
    k, routes = 8, 3000
    cand = rng.normal(6.6, 0.8, k * routes)
    log_ratio = -((cand - 5.8) ** 2) / (2 * 0.36) + ((cand - 6.6) ** 2) / (2 * 0.64) + np.log(0.8 / 0.6)
    kept = cand[match_pick(cand, k, profile, 5, np.random.default_rng(6), log_ratio)]
    assert abs(kept.mean() - 5.8) < 0.12, kept.mean()


@pytest.mark.parametrize("kind", ["ar", "cgan"])
def test_calibrate_fits_them_and_matching_uses_them(kind, tiny_data, tmp_path, capsys):
    ckpt = save_ar(tmp_path / "ar.ckpt") if kind == "ar" else save_cgan(tmp_path / "cgan.ckpt", tiny_data)
    out = tmp_path / "calibrated.ckpt"
    code = main(["calibrate", "--ckpt", str(ckpt), "--realism-trees", "--data-dir", str(tiny_data), "--out", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "realism trees: 200 trees fitted on" in text and "(validation, fresh routes)" in text
    group = "sample" if kind == "ar" else "decode"
    trees = read_checkpoint(out)["hyper_parameters"][group]["realism_trees"]
    assert trees["n_real"] == trees["n_generated"] > 0 and trees["features"] == len(FEATURE_NAMES)
    assert read_checkpoint(ckpt)["hyper_parameters"][group]["realism_trees"] is None  # the source is untouched
    m = load_module(out)
    routes = m.generate([7] * 6, seed=2)
    weights = m.candidate_log_weights(routes, 7)
    assert weights.shape == (6,) and np.isfinite(weights).all()
    np.testing.assert_allclose(weights, m.candidate_log_weights(routes, 7))  # deterministic
    assert load_module(ckpt).candidate_log_weights(routes, 7) is None  # nothing to weight by before


@pytest.mark.parametrize("kind", ["ar", "cgan"])
def test_a_second_round_is_fitted_on_matched_routes_and_added(kind, tiny_data, tmp_path, capsys):
    """--realism-trees 2: the second round's trees are fitted on the routes matched with the first's and summed
    with them; the card keeps each round's facts."""
    from grader_helpers import save_grader

    settings = {"dir": str(tiny_data), "board": "2016", "angle": 40, "label": "font", "include_v_only": None,
                "seed": 0, "val_fraction": 0.1, "test_fraction": 0.1}  # fmt: skip
    grader, critic = save_grader(tmp_path / "grader.ckpt", data_hparams=settings), tmp_path / "critic.ckpt"
    assert main(["calibrate", "--ckpt", str(grader), "--out", str(critic)]) == 0  # its grade profiles
    ckpt = save_ar(tmp_path / "ar.ckpt") if kind == "ar" else save_cgan(tmp_path / "cgan.ckpt", tiny_data)
    one, two = tmp_path / "one.ckpt", tmp_path / "two.ckpt"
    for rounds, out in (("1", one), ("2", two)):
        code = main(["calibrate", "--ckpt", str(ckpt), "--realism-trees", rounds, "--critic", str(critic),
                     "--data-dir", str(tiny_data), "--out", str(out)])  # fmt: skip
        assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "realism trees, round 2: 200 more fitted on" in text and "matched training routes" in text
    group = "sample" if kind == "ar" else "decode"
    first = read_checkpoint(one)["hyper_parameters"][group]["realism_trees"]
    both = read_checkpoint(two)["hyper_parameters"][group]["realism_trees"]
    assert len(both["trees"]) == 2 * len(first["trees"]) and both["trees"][: len(first["trees"])] == first["trees"]
    assert [r["trees"] for r in both["rounds"]] == [200, 200] and both["rounds"][1]["n_generated"] > 0
    assert "rounds" not in first
    routes = load_module(two).generate([7] * 6, seed=2)
    lw_one, lw_two = (
        load_module(one).candidate_log_weights(routes, 7),
        load_module(two).candidate_log_weights(routes, 7),
    )
    assert np.isfinite(lw_two).all() and not np.allclose(lw_one, lw_two)  # the second round moves the weights


@pytest.mark.parametrize("rounds", ["0", "5"])
def test_rounds_out_of_range_are_a_one_line_error(rounds, tmp_path, capsys):
    ckpt = save_ar(tmp_path / "ar.ckpt")
    assert main(["calibrate", "--ckpt", str(ckpt), "--realism-trees", rounds]) == 2
    assert f"--realism-trees takes 1 .. 4 rounds, not {rounds}" in capsys.readouterr().err
