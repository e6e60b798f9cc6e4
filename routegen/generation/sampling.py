"""The model-agnostic sampling pipeline behind `routegen sample`: sample, judge with a critic, rerank, drop copies.

Works with any module that has `generate(grades, *, fixed, seed, <its own options>) -> list[Route]`, a `kind`
and `board` / `angle` / `trained_grades` (the AR transformer and the cGAN). Each model is offered only the
options its generate() takes: top_k / top_p / guidance are the AR transformer's, realism is the cGAN's.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from routegen.errors import RoutegenError
from routegen.generation.base import resolve_grade
from routegen.grades import Grade, parse_grade
from routegen.route import Route

MAX_ROUNDS = 20  # resampling rounds to replace copies of training problems before giving up


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


def sample_routes(
    module,
    grade: Grade | int,
    n: int,
    *,
    critic=None,
    rerank: int = 1,
    novelty=None,
    keep_copies: bool = False,
    fixed: Route | None = None,
    seed: int = 0,
    **sampler_kwargs,
) -> list[SampledRoute]:
    """n routes for one target grade.

    rerank N > 1 (needs a critic): sample N candidates per route, keep the one whose critic expected grade is
    closest to the target. With a novelty index, copies of known problems are dropped (resampled, at most
    MAX_ROUNDS rounds) unless keep_copies; a shortfall after that is a RoutegenError.
    """
    resolve_grade(module, grade)  # a grade the model never saw: the one-line error before any work
    target = parse_grade(grade)
    if n < 1:
        raise RoutegenError(f"number of routes must be >= 1 (got {n})")
    if rerank < 1:
        raise RoutegenError(f"--critic-rerank must be >= 1 (got {rerank})")
    if rerank > 1 and critic is None:
        raise RoutegenError("reranking needs a critic (--critic <grader checkpoint>)")
    options = sampler_options(module, sampler_kwargs)
    settings = {"seed": seed, "rerank": rerank, **options}
    kept: list[SampledRoute] = []
    for round_ in range(MAX_ROUNDS):
        want = n - len(kept)
        routes = module.generate([target.number] * (want * rerank), fixed=fixed, seed=seed + round_, **options)
        picked = _judge(routes, want, rerank, target, critic)
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


def _judge(routes: list[Route], want: int, rerank: int, target: Grade, critic) -> list[SampledRoute]:
    if critic is None:
        return [SampledRoute(r, target) for r in routes]
    scores = critic.score(routes)
    out = []
    for i in range(want):
        group = range(i * rerank, (i + 1) * rerank)
        best = min(group, key=lambda j: abs(scores[j].expected - target.number))
        s = scores[best]
        out.append(SampledRoute(routes[best], target, s.grade, float(s.expected), float(s.confidence)))
    return out
