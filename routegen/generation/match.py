"""Critic matching: keep, of K candidates per route, one drawn so that the critic grades the kept routes the way it
grades real routes of the target grade (behind `--match K`).

Reranking by "the candidate whose critic grade is closest to the target" gives routes graded like the grade's
*prototype*; weighting candidates by p_critic(target | route) does too, more gently (docs/fidelity.md has the
figures). Matching corrects the distribution instead: a grader calibrated with `routegen calibrate` carries its
grade PROFILES, the histogram of its expected grade on the validation routes of each grade, and each candidate is
kept with weight

    profile_target(bin of its expected grade) / share of the candidates in that bin,

a histogram density-ratio estimate (sampling-importance-resampling) of real over generated. Where the generator
already makes routes graded like real ones the weights are flat and matching changes nothing. A generator that
estimates its own real / generated ratio r per route (its realism trees, generation/realism.py, or the cGAN's
realism head: discriminator rejection sampling) has it multiplied in, so one draw corrects both how real the
routes look and how they are graded. The candidates' bin shares are then counted with weight r: r alone already
moves the grading part of the way, and the profile ratio only makes up the rest (were r exact, the shares would
equal the target's and the ratio be flat), instead of correcting the grading twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np

from routegen.errors import RoutegenError

# expected grades (numbered scale 1 .. 16) binned in half grade steps
PROFILE_EDGES = tuple(float(x) for x in np.arange(0.75, 16.76, 0.5))
SMOOTH = 0.5  # pseudo-count per bin on both sides: an empty bin neither forbids nor explodes
OWN_CANDIDATES = 4096  # candidates per grade behind a generator's own profile


def _bins(expected, edges) -> np.ndarray:
    """Each expected grade's profile bin (grades off either end go to the end bins)."""
    return np.clip(np.digitize(expected, edges) - 1, 0, len(edges) - 2)


def _ratios(log_weights) -> np.ndarray:
    """exp(log real / generated) scaled so the largest is 1 (only the ratios between candidates matter)."""
    lw = np.asarray(log_weights, dtype=float)
    return np.exp(np.clip(lw - lw.max(), -50, 0))


def grade_profiles(expected: Sequence[float], numbers: Sequence[int]) -> dict:
    """The profiles hparams group: {"edges": PROFILE_EDGES, "counts": {grade number (str): histogram}} of the
    expected grades of real routes (`expected`) grouped by their true grade number (`numbers`)."""
    by_grade: dict[int, list[float]] = {}
    for e, n in zip(expected, numbers):
        by_grade.setdefault(int(n), []).append(float(e))
    counts = {str(n): np.histogram(v, PROFILE_EDGES)[0].tolist() for n, v in sorted(by_grade.items())}
    return {"edges": list(PROFILE_EDGES), "counts": counts}


def target_profile(profiles: Mapping | None, number: int) -> tuple[np.ndarray, np.ndarray]:
    """(edges, counts) of one grade's profile; a RoutegenError when the critic has none for it."""
    if not profiles or str(number) not in profiles.get("counts", {}):
        raise RoutegenError(
            "matching needs a critic with grade profiles for this grade: run `routegen calibrate --ckpt <critic>` "
            "(it records them), or use --match 1"
        )
    return np.asarray(profiles["edges"], dtype=float), np.asarray(profiles["counts"][str(number)], dtype=float)


def profiles_fingerprint(profiles: Mapping | None) -> str | None:
    """A short digest of a critic's grade profiles: which critic a generator's own profiles were counted by."""
    if not profiles:
        return None
    return hashlib.sha256(json.dumps(profiles["counts"], sort_keys=True).encode()).hexdigest()[:16]


def own_profiles(module, critic, *, seed: int = 0, n: int | None = None) -> dict:
    """The generator's own profiles (module docstring): {"edges", "counts": {grade number (str): histogram, counted
    with weight r, scaled to n}, "critic": the critic's profiles_fingerprint, "candidates": n}, over n candidates
    per trained grade at its sampling defaults (fixed seeds), as `routegen calibrate --match` records them."""
    from routegen.generation.sampling import CHUNK

    n = n or OWN_CANDIDATES  # read here, not bound at import: a test asks for fewer
    ratio_of = getattr(module, "candidate_log_weights", None)
    counts = {}
    for number in sorted(module.trained_grades):
        hist = np.zeros(len(PROFILE_EDGES) - 1)
        for c, first in enumerate(range(0, n, CHUNK)):
            routes = module.generate([number] * min(CHUNK, n - first), seed=seed + 1000 * number + c)
            expected = np.array([s.expected for s in critic.score(routes)], dtype=float)
            lw = ratio_of(routes, number) if ratio_of is not None else None
            r = np.ones(len(routes)) if lw is None else _ratios(lw)
            hist += np.bincount(_bins(expected, PROFILE_EDGES), weights=r / r.mean(), minlength=len(hist))
        counts[str(number)] = [round(float(x), 3) for x in hist * n / hist.sum()]
    return {"edges": list(PROFILE_EDGES), "counts": counts, "critic": profiles_fingerprint(critic.profiles),
            "candidates": n}  # fmt: skip


def match_weights(expected: np.ndarray, edges: np.ndarray, counts: np.ndarray, ratio: np.ndarray | None = None,
                  own: np.ndarray | None = None):  # fmt: skip
    """Per candidate: the target's share of its bin over the candidates' share of it (see the module docstring),
    the candidates counted with weight `ratio` (their real / generated ratio, normalised to a mean of 1), or, given
    `own` (the generator's own profile of the grade), its shares instead of these candidates'."""
    bins = _bins(expected, edges)
    if own is not None:
        mine = np.asarray(own, dtype=float) + SMOOTH
    else:
        r = np.ones(len(bins)) if ratio is None else np.asarray(ratio, dtype=float) / np.mean(ratio)
        mine = np.bincount(bins, weights=r, minlength=len(edges) - 1) + SMOOTH
    real = counts + SMOOTH
    return (real / real.sum())[bins] / (mine / mine.sum())[bins]


def match_pick(
    expected: Sequence[float], k: int, profiles: Mapping | None, number: int, rng: np.random.Generator,
    log_weights: np.ndarray | None = None, own: np.ndarray | None = None,
) -> list[int]:  # fmt: skip
    """Indices of the kept candidates: `expected` holds k candidates per route, route after route; one is drawn
    from each group of k in proportion to match_weights (computed over all candidates at once, or from `own`, the
    generator's own profile of the grade), times exp(log_weights) where the generator gives them (its own real /
    generated ratio: realism trees or head)."""
    e = np.asarray(expected, dtype=float)
    if log_weights is None:
        w = match_weights(e, *target_profile(profiles, number), own=own).reshape(-1, k)
    else:
        ratio = _ratios(log_weights)  # the bin shares need the ratios across all candidates
        w = (match_weights(e, *target_profile(profiles, number), ratio, own) * ratio).reshape(-1, k)
        w = w / w.max(axis=1, keepdims=True).clip(min=1e-300)
    picks = [int(rng.choice(k, p=row / row.sum())) for row in w]
    return [i * k + j for i, j in enumerate(picks)]
