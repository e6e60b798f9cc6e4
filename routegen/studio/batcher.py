"""Micro-batching of generate requests: requests for the same board and model that queue while the model is busy
are answered together by one generate() call and one critic pass.

Sampling is dominated by per-token Python work, not arithmetic: on one CPU thread the AR transformer takes ~40 ms
for 6 routes and ~2.5x that for 48, so eight clients asking at once are served ~3x faster in one batch than one
after another. Only requests without a seed or fixed holds are batched (a seeded request must give the same
routes whatever it is batched with; fixed holds differ per request); those run alone through Studio.generate.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass

from routegen.grades import Grade


@dataclass
class Job:
    grade: Grade
    n: int
    future: asyncio.Future


class Batcher:
    def __init__(self, studio, max_routes: int = 48, lanes: int = 2) -> None:
        self.studio = studio
        self.max_routes = max_routes  # routes per generate() call
        self.lanes = lanes  # batches per model in flight at once (the pool's workers)
        self.pending: dict[tuple, list[Job]] = defaultdict(list)
        self.active: Counter = Counter()
        self._tasks: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones

    async def generate(self, board: str, name: str, grade: Grade, n: int) -> list[dict]:
        future = asyncio.get_running_loop().create_future()
        key = (board, name)
        self.pending[key].append(Job(grade, n, future))
        if self.active[key] < self.lanes:
            self.active[key] += 1
            task = asyncio.create_task(self._drain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self, key: tuple) -> list[Job]:
        queue, batch, total = self.pending[key], [], 0
        while queue and (not batch or total + queue[0].n <= self.max_routes):
            batch.append(queue.pop(0))
            total += batch[-1].n
        return batch

    async def _drain(self, key: tuple) -> None:
        try:
            while batch := self._take(key):
                try:
                    results = await self.studio.run(self.studio.generate_batch, *key, [(j.grade, j.n) for j in batch])
                except Exception as e:  # noqa: BLE001 - e.g. Busy: every request of the batch gets it
                    results = [e] * len(batch)
                for job, result in zip(batch, results):
                    if job.future.done():  # the client went away
                        continue
                    if isinstance(result, Exception):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)
        finally:
            self.active[key] -= 1
