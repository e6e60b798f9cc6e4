"""The model-agnostic sampling pipeline behind `routegen sample`: sample, judge with a critic, rerank, drop copies.

Works with any module that has `generate(grades, *, fixed, seed, temperature, top_k, top_p, guidance,
constrained) -> list[Route]` and `board` / `angle` / `trained_grades` (the AR transformer and the cGAN).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from routegen.errors import RoutegenError
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


def target_number(module, grade: str | int | Grade) -> Grade:
    """Parse a grade in any form and check the module was trained on it (RoutegenError naming it).

    A V grade stands for several Font grades (V5 = 6C or 6C+): the easiest one the model was trained on.
    """
    g = parse_grade(grade)
    if isinstance(grade, str) and grade.strip().upper().startswith("V"):  # V4 = 6B or 6B+: take one it knows
        same_v = [n for n in sorted(module.trained_grades) if Grade.from_number(n).v == g.v]
        g = Grade.from_number(same_v[0]) if same_v else g
    if g.number is None or g.number not in module.trained_grades:
        known = ", ".join(Grade.from_number(n).font for n in sorted(module.trained_grades))
        name = g.font if str(grade).strip().upper() == g.font else f"{grade} ({g.font})"
        raise RoutegenError(f"grade {name} was never seen in training (this model knows {known})")
    return g


def sample_routes(
    module,
    grade: str | int | Grade,
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
    target = target_number(module, grade)
    if n < 1:
        raise RoutegenError(f"number of routes must be >= 1 (got {n})")
    if rerank < 1:
        raise RoutegenError(f"--critic-rerank must be >= 1 (got {rerank})")
    if rerank > 1 and critic is None:
        raise RoutegenError("reranking needs a critic (--critic <grader checkpoint>)")
    check_sampler_options(module, sampler_kwargs)
    settings = {"seed": seed, "rerank": rerank, **{k: v for k, v in sampler_kwargs.items() if v is not None}}
    kept: list[SampledRoute] = []
    for round_ in range(MAX_ROUNDS):
        want = n - len(kept)
        routes = module.generate([target.number] * (want * rerank), fixed=fixed, seed=seed + round_, **sampler_kwargs)
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


def check_sampler_options(module, sampler_kwargs: dict) -> None:
    """A set option the module's generate() does not take (e.g. realism, the cGAN's, for the AR transformer) is
    a RoutegenError naming it, not a TypeError deep in the sampler."""
    params = inspect.signature(module.generate).parameters
    for name, value in sampler_kwargs.items():
        if value is not None and name not in params:
            raise RoutegenError(f"{name}={value} does not apply to {type(module).__name__} (no such sampler option)")


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
