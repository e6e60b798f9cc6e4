"""Critic matching (generation/match.py, `--match K`): kept routes are graded by the critic the way it grades real
routes of the grade; flat weights change nothing; the pipeline's rules for when it applies; grader calibration
records the profiles it needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from routegen.data import LabelScale
from routegen.errors import RoutegenError
from routegen.generation.base import GradeConditioned
from routegen.generation.choose import best_setting
from routegen.generation.match import (
    PROFILE_EDGES,
    _bins,
    bin_gains,
    grade_profiles,
    match_pick,
    match_weights,
    own_profiles,
    profiles_fingerprint,
    target_profile,
)
from routegen.generation.sampling import resolve_match, sample_routes
from routegen.grades import Grade
from routegen.route import parse_route

ROUTES = [parse_route(t)[0] for t in ("A5 | C9 | D18", "B4 | D10 | E18", "C5 | E9 F12 | F18", "D3 | G8 H13 | G18")]


def test_profiles_are_histograms_per_grade():
    p = grade_profiles([5.1, 5.2, 7.0, 9.9], [5, 5, 7, 10])
    assert p["edges"] == list(PROFILE_EDGES) and set(p["counts"]) == {"5", "7", "10"}
    assert sum(p["counts"]["5"]) == 2 and sum(p["counts"]["10"]) == 1
    edges, counts = target_profile(p, 5)
    assert counts[np.digitize(5.1, edges) - 1] == 2  # both 6C routes in the bin of 5.1


def test_a_grade_without_a_profile_is_a_one_line_error():
    with pytest.raises(RoutegenError, match="routegen calibrate") as e:
        target_profile(grade_profiles([5.0], [5]), 9)
    assert "\n" not in str(e.value)
    with pytest.raises(RoutegenError):
        target_profile(None, 5)


def test_candidates_already_like_the_target_keep_flat_weights():
    rng = np.random.default_rng(0)
    real = rng.normal(7, 0.8, 20000)
    profile = grade_profiles(real, [7] * len(real))
    w = match_weights(rng.normal(7, 0.8, 20000), *target_profile(profile, 7))
    assert 0.85 < np.median(w) < 1.15 and np.mean(np.abs(w - 1) < 0.3) > 0.9


def test_matching_moves_the_kept_grades_to_the_target_distribution():
    """Candidates graded one step too hard on average: the kept ones end near the real routes' mean and spread,
    where keeping the closest to the target would pile them up at the target number (the prototype)."""
    rng = np.random.default_rng(1)
    real = rng.normal(5.8, 0.6, 5000)
    profile = grade_profiles(real, [5] * len(real))
    k, routes = 8, 2000
    cand = rng.normal(6.6, 0.8, k * routes)
    kept = cand[match_pick(cand, k, profile, 5, np.random.default_rng(2))]
    assert abs(kept.mean() - 5.8) < 0.15 and abs(kept.std() - 0.6) < 0.15, (kept.mean(), kept.std())
    closest = cand.reshape(-1, k)[np.arange(routes), np.abs(cand.reshape(-1, k) - 5).argmin(1)]
    assert closest.mean() < 5.5 and closest.std() < kept.std()  # the rerank rule: piled up at the target number
    again = match_pick(cand, k, profile, 5, np.random.default_rng(2))
    assert again == match_pick(cand, k, profile, 5, np.random.default_rng(2))  # a seed fixes the draw


def test_a_profile_of_few_routes_is_matched_as_it_is_not_pulled_to_the_scales_middle():
    """113 real routes (a 6C's worth) against candidates spread over most of the scale: weighted by matching, the
    candidates keep the profile's mean and spread. Pseudo-counts as large as the candidates' side (0.5 per bin:
    16 routes spread over the whole scale) moved the mean 0.1 step toward the middle."""
    rng = np.random.default_rng(7)
    real = rng.normal(5.5, 0.7, 113)
    edges, counts = target_profile(grade_profiles(real, [5] * len(real)), 5)
    cand = rng.normal(6.5, 2.0, 200_000)
    w = match_weights(cand, edges, counts)
    centres = (edges[:-1] + edges[1:]) / 2
    profile_mean = (counts * centres).sum() / counts.sum()  # the kept routes are binned as the profile is
    kept_mean = np.average(centres[_bins(cand, edges)], weights=w)
    assert abs(kept_mean - profile_mean) < 0.03, (kept_mean, profile_mean)
    assert abs(np.sqrt(np.average((cand - kept_mean) ** 2, weights=w)) - real.std()) < 0.1


def test_a_generators_own_ratio_is_multiplied_in():
    """The cGAN's realism head gives log real / generated per candidate: with flat match weights, a candidate it
    finds e^5 times more real is kept almost every time; without it, about one in four."""
    rng = np.random.default_rng(3)
    profile = grade_profiles(rng.normal(7, 0.8, 5000), [7] * 5000)
    k, routes = 4, 500
    cand = rng.normal(7, 0.8, k * routes)
    favourite = np.tile([5.0, 0.0, 0.0, 0.0], routes)
    kept = match_pick(cand, k, profile, 7, np.random.default_rng(4), favourite)
    assert np.mean([i % k == 0 for i in kept]) > 0.9
    plain = match_pick(cand, k, profile, 7, np.random.default_rng(4))
    assert 0.15 < np.mean([i % k == 0 for i in plain]) < 0.35


def test_with_its_own_profile_one_route_at_a_time_is_matched_like_a_large_request():
    """Shares counted over one route's 4 candidates make the ratio the target's profile itself: routes asked for
    one at a time come out narrower than those of one large request (the grade's most common bins). Counted by
    the generator's own profile instead, both give the same kept distribution."""
    rng = np.random.default_rng(1)
    profile = grade_profiles(rng.normal(5.8, 0.6, 5000), [5] * 5000)
    k, routes = 4, 3000
    cand = rng.normal(6.6, 0.8, k * routes)
    own = np.histogram(rng.normal(6.6, 0.8, 50000), PROFILE_EDGES)[0]

    def one_at_a_time(**kw) -> np.ndarray:
        r = np.random.default_rng(3)
        return np.array([cand[i * k + match_pick(cand[i * k : (i + 1) * k], k, profile, 5, r, **kw)[0]]
                         for i in range(routes)])  # fmt: skip

    large = cand[match_pick(cand, k, profile, 5, np.random.default_rng(2))]
    alone, alone_own = one_at_a_time(), one_at_a_time(own=own)
    assert alone.std() < large.std() - 0.05, (alone.std(), large.std())
    assert abs(alone_own.mean() - large.mean()) < 0.05 and abs(alone_own.std() - large.std()) < 0.04
    large_own = cand[match_pick(cand, k, profile, 5, np.random.default_rng(2), own=own)]
    assert abs(large_own.mean() - large.mean()) < 0.02  # a large request counts the same shares either way


def _kept_shares(bins, weights, k, groups=40000, seed=9) -> np.ndarray:
    """Each bin's share of the candidates a draw of one in k keeps (simulated)."""
    idx = np.random.default_rng(seed).integers(0, len(bins), size=(groups, k))
    p = weights[idx] / weights[idx].sum(1, keepdims=True)
    return np.bincount(bins[idx].ravel(), weights=p.ravel(), minlength=len(PROFILE_EDGES) - 1) / groups


def test_bin_gains_make_a_draw_of_one_in_k_keep_the_target_shares_despite_heavy_ratios():
    rng = np.random.default_rng(1)
    bins = np.where(rng.random(4096) < 0.7, 10, 11)  # the generator favours bin 10; the target wants half each
    ratio = np.exp(rng.normal(0, 1.5, 4096))  # realism ratios this heavy leave few effective candidates of 8
    target = np.zeros(len(PROFILE_EDGES) - 1)
    target[[10, 11]] = 50
    own = np.bincount(bins, weights=ratio / ratio.mean(), minlength=len(target))
    base = match_weights(PROFILE_EDGES[10] + 0.5 * (bins - 10) + 0.25, np.asarray(PROFILE_EDGES), target, own=own)
    plain = _kept_shares(bins, base * ratio, 8)[11]
    gain = bin_gains(bins, ratio, target, own, 8)
    fresh = np.random.default_rng(2)  # new candidates of the same generator: the gains carry over
    bins2 = np.where(fresh.random(4096) < 0.7, 10, 11)
    ratio2 = np.exp(fresh.normal(0, 1.5, 4096))
    w2 = match_weights(PROFILE_EDGES[10] + 0.5 * (bins2 - 10) + 0.25, np.asarray(PROFILE_EDGES), target, own=own)
    assert plain < 0.45  # without gains the draw keeps too much of the favoured bin
    assert abs(_kept_shares(bins2, w2 * ratio2 * gain[bins2], 8)[11] - 0.5) < 0.02
    assert gain[11] > gain[10] and np.all(gain[:10] == 1)  # bins without candidates keep gain 1


def test_flat_ratios_and_many_candidates_need_no_gain():
    rng = np.random.default_rng(3)
    bins = rng.integers(8, 14, 8192)
    target = np.bincount(bins, minlength=len(PROFILE_EDGES) - 1).astype(float)
    gain = bin_gains(bins, np.ones(len(bins)), target, target, 32)
    assert np.allclose(gain[8:14], 1, atol=0.05)


# --- the sampling pipeline ------------------------------------------------------------------------------------


@dataclass
class Score:
    expected: float

    @property
    def grade(self) -> Grade:
        return Grade.from_number(round(self.expected))

    confidence: float = 1.0


class CellCritic:
    """Grades a route by its first middle hold's row (rows 8-13 -> 5-10): easy to steer by which route is kept."""

    def __init__(self, profiles=None) -> None:
        self.profiles = profiles

    def score(self, routes):
        return [Score(float(r.middle[0].row - 3)) for r in routes]


class Cycle:
    """A 'generator' that offers the four ROUTES in turn, whatever the grade; its default matching is 4."""

    board, angle, kind, scale = "2016", 40, "cycle", LabelScale("font")
    trained_grades = set(range(1, 17))
    default_match = 4

    def generate(self, grades, *, fixed=None, seed=0):
        return [ROUTES[(seed + i) % len(ROUTES)] for i in range(len(grades))]


def test_the_pipeline_keeps_the_routes_the_profile_asks_for():
    profile = grade_profiles([6.0] * 50, [6] * 50)  # real 6C+ routes: graded 6 (first middle on row 9)
    got = sample_routes(Cycle(), 6, 40, critic=CellCritic(profile), keep_copies=True)
    assert {s.route for s in got} == {ROUTES[0], ROUTES[2]} and all(s.critic_expected == 6.0 for s in got)
    assert got[0].settings["match"] == 4
    plain = sample_routes(Cycle(), 6, 40, critic=CellCritic(profile), keep_copies=True, match=1)
    assert {s.route for s in plain} == set(ROUTES)


def test_when_matching_applies():
    gen, calibrated = Cycle(), CellCritic(grade_profiles([6.0], [6]))
    assert resolve_match(gen, None, calibrated, 1) == 4  # the model's default
    assert resolve_match(gen, None, CellCritic(None), 1) == 1  # a critic without profiles: off, not an error
    assert resolve_match(gen, None, None, 1) == 1  # no critic (--no-critic)
    assert resolve_match(gen, None, calibrated, 8) == 1  # a rerank asked for replaces it
    with pytest.raises(RoutegenError, match="give one"):
        resolve_match(gen, 4, calibrated, 8)
    with pytest.raises(RoutegenError, match="needs a critic"):
        resolve_match(gen, 4, None, 1)
    with pytest.raises(RoutegenError, match="routegen calibrate"):
        sample_routes(gen, 6, 5, critic=CellCritic(None), match=4)


def test_the_studio_caps_the_candidates():
    from routegen.studio.service import MAX_MATCH, match_for

    class Eight(Cycle):
        default_match = 8

    calibrated = CellCritic(grade_profiles([6.0], [6]))
    assert match_for(Eight(), calibrated) == MAX_MATCH < 8 and match_for(Cycle(), calibrated) == min(4, MAX_MATCH)
    assert match_for(Eight(), None) == 1


def test_the_choice_counts_an_auc_under_the_floor_as_the_floor():
    rows = [{"match": 1, "auc": 0.47, "auc_std": 0.02, "w1": 0.30, "floor_auc": 0.53},
            {"match": 4, "auc": 0.54, "auc_std": 0.02, "w1": 0.26, "floor_auc": 0.53},
            {"match": 8, "auc": 0.60, "auc_std": 0.02, "w1": 0.20, "floor_auc": 0.53}]  # fmt: skip
    assert best_setting(rows, "match") == 4  # 8 is easier to tell from real routes; 1 and 4 are at the floor
    rows[1]["auc"] = 0.58
    assert best_setting(rows, "match") == 1


def test_the_choice_takes_fewer_candidates_when_the_w1s_print_the_same():
    rows = [{"match": 4, "auc": 0.50, "auc_std": 0.02, "w1": 0.344, "floor_auc": 0.52},
            {"match": 32, "auc": 0.50, "auc_std": 0.02, "w1": 0.338, "floor_auc": 0.52}]  # fmt: skip
    assert best_setting(rows, "match") == 4  # 0.006 apart: a tie, and 4 candidates cost an eighth of 32
    rows[0]["w1"] = 0.36
    assert best_setting(rows, "match") == 32


class Calibrated(Cycle, GradeConditioned):
    """Cycle with a sampling group: its defaults and the own profiles `routegen calibrate --match` records."""

    sampling_group = "sample"

    def __init__(self, own=None) -> None:
        self.hparams = {"sample": {"guidance": 1.0, "match": 4, "match_profiles": own}}


def test_a_generators_own_profiles_are_its_candidates_grades_per_grade():
    critic = CellCritic(grade_profiles([6.0], [6]))
    own = own_profiles(Cycle(), critic, n=40)
    assert own["critic"] == profiles_fingerprint(critic.profiles) and own["candidates"] == 40
    assert set(own["counts"]) == {str(g) for g in Cycle.trained_grades}
    counts = np.array(own["counts"]["6"])  # first middle rows 9, 10, 9, 8: graded 6, 7, 6, 5
    bin_of = {g: int(np.digitize(g, PROFILE_EDGES)) - 1 for g in (5.0, 6.0, 7.0)}
    assert counts.sum() == pytest.approx(40)
    assert [counts[bin_of[g]] for g in (5.0, 6.0, 7.0)] == pytest.approx([10, 20, 10])


def test_the_own_profile_stands_only_for_the_calibrated_critic_and_defaults():
    critic = CellCritic(grade_profiles([6.0], [6]))
    gen = Calibrated(own_profiles(Cycle(), critic, n=40))
    assert gen.own_match_profile(6, critic, {}) == gen.match_profiles["counts"]["6"]
    assert gen.own_match_profile(6, critic, {"guidance": 1.0}) is not None  # the default, named
    assert gen.own_match_profile(6, critic, {"guidance": 2.0}) is None  # another distribution of candidates
    assert gen.own_match_profile(6, CellCritic(grade_profiles([7.0], [6])), {}) is None  # another critic
    assert Calibrated(None).own_match_profile(6, critic, {}) is None  # never recorded


def test_the_pipeline_counts_by_the_own_profile_where_it_stands(monkeypatch):
    import routegen.generation.sampling as sampling

    seen = []

    def spy(expected, k, profiles, number, rng, log_weights=None, own=None, gain=None):
        seen.append((own, gain))
        return [i * k for i in range(len(expected) // k)]

    monkeypatch.setattr(sampling, "match_pick", spy)
    critic = CellCritic(grade_profiles([6.0], [6]))
    gen = Calibrated(own_profiles(Cycle(), critic, n=40, ks=(4,)))
    sample_routes(gen, 6, 1, critic=critic, keep_copies=True)
    assert seen[-1] == (gen.match_profiles["counts"]["6"], gen.match_profiles["gains"]["4"]["6"])
    sample_routes(gen, 6, 1, critic=critic, keep_copies=True, match=8)  # no gains recorded for 8 candidates
    assert seen[-1] == (gen.match_profiles["counts"]["6"], None)
    gen.generate = lambda grades, *, fixed=None, seed=0, guidance=None: Cycle().generate(grades, seed=seed)
    sample_routes(gen, 6, 1, critic=critic, keep_copies=True, guidance=2.0)
    assert seen[-1] == (None, None)


def test_the_studios_batched_requests_count_by_the_own_profile_too(monkeypatch):
    """Unseeded studio requests are matched together (studio/service.py generate_batch): a request of a few routes
    must be drawn like `routegen sample`'s, not pulled to the grade's most common bins by its own few candidates."""
    import routegen.generation.match as match
    from routegen.studio.service import MAX_MATCH, Studio

    seen = []

    def spy(expected, k, profiles, number, rng, log_weights=None, own=None, gain=None):
        seen.append((k, own, gain))
        return [i * k for i in range(len(expected) // k)]

    monkeypatch.setattr(match, "match_pick", spy)
    critic = CellCritic(grade_profiles([6.0], [6]))
    gen = Calibrated(own_profiles(Cycle(), critic, n=40, ks=(MAX_MATCH,)))
    studio = Studio.__new__(Studio)  # no shipped models: the batch path alone, with this generator and critic
    studio.generator, studio.critic, studio.nearest = (lambda b, n: gen), (lambda b: critic), (lambda b: None)
    studio.describe_routes = lambda board, routes, grades: routes
    out = studio.generate_batch("2016", "ar", [(Grade.from_number(6), 2)])
    assert len(out[0]) == 2
    k = min(gen.default_match, MAX_MATCH)
    assert seen == [(k, gen.match_profiles["counts"]["6"], gen.match_profiles["gains"][str(k)]["6"])]
