"""Evaluating route generators per target grade (behind `routegen evaluate-generator`).

For each grade, N routes are sampled through routegen.generation.sampling.sample_routes (with and without critic
rerank) and measured: validity per rule, uniqueness, novelty and near copies against every known problem, grade
agreement by the critic and by an independent judge, distribution distances and a real-vs-generated classifier
against the held-out test routes of that grade. The yardstick is the judge on those real held-out routes.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone

from routegen.data import load_problems, split_problems
from routegen.generation.bar import fidelity_bar
from routegen.generation.fidelity import Fidelity
from routegen.generation.metrics import (
    balanced_spearman,
    check_targets,
    evaluate_generated,
    hold_spread,
    matched_mix,
    mean_over_grades,
    real_vs_generated_auc,
    spearman,
    validity,
)
from routegen.generation.metrics import evaluate_real as real_metrics
from routegen.generation.novelty import NoveltyIndex, cell_key
from routegen.generation.sampling import resolve_match, sample_routes
from routegen.grades import Grade

DEFAULT_GRADES = "6B+,6C,6C+,7A,7A+,7B,7B+,7C,7C+"


def file_digest(path: str) -> str:
    """SHA-1 of a checkpoint's bytes (the path itself when it is no file): tells two checkpoints apart."""
    from routegen.checkpoints import resolve_checkpoint

    resolved = resolve_checkpoint(path)
    return hashlib.sha1(resolved.read_bytes()).hexdigest() if resolved.is_file() else str(resolved)


def sample_grades(module, grades, n, *, rerank, critic, seed, fixed, sampler) -> dict[str, list]:
    """Font grade -> n routes sampled for that target grade (seed + 1000 x grade number, copies kept)."""
    return {
        g.font: [
            s.route
            for s in sample_routes(
                module,
                g,
                n,
                critic=critic,
                rerank=rerank,
                keep_copies=True,
                fixed=fixed,
                seed=seed + 1000 * g.number,
                **sampler,
            )
        ]
        for g in grades
    }


def evaluate_module(module, grades, n, *, rerank, critic, judge, index, real_by_grade, board, seed, fixed, sampler,
                    generated=None):  # fmt: skip
    """One generator at one rerank factor: per-grade metrics, their mean, Spearman and the pooled AUC.
    generated: the routes already sampled (sample_grades), else they are sampled here."""
    per_grade, targets, judged, critic_judged = {}, [], [], []
    t0 = time.perf_counter()
    if generated is None:
        generated = sample_grades(module, grades, n, rerank=rerank, critic=critic, seed=seed, fixed=fixed,
                                  sampler=sampler)  # fmt: skip
    for g in grades:
        routes = generated[g.font]
        m = evaluate_generated(routes, g.number, board=board, index=index, real=real_by_grade[g.font],
                               critic=critic, judge=judge, seed=seed)  # fmt: skip
        judged += m.pop("judge_grades", [])
        critic_judged += m.pop("critic_grades", [])
        targets += [g.number] * len(routes)
        per_grade[g.font] = m
    return {
        "rerank": rerank,
        "per_grade": per_grade,
        "mean": mean_over_grades(per_grade),
        "spearman_judge": spearman(targets, judged) if judged else math.nan,
        "spearman_critic": spearman(targets, critic_judged) if critic_judged else math.nan,
        "spread": hold_spread([r for routes in generated.values() for r in routes]),
        "auc_pooled": real_vs_generated_auc(
            [r for g in grades for r in real_by_grade[g.font]], matched_mix(real_by_grade, generated), seed=seed
        ),
        "seconds": time.perf_counter() - t0,
    }


def unconstrained_validity(module, grades, n, *, board, seed, fixed, sampler) -> dict | None:
    """Validity of the same sampler without decoding constraints (the reference the constraints are judged by)."""
    if "constrained" not in inspect.signature(module.generate).parameters:  # a generator without the switch
        return None
    per_grade = {}
    for g in grades:
        plain = {k: v for k, v in sampler.items() if k != "match"}  # the raw sampler: no critic, no matching
        samples = sample_routes(
            module, g, n, keep_copies=True, fixed=fixed, seed=seed + 1000 * g.number, constrained=False, **plain
        )
        per_grade[g.font] = validity([s.route for s in samples], board)
    return {"per_grade": per_grade, "mean": mean_over_grades(per_grade)}


