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

A draw of one in K falls short of that correction when the weights vary a lot within a group (heavy realism
ratios leave a few effective candidates of K): it keeps too many candidates of the bins the generator favours. So
with its own profiles a generator records, per K it was calibrated for, a GAIN per bin, fitted on the same
candidates so that a draw of one in K keeps each bin's share that a draw from all of them would (`bin_gains`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np

from routegen.errors import RoutegenError

# expected grades (numbered scale 1 .. 16) binned in half grade steps
PROFILE_EDGES = tuple(float(x) for x in np.arange(0.75, 16.76, 0.5))
SMOOTH = 0.5  # pseudo-count per bin of the candidates' shares (thousands of them): an empty bin does not explode
# Pseudo-count per bin of the target profile (58 - 930 real routes a grade): an empty bin does not forbid a
# candidate outright, and 32 bins of it stay far too few to move the profile. 0.5, as on the candidates' side,
# was 16 routes spread evenly over the whole scale; matched to it, the kept routes of grades with ~100 profile routes
# were graded up to 0.13 step closer to the scale's middle than the profile (6C, 7B - 7C; 0.47 at 7C+;
# bench/bench_match_draw.py).
TARGET_SMOOTH = 0.01
OWN_CANDIDATES = 4096  # candidates per grade behind a generator's own profile
QUICK_MATCH = 3  # candidates per route where answers must be quick (the studio): gains are recorded for it too
GAIN_GROUPS = 20000  # simulated draws of one in K behind a bin's gain
GAIN_MIN_CANDIDATES = 16  # a bin with fewer of the 4,096 keeps gain 1: its share is too uncertain to chase
GAIN_MAX = 4.0  # a bin's gain stays within 1/4 .. 4: a share that K candidates rarely reach is not chased at
# any cost to the realism ratio


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


def own_candidates(module, critic, number: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(profile bin, realism ratio) of n of the generator's candidates of grade `number` at its sampling
    defaults (fixed seeds)."""
    from routegen.generation.sampling import CHUNK

    ratio_of = getattr(module, "candidate_log_weights", None)
    bins, lws = [], []
    for c, first in enumerate(range(0, n, CHUNK)):
        routes = module.generate([number] * min(CHUNK, n - first), seed=seed + 1000 * number + c)
        bins.append(_bins(np.array([s.expected for s in critic.score(routes)], dtype=float), PROFILE_EDGES))
        lw = ratio_of(routes, number) if ratio_of is not None else None
        lws.append(np.zeros(len(routes)) if lw is None else np.asarray(lw, dtype=float))
    return np.concatenate(bins), _ratios(np.concatenate(lws))


def own_profiles(module, critic, *, seed: int = 0, n: int | None = None, ks: Sequence[int] = ()) -> dict:
    """The generator's own profiles (module docstring): {"edges", "counts": {grade number (str): histogram, counted
    with weight r, scaled to n}, "gains": {K (str): {grade number (str): bin_gains}} for each K > 1 of `ks`,
    "critic": the critic's profiles_fingerprint, "candidates": n}, over n candidates per trained grade at its
    sampling defaults (fixed seeds), as `routegen calibrate --match` records them."""
    n = n or OWN_CANDIDATES  # read here, not bound at import: a test asks for fewer
    counts: dict[str, list[float]] = {}
    gains: dict[str, dict[str, list[float]]] = {str(k): {} for k in ks if k > 1}
    for number in sorted(module.trained_grades):
        bins, r = own_candidates(module, critic, number, n, seed)
        hist = np.bincount(bins, weights=r / r.mean(), minlength=len(PROFILE_EDGES) - 1)
        counts[str(number)] = [round(float(x), 3) for x in hist * n / hist.sum()]
        if gains and str(number) in (critic.profiles or {}).get("counts", {}):
            target = target_profile(critic.profiles, number)[1]
            for k in gains:
                g = bin_gains(bins, r, target, np.asarray(counts[str(number)]), int(k), seed=seed + number)
                gains[k][str(number)] = [float(f"{x:.4g}") for x in g]
    return {"edges": list(PROFILE_EDGES), "counts": counts, "gains": gains,
            "critic": profiles_fingerprint(critic.profiles), "candidates": n}  # fmt: skip


def bin_gains(bins: np.ndarray, ratio: np.ndarray, target: np.ndarray, own: np.ndarray, k: int, *,
              seed: int = 0, iterations: int = 40) -> np.ndarray:  # fmt: skip
    """Per profile bin, the factor on the matching weights with which a draw of one in k of these candidates
    (profile bins `bins`, realism ratios `ratio`) keeps each bin as often as a draw from all of them would.

    Fitted by simulating GAIN_GROUPS draws on fixed groups of k of the candidates and scaling each bin's gain by
    how far its kept share falls from that share, until they agree (bins with fewer than GAIN_MIN_CANDIDATES
    candidates keep gain 1; the others stay within GAIN_MAX of it either way)."""
    nb = len(own)
    base = match_weights_from_bins(bins, target, own) * ratio
    ideal = np.bincount(bins, weights=base, minlength=nb)
    ideal = ideal / ideal.sum()
    groups = np.random.default_rng(seed).integers(0, len(bins), size=(GAIN_GROUPS, k))
    in_group, fit = bins[groups], np.bincount(bins, minlength=nb) >= GAIN_MIN_CANDIDATES
    gain = np.ones(nb)
    for _ in range(iterations):
        w = (base * gain[bins])[groups]
        kept = np.bincount(in_group.ravel(), weights=(w / w.sum(1, keepdims=True)).ravel(), minlength=nb)
        kept = kept / GAIN_GROUPS
        step = np.sqrt(ideal / np.where(kept > 0, kept, 1))  # half way in log: the groups share candidates
        gain = np.where(fit & (kept > 0), np.clip(gain * step, 1 / GAIN_MAX, GAIN_MAX), gain)
        if fit.any():
            gain[fit] /= np.exp(np.log(gain[fit]).mean())  # only ratios between bins matter
    return gain


def match_weights_from_bins(bins: np.ndarray, counts: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """The target's share of each candidate's bin over `mine`'s share of it (smoothed by TARGET_SMOOTH and SMOOTH)."""
    real, mine = np.asarray(counts, dtype=float) + TARGET_SMOOTH, np.asarray(mine, dtype=float) + SMOOTH
    return (real / real.sum())[bins] / (mine / mine.sum())[bins]


