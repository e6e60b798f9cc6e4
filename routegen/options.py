"""The domain of every sampling and count option, defined once: the CLI's argparse types
(routegen/commands/args.py) and the library (routegen/generation/sampling.py sample_routes) both check against
this table, so a bad value is a one-line error at the edge, never a traceback deep in a sampler.

Light on purpose (no torch): the CLI checks its arguments before it imports or loads anything heavy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from routegen.errors import RoutegenError


@dataclass(frozen=True)
class Domain:
    kind: type  # int or float
    ok: Callable[[float], bool]
    text: str  # what the values must be, for the error message

    def valid(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and value != int(value):
            return False
        return math.isfinite(value) and self.ok(value)

    def parse(self, text: str):
        """A command-line value: the number, or a RoutegenError quoting the text as given."""
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            value = None
        if not self.valid(value):
            raise RoutegenError(f"expected {self.text}, got {text!r}")
        return value

    def check(self, value, name: str):
        if not self.valid(value):
            raise RoutegenError(f"{name} must be {self.text} (got {value!r})")
        return self.kind(value)


def _at_least_one(v) -> bool:
    return v >= 1


DOMAINS: dict[str, Domain] = {
    # 0 = greedy (argmax) in both samplers; a negative temperature has no meaning (it was silently greedy)
    "temperature": Domain(float, lambda v: v >= 0, "a finite number >= 0 (0 = greedy)"),
    "top_k": Domain(int, _at_least_one, "an integer >= 1"),
    "top_p": Domain(float, lambda v: 0 < v <= 1, "a number in (0, 1]"),
    # logits = uncond + g * (cond - uncond): 0 ignores the grade (unconditional), 1 is the plain conditional
    # model, > 1 pushes harder towards the grade; a negative g would steer away from the grade asked for
    "guidance": Domain(float, lambda v: v >= 0, "a finite number >= 0 (0 = ignore the grade, 1 = off)"),
    "realism": Domain(int, _at_least_one, "an integer >= 1"),
    "n": Domain(int, _at_least_one, "an integer >= 1"),
    "rerank": Domain(int, _at_least_one, "an integer >= 1"),
    "match": Domain(int, _at_least_one, "an integer >= 1 (1 = off)"),
    "threads": Domain(int, _at_least_one, "an integer >= 1"),
}


FLAGS = {"n": "-n", "rerank": "--critic-rerank"}  # how the CLI spells an option, where not --name


def check_option(name: str, value):
    """`value` if it lies in option `name`'s domain (None passes: the model's default), else a RoutegenError
    naming the option as the CLI spells it."""
    if value is None:
        return None
    return DOMAINS[name].check(value, FLAGS.get(name, "--" + name.replace("_", "-")))


def check_options(options: dict) -> dict:
    """Every option of the table in `options` checked (others passed through)."""
    return {k: check_option(k, v) if k in DOMAINS else v for k, v in options.items()}
