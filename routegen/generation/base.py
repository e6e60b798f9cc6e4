"""What every grade-conditioned generator shares: its board, the grades it was trained on, and `resolve_grade`.

`routegen sample` and `evaluate-generator` need only these and `generate(...)`, whatever the model kind.
"""

from __future__ import annotations

import pytorch_lightning as pl

from routegen.data import LabelScale
from routegen.errors import RoutegenError
from routegen.grades import NUM_GRADES, Grade, parse_grade


class GradeConditioned:
    """Mixin for LightningModules with hparams `board`, `angle`, `class_counts` and a `scale: LabelScale`."""

    scale: LabelScale

    @property
    def board(self) -> str:
        return str(self.hparams.board)

    @property
    def angle(self) -> int:
        return int(self.hparams.angle)

    @property
    def trained_grades(self) -> set[int]:
        """Numbered-scale grades whose class had training problems (all of the scale before training)."""
        counts = self.hparams.class_counts
        numbers = range(1, NUM_GRADES + 1)
        if counts is None:
            return set(numbers)
        return {n for n in numbers if (c := _class_of(self.scale, n)) is not None and counts[c] > 0}

    # the hparams group holding the sampling pipeline's defaults, `match` and `realism_trees` ("sample" for the
    # AR, "decode" for the cGAN); None: the generator has neither
    sampling_group: str | None = None

    @property
    def default_match(self) -> int:
        """Candidates per route the sampling pipeline matches to the critic when none is asked for (1: off),
        set by `routegen calibrate --match`."""
        return int(self.hparams[self.sampling_group]["match"]) if self.sampling_group else 1

    @property
    def realism_trees(self) -> dict | None:
        """The realism trees fitted by `routegen calibrate --realism-trees` (generation/realism.py), or None."""
        return self.hparams[self.sampling_group].get("realism_trees") if self.sampling_group else None

    @property
    def match_profiles(self) -> dict | None:
        """The generator's own profiles recorded by `routegen calibrate --match` (generation/match.py), or None."""
        return self.hparams[self.sampling_group].get("match_profiles") if self.sampling_group else None

    def own_match_profile(self, number: int, critic, options: dict):
        """The own profile of grade `number` that matching counts candidates by, or None where it does not stand
        for this request: none recorded, another critic, or a sampling option other than the defaults."""
        from routegen.generation.match import profiles_fingerprint

        own = self.match_profiles
        if not own or own.get("critic") != profiles_fingerprint(getattr(critic, "profiles", None)):
            return None
        defaults = self.hparams[self.sampling_group]
        if any(defaults.get(k) != v for k, v in options.items()):
            return None
        return own["counts"].get(str(number))

    def own_match_gain(self, number: int, critic, options: dict, k: int):
        """The bin gains (generation/match.py bin_gains) for drawing one in `k` candidates of grade `number`, where
        the own profile stands (own_match_profile) and they were recorded for this k; else None."""
        if self.own_match_profile(number, critic, options) is None:
            return None
        return (self.match_profiles.get("gains") or {}).get(str(k), {}).get(str(number))

    def candidate_log_weights(self, routes: list, number: int):
        """Per candidate route for grade `number`, a log density ratio real / generated that critic matching
        multiplies into its weights: the realism trees' logit, None without them."""
        if not self.realism_trees:
            return None
        from routegen.generation.realism import realism_logits

        return realism_logits(self.realism_trees, routes, number)

    def attach_datamodule(self, trainer: pl.Trainer | None, stage: str):
        """Check the data is for this board and, when fitting, keep its class counts in every checkpoint.

        Returns the datamodule, or None outside a Trainer.
        """
        dm = getattr(trainer, "datamodule", None) if trainer is not None else None
        if dm is None:
            return None
        if (str(dm.hparams.board), int(dm.hparams.angle)) != (self.board, self.angle):
            raise RoutegenError(f"model is for board {self.board} @ {self.angle}; data is {dm.hparams.board}")
        if getattr(dm, "has_ranges", False):
            raise RoutegenError("a generator needs one Font grade per route: set data.include_v_only=false")
        if stage == "fit":
            self.hparams.class_counts = [int(c) for c in dm.class_counts.tolist()]
        return dm


def real_routes_by_grade(model, problems) -> dict[int, list]:
    """Routes of `problems` per numbered grade (ascending), for the grades the model was trained on."""
    out: dict[int, list] = {}
    for p in problems:
        c = model.scale.class_of(p.grade, p.grade_v)
        if c is not None and (number := model.scale.number_of_class(c)) in model.trained_grades:
            out.setdefault(number, []).append(p.route)
    return dict(sorted(out.items()))


def resolve_grade(model, grade: Grade | int) -> int:
    """The model's class index for a grade (parsed at the edge: a Grade or a number on routegen's scale); a grade
    it was never trained on is a one-line RoutegenError naming the grades it knows."""
    g = parse_grade(grade)
    trained = model.trained_grades
    if g.number is None or g.number not in trained:
        known = ", ".join(Grade.from_number(n).font for n in sorted(trained))
        raise RoutegenError(f"grade {g.font} was never seen in training (this model knows {known})")
    return _class_of(model.scale, g.number)


def _class_of(scale: LabelScale, number: int) -> int | None:
    g = Grade.from_number(number)
    return scale.class_of(g, g.v)