def match_weights(expected: np.ndarray, edges: np.ndarray, counts: np.ndarray, ratio: np.ndarray | None = None,
                  own: np.ndarray | None = None, gain: np.ndarray | None = None):  # fmt: skip
    """Per candidate: the target's share of its bin over the candidates' share of it (see the module docstring),
    the candidates counted with weight `ratio` (their real / generated ratio, normalised to a mean of 1), or, given
    `own` (the generator's own profile of the grade), its shares instead of these candidates'; times its bin's
    `gain` where one is given (bin_gains)."""
    bins = _bins(expected, edges)
    if own is not None:
        mine = np.asarray(own, dtype=float)
    else:
        r = np.ones(len(bins)) if ratio is None else np.asarray(ratio, dtype=float) / np.mean(ratio)
        mine = np.bincount(bins, weights=r, minlength=len(edges) - 1)
    w = match_weights_from_bins(bins, counts, mine)
    return w if gain is None else w * np.asarray(gain, dtype=float)[bins]


def match_pick(
    expected: Sequence[float], k: int, profiles: Mapping | None, number: int, rng: np.random.Generator,
    log_weights: np.ndarray | None = None, own: np.ndarray | None = None, gain: np.ndarray | None = None,
) -> list[int]:  # fmt: skip
    """Indices of the kept candidates: `expected` holds k candidates per route, route after route; one is drawn
    from each group of k in proportion to match_weights (computed over all candidates at once, or from `own`, the
    generator's own profile of the grade, with its bins' `gain` for k where recorded), times exp(log_weights) where
    the generator gives them (its own real / generated ratio: realism trees or head)."""
    e = np.asarray(expected, dtype=float)
    if log_weights is None:
        w = match_weights(e, *target_profile(profiles, number), own=own, gain=gain).reshape(-1, k)
    else:
        ratio = _ratios(log_weights)  # the bin shares need the ratios across all candidates
        w = (match_weights(e, *target_profile(profiles, number), ratio, own, gain) * ratio).reshape(-1, k)
        w = w / w.max(axis=1, keepdims=True).clip(min=1e-300)
    picks = [int(rng.choice(k, p=row / row.sum())) for row in w]
    return [i * k + j for i, j in enumerate(picks)]
