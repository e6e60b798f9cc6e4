"""The fidelity yardstick (routegen/generation/fidelity.py): answers known in advance on real slices and
synthetic routes. Two samples of the same real distribution are indistinguishable (AUC ~0.5), random
valid-looking routes are not (AUC ~1); W1 is 0 on identical judgments and grows with a shift; across-grade
duplicates are counted; the floor compares disjoint halves."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from test_gen_metrics import LookupGrader, RandomSampler, Score

from routegen.data import load_problems, split_problems
from routegen.generation import features as ft
from routegen.generation import fidelity as fd
from routegen.generation.evaluate import fidelity_pools, held_out
from routegen.generation.novelty import cell_key
from routegen.grades import parse_grade
from routegen.route import parse_route

GRADES = [parse_grade(g) for g in ("6B+", "7A")]


@pytest.fixture(scope="module")
def problems(data_dir):
    return load_problems(data_dir)


@pytest.fixture(scope="module")
def splits(problems):
    return split_problems(problems, "font", seed=0)


def by_grade(problems, grades=GRADES):
    return {g.font: [p.route for p in problems if p.grade == g] for g in grades}


def r(text):
    return parse_route(text)[0]


class ShiftedGrader:
    """Judges every route `shift` grades above its true grade (a LookupGrader's)."""

    def __init__(self, lookup: LookupGrader, shift: float) -> None:
        self.lookup, self.shift = lookup, shift

    def score(self, routes):
        return [Score(s.number, s.expected + self.shift) for s in self.lookup.score(routes)]


def test_feature_names_match_the_matrix():
    x = ft.route_features([r("C5 E6 | E8 F11 | D18"), r("A5 | B9 | C18")], [4, 7])
    assert x.shape == (2, len(ft.FEATURE_NAMES))
    names = list(ft.FEATURE_NAMES)
    assert x[0, names.index("start:C5")] == 1 and x[0, names.index("end:D18")] == 1
    assert x[0, names.index("middle:C5")] == 0 and x[1, names.index("end:C18")] == 1
    assert x[0, names.index("holds")] == 5 and list(x[:, -1]) == [4, 7] and names[-1] == "grade"


def test_two_samples_of_real_routes_are_indistinguishable(splits):
    """Two disjoint samples of the same real distribution (train routes, equal counts per grade): AUC ~0.5."""
    real = by_grade(splits["train"])
    rng = random.Random(0)
    a, b = [], []
    for g in GRADES:
        pool = rng.sample(real[g.font], 300)
        a += [(x, g.number) for x in pool[:150]]
        b += [(x, g.number) for x in pool[150:]]
    fa = ft.route_features([x for x, _ in a], [n for _, n in a])
    fb = ft.route_features([x for x, _ in b], [n for _, n in b])
    got = fd.two_sample_auc(fa, fb, seed=0, importance=False)
    assert 0.4 < got["auc"] < 0.6, got
    assert set(got["per_grade"]) == {4, 7}


def test_random_routes_are_told_from_real_and_the_tell_is_named(splits):
    real = by_grade(splits["train"])
    rand = RandomSampler()
    rng = random.Random(1)
    real_routes, gen_routes, numbers = [], [], []
    for g in GRADES:
        real_routes += rng.sample(real[g.font], 100)
        gen_routes += rand.generate([g.number] * 100, seed=g.number)
        numbers += [g.number] * 100
    got = fd.two_sample_auc(ft.route_features(real_routes, numbers), ft.route_features(gen_routes, numbers), seed=0)
    assert got["auc"] > 0.9, got
    assert len(got["top_features"]) == fd.TOP_FEATURES
    assert all(t["feature"] in ft.FEATURE_NAMES and t["importance"] > 0 for t in got["top_features"])


def test_a_collapsed_end_hold_is_the_top_feature(splits):
    """Real routes whose end holds were all moved to C18 (the cGAN's collapse): the classifier names end:C18."""
    real = by_grade(splits["train"])
    rng = random.Random(2)
    real_routes, gen_routes, numbers = [], [], []
    c18 = r("C18 | | ").start
    for g in GRADES:
        pool = rng.sample(real[g.font], 300)
        real_routes += pool[:150]
        gen_routes += [type(x)(x.start, tuple(h for h in x.middle if h not in c18), c18) for x in pool[150:]]
        numbers += [g.number] * 150
    got = fd.two_sample_auc(ft.route_features(real_routes, numbers), ft.route_features(gen_routes, numbers), seed=0)
    assert got["auc"] > 0.9 and got["top_features"][0]["feature"] in ("end:C18", "end_col")


def test_w1_is_zero_for_identical_judgments_and_grows_with_a_shift(splits):
    test = by_grade(splits["test"])
    lookup = LookupGrader(splits["test"])
    pools = {g.font: (g.number, test[g.font]) for g in GRADES}
    results = []
    for shift in (0.0, 1.0, 2.5):
        fid = fd.Fidelity(pools, test, ShiftedGrader(lookup, shift), n=20, seed=0, importance=False)
        # the generator "samples" real test routes: a judge shifted by `shift` judges them `shift` higher
        generated = {g: rs[:50] for g, rs in test.items()}
        fid.judge = lookup  # real routes were judged with the shifted grader, generated ones without
        results.append(fid.measure(generated))
        assert fid.floor["w1_judged"] == 0.0  # a lookup grader judges every real route of a grade alike
    assert [round(m["w1_judged"], 6) for m in results] == [0.0, 1.0, 2.5]
    assert all(m["per_grade"]["7A"]["w1_judged"] == pytest.approx(s) for m, s in zip(results, (0, 1, 2.5)))


def test_halved_w1_floor_is_the_halves_noise_and_a_shift_adds_to_it():
    real = np.random.default_rng(0).normal(5.0, 0.8, 900)
    floor = fd.halved_w1(real, None, seed=0)
    assert 0.02 < floor < 0.12  # two halves of 450 differ by sampling noise only
    same = np.random.default_rng(1).normal(5.0, 0.8, 500)
    assert fd.halved_w1(real, same, seed=0) < 1.5 * floor + 0.05
    assert fd.halved_w1(real, same + 0.5, seed=0) == pytest.approx(0.5, abs=0.08)
    assert math.isnan(fd.halved_w1(real[:1], same, seed=0)) and math.isnan(fd.halved_w1(real, same[:0], seed=0))


def test_across_grade_duplicates_are_counted():
    a, b, c = r("C5 | E8 | D18"), r("C5 | E9 | D18"), r("A5 | B9 | C18")
    same_holds_other_roles = r("C5 E8 | | D18")
    got = fd.across_grade_duplicates({"6B+": [a, b, b], "7A": [same_holds_other_roles, c], "7B": [c]})
    assert got == {"6B+": pytest.approx(1 / 3), "7A": 1.0, "7B": 1.0}
    assert math.isnan(fd.across_grade_duplicates({"6B+": []})["6B+"])


def test_floor_halves_are_disjoint_and_pools_intersect_the_judges_held_out(problems, splits):
    test0 = held_out(problems, GRADES, 0)["test"]
    test1 = held_out(problems, GRADES, 1)["test"]
    pools, judged = fidelity_pools(GRADES, test0, test1)
    for g in GRADES:
        keys0, keys1 = {cell_key(x) for x in test0[g.font]}, {cell_key(x) for x in test1[g.font]}
        assert {cell_key(x) for x in judged[g.font]} == keys0 & keys1
    fid = fd.Fidelity(pools, judged, LookupGrader(splits["test"]), n=1000, seed=3, importance=False)
    for g in GRADES:
        a, b = {cell_key(x) for x in fid.a[g.font]}, {cell_key(x) for x in fid.b[g.font]}
        assert not a & b and len(a) == len(b) == fid.k[g.font] == len(fid.pools[g.font]) // 2
        assert fid.floor["per_grade"][g.font]["pool"] == len(test0[g.font])
        assert fid.floor["per_grade"][g.font]["judged_pool"] == len(judged[g.font])
    assert 0.35 < fid.floor["auc"] < 0.65


def test_small_pools_are_flagged_and_left_out(splits):
    test = by_grade(splits["test"], [parse_grade(g) for g in ("6B+", "7A", "7C+")])
    pools = {"6B+": (4, test["6B+"]), "7A": (7, test["7A"]), "7C+": (11, test["7C+"][:12])}
    judged = {"6B+": test["6B+"][:30], "7A": test["7A"][:10], "7C+": test["7C+"][:12]}
    fid = fd.Fidelity(pools, judged, LookupGrader(splits["test"]), n=30, seed=0, importance=False)
    assert fid.included == ["6B+", "7A"] and fid.floor["n_per_side"] == 60
    pg = fid.floor["per_grade"]
    assert not pg["7C+"]["included"] and pg["7A"]["flagged"] and not pg["6B+"]["flagged"]
    rand = RandomSampler()
    generated = {g: rand.generate([n] * 30, seed=n) for g, (n, _) in pools.items()}
    got = fid.measure(generated)
    assert got["n_per_side"] == 60 and got["auc"] > 0.85
    assert got["w1_judged"] == pytest.approx(got["per_grade"]["6B+"]["w1_judged"])  # 7A, 7C+ flagged
    assert got["per_grade"]["7C+"]["unique"] == 1.0 and np.isfinite(got["spread"]["end_effective"])


def test_nearest_neighbour_check_tells_random_and_copied_routes_from_real(splits):
    """The feature-free 1-NN accuracy: ~0.5 for two real samples, well above for random routes, under 0.5 for
    copies of the real routes it is compared with."""
    from routegen.generation.nearest import nn_accuracy

    pool = random.Random(3).sample(by_grade(splits["train"])["7A"], 400)
    a, b = pool[:200], pool[200:]
    assert 0.4 < nn_accuracy(b, a) < 0.6
    assert nn_accuracy(RandomSampler().generate([7] * 200, seed=1), a) > 0.7  # a coarser test than the trees
    assert nn_accuracy(a[:100] + b[:100], a) < 0.4  # half are copies: each copy's nearest is its original
    assert math.isnan(nn_accuracy([], a))