def held_out(problems, grades, seed: int, label: str = "font", val: float = 0.1, test: float = 0.1) -> dict:
    """{"train", "val", "test"} -> Font grade -> routes, for split_problems with these settings."""
    splits = split_problems(problems, label, seed=seed, val=val, test=test)
    return {s: {g.font: [p.route for p in splits[s] if p.grade == g] for g in grades} for s in ("train", "val", "test")}


def grader_split(grader, override: int | None, default: int) -> dict:
    """How a grader's data was split: its recorded data settings (routegen.grader.critic.Critic.data_hparams), the
    seed overridden by --*-split-seed; without a record the generators' split (seed `default`)."""
    data = dict(getattr(grader, "data_hparams", None) or {})
    seed = override if override is not None else data.get("seed", getattr(grader, "split_seed", default))
    return {
        "seed": int(seed),
        "label": str(data.get("label") or "font"),
        "include_v_only": data.get("include_v_only"),
        "val": float(data.get("val_fraction", 0.1)),
        "test": float(data.get("test_fraction", 0.1)),
    }


def grader_held_out(split: dict, grades, problems, *, data_dir, board: str, angle: int) -> dict:
    """Grade -> real routes the grader never trained on (its validation and test splits), Font-graded ones only."""
    if split["label"] != "font" or split["include_v_only"]:
        problems = load_problems(data_dir, board, angle, label=split["label"], include_v_only=split["include_v_only"])
    parts = held_out(problems, grades, split["seed"], split["label"], split["val"], split["test"])
    return {g.font: parts["val"][g.font] + parts["test"][g.font] for g in grades}


def evaluate_real(grades, *, graders, index, real_by_grade, train_by_grade, n, seed) -> dict:
    """The yardstick: real held-out routes (near copies, W1 floor) and each grader on routes it never saw.

    graders: prefix -> (grader, grade -> that grader's held-out routes).
    """
    per_grade, targets, judged = {}, [], []
    for g in grades:
        train = train_by_grade[g.font]
        reference = random.Random(seed).sample(train, min(n, len(train)))  # a "perfect generator" batch
        graded = {k: (grader, held[g.font]) for k, (grader, held) in graders.items() if grader is not None}
        m = real_metrics(real_by_grade[g.font], g.number, index=index, reference=reference, graded=graded)
        judged += m.pop("judge_grades", [])
        targets += [g.number] * m.get("judge_n", 0)
        m.pop("critic_grades", None)
        per_grade[g.font] = m
    return {
        "per_grade": per_grade,
        "mean": mean_over_grades(per_grade),
        "spearman_judge": spearman(targets, judged),
        "spearman_judge_balanced": balanced_spearman(targets, judged, seed=seed),
        "spread": hold_spread([r for g in grades for r in real_by_grade[g.font]]),
    }


def fidelity_pools(grades, test_by_grade: dict, judge_held: dict | None) -> tuple[dict, dict | None]:
    """The fidelity yardstick's real pools: Font grade -> (grade number, the generators' test routes), and
    Font grade -> those of them that are also in the judge's held-out split (None without a judge)."""
    pools = {g.font: (g.number, list(test_by_grade[g.font])) for g in grades}
    if judge_held is None:
        return pools, None
    judged = {}
    for g in grades:
        unseen = {cell_key(r) for r in judge_held.get(g.font, ())}
        judged[g.font] = [r for r in test_by_grade[g.font] if cell_key(r) in unseen]
    return pools, judged


def request_seed(seed: int, number: int, i: int) -> int:
    """The seed of request i for grade `number` when a bench asks for routes one request at a time: apart from
    every other request's and grade's (one seed for every grade would make the grades' routes alike)."""
    return seed + 1000 * number + 1_000_000 * (i + 1)


def fidelity_yardstick(judge, grades, *, n: int, seed: int = 0, split: str = "test", split_seed: int = 0,
                       data_dir=None, importance: bool = True) -> Fidelity:  # fmt: skip
    """The fidelity yardstick alone, for a bench: the generators' `split` routes as the real pools, judged where
    the judge never trained, as evaluate_generators builds it (n: generated routes per grade)."""
    problems = load_problems(data_dir, judge.board, judge.angle)
    by_grade = held_out(problems, grades, split_seed)
    held = grader_held_out(grader_split(judge, None, split_seed), grades, problems, data_dir=data_dir,
                           board=judge.board, angle=judge.angle)  # fmt: skip
    return Fidelity(*fidelity_pools(grades, by_grade[split], held), judge, n=n, seed=seed, importance=importance)


def default_realism(module) -> int | None:
    """A cGAN's default candidates per route (hparams decode.realism); None for other generators."""
    decode = (getattr(module, "hparams", None) or {}).get("decode")
    return decode.get("realism") if isinstance(decode, Mapping) else None


