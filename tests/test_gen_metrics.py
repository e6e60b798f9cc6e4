"""Generation metrics, checked with stand-in generators and graders whose right answers are known:
real routes fed as "generated" look real (AUC ~0.5), random routes do not (AUC ~1)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from routegen.board import ROWS, load_board
from routegen.data import LabelScale, load_problems, split_problems
from routegen.generation import metrics as gm
from routegen.generation.novelty import NoveltyIndex, cell_key
from routegen.generation.sampling import sample_routes
from routegen.grades import Grade
from routegen.route import Route, check_route, parse_route


@dataclass
class Score:
    number: int
    expected: float
    confidence: float = 1.0

    @property
    def grade(self) -> Grade:
        return Grade.from_number(self.number)


class LookupGrader:
    """Knows the true grade of every problem it was given; guesses `default` for anything else."""

    def __init__(self, problems, default: int = 4) -> None:
        self.grades = {cell_key(p.route): p.grade.number for p in problems}
        self.default = default

    def score(self, routes: Sequence[Route]) -> list[Score]:
        return [Score(n, float(n)) for n in (self.grades.get(cell_key(r), self.default) for r in routes)]


class RealSampler:
    """A 'generator' drawing real routes of the asked grade from a pool (with replacement)."""

    board, angle, scale = "2016", 40, LabelScale("font")

    def __init__(self, problems) -> None:
        self.pool: dict[int, list[Route]] = {}
        for p in problems:
            self.pool.setdefault(p.grade.number, []).append(p.route)
        self.trained_grades = set(self.pool)

    def generate(self, grades, *, fixed=None, seed=0, constrained=True, **kwargs) -> list[Route]:
        rng = random.Random(seed)
        return [rng.choice(self.pool[g]) for g in grades]


class RandomSampler:
    """Uniformly random holds: 1-2 starts in rows <= 6, 2-8 middles, 1 end; with constrained=False any rows."""

    board, angle, scale = "2016", 40, LabelScale("font")
    trained_grades = set(range(1, 17))

    def __init__(self) -> None:
        self.holds = load_board("2016").holds

    def generate(self, grades, *, fixed=None, seed=0, constrained=True, **kwargs) -> list[Route]:
        rng = random.Random(seed)
        board = load_board("2016")
        low = [h for h in self.holds if h.row <= 6]
        top = [h for h in self.holds if h.row == ROWS]
        mid = [h for h in self.holds if h.row < ROWS]
        out = []
        while len(out) < len(grades):
            if not constrained:
                pick = rng.sample(self.holds, 10)
                out.append(Route(tuple(pick[:2]), tuple(pick[2:9]), tuple(pick[9:10])))
                continue
            start = rng.sample(low, rng.randint(1, 2))
            mids = [h for h in rng.sample(mid, rng.randint(2, 8)) if h not in start]
            route = Route(tuple(start), tuple(mids), (rng.choice(top),))
            if check_route(route, board).ok:  # rejection: keep only valid ones
                out.append(route)
        return out


@pytest.fixture(scope="module")
def splits(data_dir):
    return split_problems(load_problems(data_dir), "font", seed=0)


@pytest.fixture(scope="module")
def index(data_dir):
    return NoveltyIndex.from_data("2016", 40, data_dir)


def routes_of(problems, number: int) -> list[Route]:
    return [p.route for p in problems if p.grade.number == number]


def r(text: str) -> Route:
    return parse_route(text)[0]


def test_validity_counts_each_rule(board2016):
    routes = [r("C5 E6 | E8 F11 | D18"), r("C5 | E8 E12 | D17"), r("C9 | | D18")]
    v = gm.validity(routes, board2016)
    assert v["valid"] == pytest.approx(1 / 3)
    assert v["broken"]["end"] == pytest.approx(1 / 3) and v["broken"]["start"] == pytest.approx(1 / 3)
    assert v["broken"]["gap"] == pytest.approx(1 / 3)  # C9 -> D18 is 9 rows
    assert set(v["broken"]) == set(gm.VALIDITY_RULES)


def test_uniqueness_ignores_roles():
    assert gm.uniqueness([r("C5 E6 | E8 | D18"), r("C5 | E6 E8 | D18"), r("C5 | E8 | D18")]) == pytest.approx(2 / 3)
    assert math.isnan(gm.uniqueness([]))


def test_grade_agreement_and_spearman():
    got = gm.grade_agreement([4, 4, 7, 9], [4, 5, 9, 9])
    assert got == {"exact": 0.5, "within1": 0.75, "mae": 0.75, "n": 4}
    assert gm.spearman([1, 2, 3, 4], [2, 3, 4, 9]) == pytest.approx(1.0)
    assert math.isnan(gm.spearman([4, 4, 4], [1, 2, 3]))


def test_balanced_spearman():
    targets = [4] * 90 + [7] * 10
    perfect = gm.balanced_spearman(targets, targets)
    assert perfect == pytest.approx(1.0)
    noisy = [t if i % 2 else 5 for i, t in enumerate(targets)]
    assert 0 < gm.balanced_spearman(targets, noisy) < 1
    assert math.isnan(gm.balanced_spearman([4, 4, 4], [4, 5, 6]))


def test_move_lengths_and_features():
    route = r("A1 | A4 D8 | D18")
    assert gm.move_lengths(route) == pytest.approx([3.0, 5.0, 10.0])
    assert gm.span(route) == 17
    feats = dict(zip(gm.FEATURE_NAMES, gm.route_features(route)))
    assert feats["holds"] == 4 and feats["move_max"] == 10 and feats["gap_max"] == 10 and feats["row18"] == 1
    assert gm.feature_matrix([route, route]).shape == (2, len(gm.FEATURE_NAMES))


def test_distances_zero_for_same_routes_and_large_for_shifted(splits):
    real = routes_of(splits["test"], 7)
    assert gm.distribution_distances(real, real) == pytest.approx({"w1_holds": 0, "w1_span": 0, "w1_moves": 0})
    rand = RandomSampler().generate([7] * 300)
    assert gm.distribution_distances(rand, real)["w1_moves"] > 0.5


def test_auc_real_vs_real_near_half_random_near_one(splits):
    real = routes_of(splits["test"], 4)
    other_real = routes_of(splits["val"], 4)
    assert abs(gm.real_vs_generated_auc(real, other_real) - 0.5) < 0.08
    rand = RandomSampler().generate([4] * 500)
    assert gm.real_vs_generated_auc(real, rand) > 0.9
    assert math.isnan(gm.real_vs_generated_auc(real[:3], rand))


def test_real_routes_as_generated_match_the_yardstick(splits, index, board2016):
    """A 'generator' that returns real (validation) routes is real on every count but novelty."""
    gen = RealSampler(splits["val"])
    judge = LookupGrader(splits["train"] + splits["val"] + splits["test"])
    samples = sample_routes(gen, "7A", 300, keep_copies=True, seed=1)
    routes = [s.route for s in samples]
    real = routes_of(splits["test"], 7)
    m = gm.evaluate_generated(routes, 7, board=board2016, index=index, real=real, judge=judge, critic=judge)
    assert m["valid"] > 0.99 and m["novel"] == 0.0 and m["near_copy"] == 1.0  # they are known problems
    assert m["judge_exact"] == 1.0 and m["judge_grades"] == [7] * 300
    assert abs(m["auc"] - 0.5) < 0.1 and m["w1_holds"] < 0.5
    yard = gm.evaluate_real(real, 7, index=index, reference=routes, graded={"judge": (judge, real[:50])})
    assert 0.03 < yard["near_copy"] < 0.3  # vs every *other* known problem
    assert yard["judge_n"] == 50 and yard["judge_exact"] == 1.0 and yard["n"] == len(real)
    nearest_other = index.nearest_jaccard(routes, exclude_exact=True)
    assert abs(float(np.mean(nearest_other >= 0.8)) - yard["near_copy"]) < 0.1


def test_random_routes_look_generated(splits, index, board2016):
    rand = RandomSampler().generate([7] * 300, seed=3)
    assert all(check_route(x, board2016).ok for x in rand)
    real = routes_of(splits["test"], 7)
    m = gm.evaluate_generated(rand, 7, board=board2016, index=index, real=real, judge=LookupGrader([]), seed=0)
    assert m["valid"] == 1.0 and m["unique"] == 1.0 and m["novel"] == 1.0 and m["near_copy"] < 0.05
    assert m["auc"] > 0.9
    assert m["judge_within1"] == 0.0  # the lookup grader guesses 6B+ (4) for unknown routes, target 7A (7)


def test_matched_mix_and_mean_over_grades():
    real = {"6B+": [1] * 90, "7A": [2] * 30}
    gen = {"6B+": list(range(100)), "7A": list(range(100))}
    mixed = gm.matched_mix(real, gen)
    assert len(mixed) == 120  # scale = min(100/90, 100/30, 1) = 1
    mean = gm.mean_over_grades({"a": {"x": 1.0, "b": {"y": 2}, "s": "t"}, "b": {"x": float("nan"), "b": {"y": 4}}})
    assert mean == {"x": 1.0, "b": {"y": 3.0}}


def test_check_targets():
    run = {
        "mean": {"valid": 1.0, "unique": 0.99, "novel": 0.95, "near_copy": 0.1, "judge_within1": 0.7},
        "per_grade": {"6B+": {"judge_within1": 0.8}, "7A": {"judge_within1": 0.6}},
        "spearman_judge": 0.8,
        "auc_pooled": 0.7,
    }
    yard = {"mean": {"judge_within1": 0.65}, "per_grade": {"6B+": {"judge_within1": 0.7}, "7A": {"judge_within1": 0.65}},
            "spearman_judge_balanced": 0.75}  # fmt: skip
    t = gm.check_targets(run, yard)
    assert t["valid"]["met"] and t["unique"]["met"] and not t["novel"]["met"] and t["near_copy"]["met"]
    assert t["judge_within1"]["met"] and t["spearman"]["met"] and not t["auc"]["met"]
    assert t["judge_within1_every_grade"]["value"] == 1 and t["judge_within1_every_grade"]["bound"] == 2


def test_hold_spread_tells_a_collapsed_set_from_a_spread_one():
    from routegen.generation.metrics import hold_spread

    spread = [parse_route(f"C5 | E9 F12 | {c}18")[0] for c in "ABCDEFGH"]
    collapsed = [parse_route(f"C5 | E9 F12 | {c}18")[0] for c in "CCCCCCCD"]
    s, c = hold_spread(spread), hold_spread(collapsed)
    assert s["end_top_share"] == 1 / 8 and abs(s["end_effective"] - 8) < 1e-9
    assert c["end_top"] == "C18" and c["end_top_share"] == 7 / 8 and c["end_effective"] < 2
    assert s["start_top"] == "C5" and s["start_effective"] == 1.0
