"""NoveltyIndex: exact copies ignore roles, Jaccard is right against a brute-force reference, and it is fast."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from routegen.data import DataError, load_problems, split_problems
from routegen.generation.novelty import NoveltyIndex
from routegen.route import Route, parse_route


@pytest.fixture(scope="module")
def index2016(data_dir):
    return NoveltyIndex.from_data("2016", 40, data_dir)


@pytest.fixture(scope="module")
def problems(data_dir):
    return load_problems(data_dir)


def r(text: str) -> Route:
    return parse_route(text)[0]


def test_contains_ignores_roles():
    idx = NoveltyIndex([r("C5 E6 | E8 F11 | D18")])
    assert idx.contains(r("C5 E6 | E8 F11 | D18"))
    assert idx.contains(r("C5 | E6 E8 F11 | D18"))  # same holds, other roles
    assert not idx.contains(r("C5 E6 | E8 | D18"))
    assert len(idx) == 1


def test_nearest_jaccard_small_cases():
    idx = NoveltyIndex([r("A5 | B8 C10 | D18"), r("K5 | J9 | K18")])
    got = idx.nearest_jaccard([r("A5 | B8 C10 | D18"), r("A5 | B8 | D18"), r("F1 | F9 | F18")])
    assert got == pytest.approx([1.0, 3 / 4, 0.0])
    assert idx.nearest_jaccard([r("A5 | B8 C10 | D18")], exclude_exact=True) == pytest.approx([0.0])
    two = NoveltyIndex([r("A5 | B8 C10 | D18"), r("A5 | B8 | D18")])
    assert two.nearest_jaccard([r("A5 | B8 C10 | D18")], exclude_exact=True) == pytest.approx([3 / 4])
    assert NoveltyIndex([]).nearest_jaccard([r("A5 | B8 | D18")]) == pytest.approx([0.0])


def test_nearest_jaccard_matches_brute_force(problems):
    rng = random.Random(0)
    known = [p.route for p in rng.sample(problems, 300)]
    queries = [p.route for p in rng.sample(problems, 40)]
    idx = NoveltyIndex(known)
    want = [max(len(q.hold_set & k.hold_set) / len(q.hold_set | k.hold_set) for k in known) for q in queries]
    assert idx.nearest_jaccard(queries) == pytest.approx(want)


def test_from_data_has_every_problem_file(index2016, problems, data_dir):
    assert all(index2016.contains(p.route) for p in problems[:2000])
    v_only = [p for p in load_problems(data_dir, label="v", include_v_only=True) if p.grade is None]
    assert v_only and all(index2016.contains(p.route) for p in v_only[:500])
    assert len(index2016) > len({p.route.hold_set for p in problems})


def test_from_data_2017_includes_ocr_file(data_dir):
    idx = NoveltyIndex.from_data("2017", 40, data_dir)
    noisy = load_problems(data_dir, board="2017", include_noisy=True)
    assert all(idx.contains(p.route) for p in noisy[-300:])


def test_from_data_bad_board_or_angle(data_dir):
    with pytest.raises(DataError, match="2015"):
        NoveltyIndex.from_data("2015", 40, data_dir)
    with pytest.raises(DataError, match="25 degrees"):
        NoveltyIndex.from_data("2016", 25, data_dir)


def test_held_out_routes_are_new_to_training_split(problems):
    splits = split_problems(problems, "font", seed=0)
    train = NoveltyIndex(splits["train"])
    test = [p.route for p in splits["test"]]
    assert not train.contains_many(test).any()  # the split is leak-free by hold set
    near = float(np.mean(train.nearest_jaccard(test) >= 0.8))
    assert 0.05 < near < 0.25  # real problems often share most holds with another one


def test_fast_for_500_queries(index2016, problems):
    queries = [p.route for p in problems[:500]]
    t = time.perf_counter()
    out = index2016.nearest_jaccard(queries)
    assert time.perf_counter() - t < 5.0
    assert out.shape == (500,) and np.all(out == 1.0)


def test_the_index_is_cached_and_the_cache_answers_the_same(tmp_path, monkeypatch):
    from routegen.generation.novelty import NoveltyIndex

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = NoveltyIndex.from_data("2016")
    cached_files = list((tmp_path / "routegen").glob("novelty_2016_40_*.npz"))
    assert len(cached_files) == 1
    cached = NoveltyIndex.from_data("2016")
    assert len(cached) == len(built) and (cached.matrix == built.matrix).all() and cached._keys == built._keys
    cached_files[0].write_bytes(b"damaged")
    assert len(NoveltyIndex.from_data("2016")) == len(built)  # a damaged cache is rebuilt
