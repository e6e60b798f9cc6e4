"""Models behind the studio: which are offered per board, loading them once, and running inference in a bounded pool.

Inference runs in a ThreadPoolExecutor of `workers` threads (default 2) so that a client firing many requests
queues behind the others instead of taking every core; torch's intra-op threads are set small by the command
for the same reason. Beyond `max_queue` waiting jobs a request is refused (503) rather than queued forever.
"""

from __future__ import annotations

import asyncio
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from routegen import shipped
from routegen.board import ANGLES, load_board
from routegen.errors import RoutegenError
from routegen.generation.match import QUICK_MATCH
from routegen.grades import Grade
from routegen.route import Route, check_route, format_route, format_row_first

LABELS = {"ar": "transformer", "cgan": "GAN"}
MAX_N = 12  # routes per generate / complete request
# candidates per route for critic matching, at most (the model's default may ask for more): 8 concurrent clients
# then get 6 routes in 215 - 258 ms p50 on 2 CPUs, against 258 - 291 ms at 4 once the realism trees weigh each
# candidate (bench/bench_studio.py); on the validation split 3 and 4 candidates are within noise of each other
# (AR: AUC 0.531 / 0.525, W1 0.27 / 0.26; docs/results.md). `routegen calibrate --match` records bin gains for it.
MAX_MATCH = QUICK_MATCH


class Busy(RoutegenError):
    """Too many inference jobs waiting."""


@dataclass
class Models:
    """Model files per board: a critic card/checkpoint and generator name -> card/checkpoint."""

    critic: dict[str, Path] = field(default_factory=dict)
    generators: dict[str, dict[str, Path]] = field(default_factory=dict)

    @classmethod
    def shipped(cls, weights_dir: Path = shipped.WEIGHTS_DIR) -> Models:
        m = cls()
        for board in ANGLES:
            if (p := shipped.card_path(board, "critic", weights_dir)).is_file():
                m.critic[board] = p
            for name in shipped.GENERATORS:
                if (p := shipped.card_path(board, name, weights_dir)).is_file():
                    m.generators.setdefault(board, {})[name] = p
        return m

    @classmethod
    def build(cls, weights_dir: Path | None = None, critic: list[str] = (), generator: list[str] = ()) -> Models:
        """The shipped (or `weights_dir`) models, with checkpoints given on the command line taking their place."""
        from routegen.checkpoints import load_module

        m = cls.shipped(Path(weights_dir) if weights_dir else shipped.WEIGHTS_DIR)
        for path in critic:
            m.critic[str(load_module(path, expect="grader").hparams.board)] = Path(path)
        for path in generator:
            module = load_module(path, expect=("ar_transformer", "cgan"))
            name = "ar" if module.kind == "ar_transformer" else "cgan"
            m.generators.setdefault(module.board, {})[name] = Path(path)
        return m


