"""The model-agnostic sampling pipeline behind `routegen sample`: sample, judge with a critic, rerank or match,
drop copies.

Works with any module that has `generate(grades, *, fixed, seed, <its own options>) -> list[Route]`, a `kind`
and `board` / `angle` / `trained_grades` (the AR transformer and the cGAN). Each model is offered only the
options its generate() takes: top_k / top_p are the AR transformer's, realism is the cGAN's, guidance both.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from routegen.errors import RoutegenError
from routegen.generation.base import resolve_grade
from routegen.generation.match import match_pick
from routegen.grades import Grade, parse_grade
from routegen.options import check_option, check_options
from routegen.route import Route

MAX_ROUNDS = 20  # resampling rounds to replace copies of training problems before giving up
# with fixed holds, a generator whose proposals carry importance weights (the AR) matches from this many times
# K candidates: on the shipped AR the weights' effective sample size is 4 - 18% of the candidates
COMPLETION_CANDIDATES = 8


@dataclass
class SampledRoute:
    route: Route
    target: Grade
    critic_grade: Grade | None = None
    critic_expected: float | None = None  # expected grade number under the critic's distribution
    critic_confidence: float | None = None
    novel: bool | None = None  # None: no novelty index given
    settings: dict[str, Any] = field(default_factory=dict)

    def to_record(self, board: str, angle: int) -> dict:
        """A row in the data schema plus the sampling facts (for --output JSON Lines)."""
        return {
            "board": board,
            "angle": angle,
            **self.route.to_record(),
            "target_grade_font": self.target.font,
            "critic_grade_font": self.critic_grade.font if self.critic_grade else None,
            "critic_expected_number": self.critic_expected,
            "critic_confidence": self.critic_confidence,
            "novel": self.novel,
            "sampler": self.settings,
        }


CHUNK = 1024  # candidate routes per generate() call: memory stays bounded whatever n is


def sample_routes(module, grade: Grade | int, n: int, **kwargs) -> list[SampledRoute]:
    """n routes for one target grade, all at once (iter_samples' chunks joined; same options)."""
    return [s for chunk in iter_samples(module, grade, n, **kwargs) for s in chunk]


def iter_samples(
    module,
    grade: Grade | int,
    n: int,
    *,
    critic=None,
    rerank: int = 1,
    match: int | None = None,
    novelty=None,
    keep_copies: bool = False,
    fixed: Route | None = None,
    seed: int = 0,
    chunk: int = CHUNK,
    **sampler_kwargs,
) -> Iterator[list[SampledRoute]]:
    """n routes for one target grade, in chunks of at most max(1, chunk // K) routes (K: candidates per route;
    chunk candidates go through the model at once), so memory stays flat in n: stream them to a file as they
    come.

    rerank N > 1 (needs a critic): sample N candidates per route, keep the one whose critic expected grade is
    closest to the target (routes graded like the grade's prototype). match K > 1 (needs a critic with grade
    profiles): K candidates per route, one kept so that the critic grades the kept routes as it grades real
    routes of the grade (generation/match.py). match None: the model's default (hparams sample.match) when
    the critic has profiles and no rerank is asked for, else 1. With fixed holds, a generator whose generate()
    gives its routes' importance weights (the AR's, towards its own completions) is matched from
    COMPLETION_CANDIDATES x K candidates, each weighted by them too. With a novelty index, copies of known problems
    are dropped (resampled, at most MAX_ROUNDS rounds) unless keep_copies; a shortfall after that is a
    RoutegenError. Every argument is checked before any sampling (option domains: routegen/options.py).

    Seeds: the first chunk draws with seed, seed + 1, ... (one per resampling round), as sampling did before
    chunking; chunk c > 0 with seeds derived from (seed, c). So the routes of a chunk depend only on the seed,
    the chunk's index and its size: -n 3000 and -n 5000 share their first two full chunks (2048 routes).
    """
    resolve_grade(module, grade)  # a grade the model never saw: the one-line error before any work
    target = parse_grade(grade)
    n, rerank = check_option("n", n), check_option("rerank", rerank)
    if rerank > 1 and critic is None:
        raise RoutegenError("reranking needs a critic (--critic <grader checkpoint>)")
    match = resolve_match(module, check_option("match", match), critic, rerank)
    options = check_options(sampler_options(module, sampler_kwargs))
    settings = {"seed": seed, "rerank": rerank, **({"match": match} if match > 1 else {}), **options}
    if fixed is not None and match > 1 and _weighs_completions(module):
        match *= COMPLETION_CANDIDATES  # the proposal's weights leave about one candidate in eight effective
        settings["candidates"] = match
    pick = Pick(rerank, match)
    per = max(1, chunk // pick.k)
    for c, first in enumerate(range(0, n, per)):
        want = min(per, n - first)
        yield _sample_chunk(module, target, want, c, critic, pick, novelty, keep_copies, fixed, seed, settings,
                            options)  # fmt: skip


def _weighs_completions(module) -> bool:
    """Whether the module's generate() weighs its routes with fixed holds towards its own completions (the AR:
    constrained decoding is a proposal; ar/module.py generate)."""
    return "with_log_weights" in inspect.signature(module.generate).parameters


def _chunk_seed(seed: int, chunk: int, round_: int) -> int:
    if chunk == 0:
        return seed + round_
    return int(np.random.SeedSequence([seed % 2**63, chunk, round_]).generate_state(1, np.uint64)[0] >> 1)


def resolve_match(module, match: int | None, critic, rerank: int) -> int:
    """Candidates per route for matching: the one asked for (checked against the critic and rerank), else the
    model's default where it can apply (a critic with profiles, no rerank), else 1."""
    if match is None:
        default = int(getattr(module, "default_match", 1))
        usable = critic is not None and getattr(critic, "profiles", None) and rerank == 1
        return default if usable else 1
    if match > 1 and rerank > 1:
        raise RoutegenError("--match and --critic-rerank are two ways to keep one of several candidates: give one")
    if match > 1 and critic is None:
        raise RoutegenError("matching needs a critic (--critic <grader checkpoint>)")
    return match


@dataclass(frozen=True)
class Pick:
    """How one route is kept of k candidates: the closest critic grade (rerank), a matched draw, or the only one."""

    rerank: int
    match: int

    @property
    def k(self) -> int:
        return max(self.rerank, self.match)


def _sample_chunk(module, target, n, c, critic, pick: Pick, novelty, keep_copies, fixed, seed, settings, options):
    kept: list[SampledRoute] = []
    for round_ in range(MAX_ROUNDS):
        want = n - len(kept)
        grades, chunk_seed = [target.number] * (want * pick.k), _chunk_seed(seed, c, round_)
        completion_lw = None  # a proposal's weights towards the model's own completions (ar/module.py generate)
        if fixed is not None and pick.match > 1 and _weighs_completions(module):
            routes, completion_lw = module.generate(grades, fixed=fixed, seed=chunk_seed, with_log_weights=True,
                                                    **options)  # fmt: skip
        else:
            routes = module.generate(grades, fixed=fixed, seed=chunk_seed, **options)
        rng = np.random.default_rng([seed % 2**63, c, round_, target.number or 0])
        picked = _judge(module, routes, want, pick, target, critic, rng, options, completion_lw)
        for s in picked:
            s.settings = settings
            if novelty is not None:
                s.novel = not novelty.contains(s.route)
            if keep_copies or s.novel is not False:
                kept.append(s)
        if len(kept) >= n:
            return kept[:n]
    raise RoutegenError(
        f"only {len(kept)} of {n} routes were new after {MAX_ROUNDS} rounds (the rest copy known problems); "
        "use --keep-copies or a higher temperature"
    )


def sampler_options(module, sampler_kwargs: dict) -> dict:
    """The options set (not None) that the module's generate() takes; one it does not take (e.g. --top-k for the
    cGAN, which samples per cell) is a RoutegenError naming it, not a TypeError deep in the sampler."""
    params = inspect.signature(module.generate).parameters
    options = {k: v for k, v in sampler_kwargs.items() if v is not None}
    for name in options:
        if name not in params:
            kind = getattr(module, "kind", type(module).__name__)
            raise RoutegenError(f"--{name.replace('_', '-')} is not an option of the {kind} model")
    return options


def _judge(module, routes: list[Route], want: int, pick: Pick, target: Grade, critic, rng,
           options: dict | None = None, completion_lw=None) -> list[SampledRoute]:  # fmt: skip
    if critic is None:
        return [SampledRoute(r, target) for r in routes]
    scores = critic.score(routes)
    k = pick.k
    if pick.match > 1:
        own = getattr(module, "candidate_log_weights", None)
        log_weights = own(routes, target.number) if own is not None else None
        if completion_lw is not None:
            log_weights = completion_lw if log_weights is None else np.asarray(log_weights) + completion_lw
        own, gain = own_match(module, target.number, critic, options or {}, k)
        kept = match_pick([s.expected for s in scores], k, critic.profiles, target.number, rng, log_weights, own, gain)
    else:
        kept = [min(range(i * k, (i + 1) * k), key=lambda j: abs(scores[j].expected - target.number))
                for i in range(want)]  # fmt: skip
    return [SampledRoute(routes[j], target, scores[j].grade, float(scores[j].expected), float(scores[j].confidence))
            for j in kept]  # fmt: skip


def own_match(module, number: int, critic, options: dict, k: int) -> tuple:
    """(own profile, bin gains) matching counts grade `number`'s k candidates by: the same shares for a request of
    any size (generation/match.py); (None, None) for a generator without them."""
    if not hasattr(module, "own_match_profile"):
        return None, None
    return module.own_match_profile(number, critic, options), module.own_match_gain(number, critic, options, k)


def write_samples(chunks, n: int, board, angle: int, fmt: str, output=None, png_dir=None) -> int:
    """Stream sampled chunks: terminal lines in `fmt` (table, seed, moonboard, json), JSON Lines to `output`
    (a temporary file renamed over it at the end: atomic, nothing on failure), PNGs to `png_dir` (route_NNN.png;
    route_*.png files an earlier run left there are removed). A progress counter on a terminal. Returns the
    number of routes."""
    import json
    import sys
    from contextlib import ExitStack

    from routegen.io import atomic_open
    from routegen.progress import Progress

    done, pngs = 0, []
    with ExitStack() as stack:
        out = stack.enter_context(atomic_open(output)) if output else None
        progress = stack.enter_context(Progress(n, "routes sampled"))
        for chunk in chunks:
            print_samples(chunk, fmt, board.name, angle, first=done + 1)
            if out is not None:
                out.writelines(json.dumps(s.to_record(board.name, angle)) + "\n" for s in chunk)
            if png_dir:
                from routegen.render import save_route_pngs

                pngs += save_route_pngs(
                    [s.route for s in chunk], board, png_dir, [_title(s) for s in chunk], first=done
                )
            done += len(chunk)
            progress.advance(len(chunk))
    if png_dir:
        from routegen.render import remove_stale_pngs

        stale = remove_stale_pngs(png_dir, pngs)
        note = f" (removed {stale} route_*.png left by an earlier run)" if stale else ""
        print(f"wrote {len(pngs)} PNGs to {png_dir}{note}", file=sys.stderr)
    return done


def _title(s: SampledRoute) -> str:
    text = f"target {s.target.font}"
    if s.critic_grade is not None:
        text += f", critic {s.critic_grade.font} ({s.critic_confidence:.0%})"
    return text


def _novel(s: SampledRoute) -> str:
    return "?" if s.novel is None else "new" if s.novel else "copy"


def print_samples(samples: list[SampledRoute], fmt: str, board: str, angle: int, first: int = 1) -> None:
    """Terminal output of `routegen sample`: a rich table on a terminal (fmt table), else one line per route."""
    import json
    import sys

    from routegen.route import format_route, format_row_first

    if fmt == "seed":
        lines = [format_row_first(s.route, s.target) for s in samples]
    elif fmt == "moonboard":
        lines = [format_route(s.route) for s in samples]
    elif fmt == "json":
        lines = [json.dumps(s.to_record(board, angle)) for s in samples]
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("#", "route (row first)", "start | middle | end", "target", "critic", "conf", "novel")
        for i, s in enumerate(samples, first):
            critic = s.critic_grade.font if s.critic_grade else "-"
            conf = f"{s.critic_confidence:.0%}" if s.critic_confidence is not None else "-"
            table.add_row(
                str(i), format_row_first(s.route), format_route(s.route), s.target.font, critic, conf, _novel(s)
            )
        Console().print(table)
        return
    else:
        lines = []
        for i, s in enumerate(samples, first):
            critic = f"critic {s.critic_grade.font} ({s.critic_confidence:.0%})" if s.critic_grade else "critic -"
            lines.append(
                f"{i}. {format_row_first(s.route)}  {format_route(s.route)}  target {s.target.font}  {critic}  {_novel(s)}"
            )
    if lines:
        print("\n".join(lines))