def evaluate_generators(
    generators: list[tuple[str, object]], grades: list[Grade], *, critic, judge, board, n: int, seed: int,
    split_seed: int, grader_seeds: dict, reranks: list[int], sampler: dict, fixed=None, unconstrained: bool = True,
    data_dir=None, fidelity: bool = True, fidelity_only: bool = False, split: str = "test",
) -> dict:  # fmt: skip
    """The full report: the yardstick on real held-out routes, then every (generator, rerank factor) run.

    generators: (name, module) pairs of one board and angle; grader_seeds: {"critic", "judge"} -> the split
    seed to measure each grader on (None: its own record). fidelity: add the fidelity measures
    (routegen.generation.fidelity) to every run and their real-vs-real floor to the yardstick; fidelity_only:
    nothing else (no per-grade metrics, novelty, targets or unconstrained reference). split: the generators'
    split whose real routes are the yardstick ("val" to choose sampling defaults, "test" to report)."""
    angle = int(generators[0][1].angle)
    problems = load_problems(data_dir, board.name, angle)
    by_grade = held_out(problems, grades, split_seed)
    splits = {k: grader_split(g, grader_seeds.get(k), split_seed) for k, g in (("critic", critic), ("judge", judge))}
    where = {"data_dir": data_dir, "board": board.name, "angle": angle}
    graders = {
        k: (grader, grader_held_out(splits[k], grades, problems, **where) if grader is not None else None)
        for k, grader in (("critic", critic), ("judge", judge))
    }
    fid = None
    if fidelity or fidelity_only:
        pools, judged = fidelity_pools(grades, by_grade[split], graders["judge"][1])
        fid = Fidelity(pools, judged, judge, n=n, seed=seed)
    index = None if fidelity_only else NoveltyIndex.from_data(board.name, angle, data_dir)
    yardstick = {} if fidelity_only else evaluate_real(
        grades, graders=graders, index=index, real_by_grade=by_grade[split], train_by_grade=by_grade["train"],
        n=n, seed=seed,
    )  # fmt: skip
    if fid is not None:
        yardstick["fidelity"] = fid.floor
    runs = []
    for path, module in generators:
        mine = []
        for k in reranks:
            t0 = time.perf_counter()
            # a rerank run keeps the closest candidate instead of matching (generation/sampling.py)
            mine_sampler = sampler if k == 1 else {key: v for key, v in sampler.items() if key != "match"}
            generated = sample_grades(module, grades, n, rerank=k, critic=critic, seed=seed, fixed=fixed,
                                      sampler=mine_sampler)  # fmt: skip
            r = {"rerank": k, "match": resolve_match(module, mine_sampler.get("match"), critic, k),
                 "seconds_sampling": time.perf_counter() - t0}  # fmt: skip
            if not fidelity_only:
                r = evaluate_module(module, grades, n, rerank=k, critic=critic, judge=judge, index=index,
                                    real_by_grade=by_grade[split], board=board, seed=seed, fixed=fixed,
                                    sampler=mine_sampler, generated=generated) | r  # fmt: skip
                r["seconds"] += r["seconds_sampling"]
            r["ckpt"] = path
            r["realism"] = sampler.get("realism", default_realism(module))  # None: not a cGAN
            if not fidelity_only:
                r["targets"] = check_targets(r, yardstick)
            if fid is not None:
                r["fidelity"] = fid.measure(generated)
                real_mean = None if fidelity_only else yardstick["mean"]
                r["fidelity_bar"] = fidelity_bar(r["fidelity"], fid.floor, r.get("mean"), real_mean)
            mine.append(r)
        if unconstrained and fixed is None and not fidelity_only:  # fixed holds need constrained decoding
            ref = unconstrained_validity(module, grades, n, board=board, seed=seed, fixed=fixed, sampler=sampler)
            for r in mine:
                r["unconstrained"] = ref
        runs += mine
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "board": board.name, "angle": angle, "n": n, "seed": seed, "split_seed": split_seed, "split": split,
        "grader_splits": splits, "grades": [g.font for g in grades], "sampler": sampler,
        "fixed": str(fixed) if fixed else None, "known_problems": len(index) if index is not None else None,
        "fidelity_only": fidelity_only,
        "yardstick": yardstick, "runs": runs,
    }  # fmt: skip


def clean(x):
    """JSON-safe: NaN -> null, tuples -> lists, grades -> their Font names."""
    if isinstance(x, Grade):
        return x.font
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    return x