class Studio:
    def __init__(self, models: Models, workers: int = 2, max_queue: int = 64, data_dir: str | None = None) -> None:
        self.models = models
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studio-infer")
        self._slots = threading.BoundedSemaphore(workers + max_queue)
        self._cache: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self.data_dir = data_dir
        from routegen.studio.batcher import Batcher

        self.batcher = Batcher(self, lanes=workers)

    # --- loading, once per model ---------------------------------------------------------------------------
    def _load(self, key: tuple, make):
        with self._lock:  # one load per key even when requests race for it
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def critic(self, board: str):
        from routegen.grader.critic import Critic

        path = self.models.critic.get(board)
        return self._load(("critic", board), lambda: Critic.load(path)) if path else None

    def check_generator(self, board: str, name: str) -> Path:
        """The generator's file; a model not offered for the board is a one-line error naming those that are."""
        paths = self.models.generators.get(board, {})
        if name not in paths:
            have = ", ".join(f"{n} ({LABELS.get(n, n)})" for n in paths) or "none"
            raise RoutegenError(f"no {name!r} generator for board {board} (offered: {have})")
        return paths[name]

    def generator(self, board: str, name: str):
        from routegen.checkpoints import load_module

        paths = {name: self.check_generator(board, name)}
        return self._load(("gen", board, name), lambda: load_module(paths[name], expect=("ar_transformer", "cgan")))

    def nearest(self, board: str):
        """The board's index of real problems, or None when the data files are missing (no nearest shown)."""
        from routegen.studio.nearest import NearestIndex

        def make():
            try:
                return NearestIndex.from_data(board, data_dir=self.data_dir)
            except (FileNotFoundError, RoutegenError):
                return None

        return self._load(("nearest", board), make)

    def describe(self) -> list[dict]:
        """What the front end offers per board: its holds, generators (with their trained grades), a critic."""
        out = []
        for board in ANGLES:
            layout = load_board(board)
            gens = []
            for name in self.models.generators.get(board, {}):
                grades = sorted(self.generator(board, name).trained_grades)
                gens.append({"name": name, "label": LABELS.get(name, name), "grades": grades})
            out.append({"name": board, "title": layout.title, "holds": [str(h) for h in layout.holds],
                        "orientation": {str(h): o for h, o in layout.orientation.items()},
                        "generators": gens, "critic": board in self.models.critic})  # fmt: skip
        return out

    def warm(self) -> None:
        """Load every offered model and the nearest-problem index of each board that has one (startup)."""
        for board in set(self.models.critic) | set(self.models.generators):
            self.critic(board)
            for name in self.models.generators.get(board, {}):
                self.generator(board, name)
            self.nearest(board)

    # --- the bounded pool ----------------------------------------------------------------------------------
    async def run(self, fn, *args):
        if not self._slots.acquire(blocking=False):
            raise Busy("the studio is busy (too many requests waiting); try again in a moment")
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, _no_grad, fn, *args)
        finally:
            self._slots.release()

    # --- work done in the pool -----------------------------------------------------------------------------
    def grade(self, board: str, routes: list[Route]) -> list[dict | None]:
        """The critic's grade and full distribution for each route (None where there is no critic / no holds)."""
        from routegen.encoding import routes_to_grids

        critic = self.critic(board)
        todo = [i for i, r in enumerate(routes) if r.holds]
        out: list[dict | None] = [None] * len(routes)
        if critic is None or not todo:
            return out
        grids = routes_to_grids([routes[i] for i in todo]).to(critic.device)
        logits = critic.logits(grids)  # one forward pass gives both the answer and the bars
        probs = critic.loss_head.probs(logits)  # (B, C) over the critic's scale
        regression = critic.loss_head.out_dim == 1  # its expected grade needs the raw number, not the one-hot
        expected = critic.expected_number(grids) if regression else probs @ critic.class_numbers
        for b, (i, c) in enumerate(zip(todo, critic.predict_classes(probs).tolist())):
            out[i] = {"grade": Grade.from_number(int(critic.class_numbers[c])).font, "v": critic.scale.v_of_class(c),
                      "expected": round(float(expected[b]), 3), "confidence": round(float(probs[b, c]), 4),
                      "distribution": [[n, round(x, 4)] for n, x in zip(critic.scale.names, probs[b].tolist())]}  # fmt: skip
        return out

    def describe_routes(self, board: str, routes: list[Route], targets: list[Grade | None]) -> list[dict]:
        """Everything the front end shows for a route: text forms, validity, critic, nearest real problem."""
        from routegen.studio import share

        layout = load_board(board)
        index = self.nearest(board)
        near = index.nearest(routes) if index is not None else [None] * len(routes)
        out = []
        for r, g, n, t in zip(routes, self.grade(board, routes), near, targets):
            v = check_route(r, layout)
            out.append({"route": r.to_record(), "text": format_route(r), "row_first": format_row_first(r),
                        "valid": v.ok, "validity": str(v), "reasons": v.reasons, "critic": g,
                        "nearest": n.to_dict() if n else None, "target": t.font if t else None,
                        "share": share.encode(board, r, t)})  # fmt: skip
        return out

    def generate(
        self, board: str, name: str, grade: Grade, n: int, fixed: Route | None, seed: int | None
    ) -> list[dict]:
        """One request's routes (seeded or with fixed holds), copies of known problems resampled."""
        from routegen.generation.sampling import sample_routes

        module = self.generator(board, name)
        seed = random.randrange(2**31) if seed is None else seed
        critic = self.critic(board)  # for the model's default matching (generation/match.py), capped
        samples = sample_routes(module, grade, n, critic=critic, match=match_for(module, critic),
                                novelty=self.nearest(board), fixed=fixed, seed=seed)  # fmt: skip
        return self.describe_routes(board, [s.route for s in samples], [grade] * n)

    def generate_batch(self, board: str, name: str, jobs: list[tuple[Grade, int]]) -> list[list[dict] | Exception]:
        """Several requests' routes from one generate() call per round (Batcher); a request's own error (a grade
        the model never saw, too many copies) is its answer and leaves the others alone."""
        from routegen.generation.base import resolve_grade
        from routegen.generation.match import match_pick
        from routegen.generation.sampling import MAX_ROUNDS, own_match

        module, index, critic = self.generator(board, name), self.nearest(board), self.critic(board)
        k = match_for(module, critic)
        kept: list[list[Route]] = [[] for _ in jobs]
        errors: dict[int, Exception] = {}
        for j, (grade, _) in enumerate(jobs):
            try:
                resolve_grade(module, grade)
            except RoutegenError as e:
                errors[j] = e
        for _ in range(MAX_ROUNDS):
            want = [(j, g, n - len(kept[j])) for j, (g, n) in enumerate(jobs) if j not in errors and len(kept[j]) < n]
            if not want:
                break
            seed = random.randrange(2**31)
            routes = iter(module.generate([g.number for _, g, c in want for _ in range(c * k)], seed=seed))
            for j, g, c in want:
                mine = [next(routes) for _ in range(c * k)]
                if k > 1:
                    expected = [s.expected for s in critic.score(mine)]
                    log_weights = module.candidate_log_weights(mine, g.number)
                    own, gain = own_match(module, g.number, critic, {}, k)  # as `routegen sample` counts them
                    picks = match_pick(expected, k, critic.profiles, g.number, np.random.default_rng(seed),
                                       log_weights, own, gain)  # fmt: skip
                    mine = [mine[i] for i in picks]
                kept[j] += [r for r in mine if index is None or not index.contains(r)]
        for j, (_, n) in enumerate(jobs):
            if j not in errors and len(kept[j]) < n:
                errors[j] = RoutegenError(f"only {len(kept[j])} of {n} routes were new (the rest copy known problems)")
        flat = [(j, r) for j in range(len(jobs)) if j not in errors for r in kept[j][: jobs[j][1]]]
        described = iter(self.describe_routes(board, [r for _, r in flat], [jobs[j][0] for j, _ in flat]))
        return [errors[j] if j in errors else [next(described) for _ in range(n)] for j, (_, n) in enumerate(jobs)]


def match_for(module, critic) -> int:
    """Candidates per route the studio matches with: the model's default, at most MAX_MATCH (1: no matching)."""
    from routegen.generation.sampling import resolve_match

    return min(resolve_match(module, None, critic, 1), MAX_MATCH)


def _no_grad(fn, *args):
    with torch.no_grad():
        return fn(*args)
