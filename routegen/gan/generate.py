"""How a trained cGAN turns grades into routes: one generator pass, then decoding (docs/gan.md).

CGANModule.generate is `generate_routes` (the module as its first argument); the steps are the generator's
per-cell logits, prior decoding (routegen/gan/decode.py with the grade's DecodePrior) and, with realism=K > 1,
discriminator-guided selection among K candidates per route (routegen/gan/select.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from routegen.board import load_board
from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.gan.decode import decode, fixed_grid, naive_decode
from routegen.gan.iterative import iterative_routes
from routegen.gan.select import most_real
from routegen.generation.base import resolve_grade
from routegen.route import Route, check_fixed

GEN_CHUNK = 256  # routes per generator pass (same results, per-sample ops; bounds memory)


def generate_routes(
    module,
    grades: Sequence[int],
    *,
    fixed: Route | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    constrained: bool = True,
    prior: bool = True,
    realism: int | None = None,
    guidance: float | None = None,
) -> list[Route]:
    """One route per entry of `grades` (numbered scale), deterministic for a seed. `temperature` scales the
    per-cell logits before sampling (0 = argmax). constrained=False is the naive decode (may be invalid);
    fixed holds appear in their roles in every route either way. prior=True (with constrained, when the
    checkpoint has a decode prior) takes the hold / start / end counts from the training data, and (decode
    hparams move_weight, hold_weight) places middle holds by the grade's move shares and draws start / end holds
    by the grade's start / end shares (gan/prior.py).
    realism=K > 1 decodes K candidates per route; the half closest to the target by the GAN's critic (when it
    was trained with one) compete, and the one the discriminator (through the calibrated `realism_head` when
    the checkpoint has one) scores most real wins (gan/select.py); None = the checkpoint's default
    (hparams decode.realism), 1 = no selection. With the placement "iterative" (decode hparams) a constrained
    route is instead drawn hold by hold, a generator pass per hold (gan/iterative.py).
    guidance (None: hparams decode.guidance, 1 without it) contrasts the grade with "any grade" in every
    generator pass, for a generator trained with loss.cond_dropout (UNetGenerator.guided)."""
    hp = module.hparams.decode
    guidance = float(hp.get("guidance", 1.0) if guidance is None else guidance)
    if temperature < 0:
        raise RoutegenError(f"temperature must be >= 0 (got {temperature})")
    k = hp["realism"] if realism is None else realism
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise RoutegenError(f"realism must be an integer >= 1 (got {k!r})")
    if k > 1 and getattr(module, "discriminator", None) is None:
        raise RoutegenError(f"realism={k} needs the discriminator, and this cGAN has none")
    class_of = {g: resolve_grade(module, g) for g in dict.fromkeys(grades)}
    classes = [class_of[g] for g in grades]
    board = load_board(module.board)
    if fixed is not None:
        check_fixed(fixed, board)
    if not classes:
        return []
    dev = module.device
    y = torch.tensor(classes, device=dev).repeat_interleave(k)  # k candidates per route, side by side
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    cpu_gen = torch.Generator().manual_seed(int(seed))
    fx = fixed_grid(fixed).to(dev).expand(len(y), -1, -1, -1)
    was_training = module.training
    module.eval()  # also keeps the discriminator's spectral norm from stepping its power iteration
    try:
        with torch.no_grad():
            z = module.noise(len(y), gen)  # a CPU runs 8 x 256 grids ~2x faster than 1 x 2048
            chunks = range(0, len(y), GEN_CHUNK)
            if constrained and hp.get("placement") == "iterative":  # hold by hold, a pass each (gan/iterative.py)
                routes = [r for i in chunks for r in iterative_routes(module, z[i : i + GEN_CHUNK], y[i : i + GEN_CHUNK],
                                                                      fx[i : i + GEN_CHUNK], temperature, cpu_gen,
                                                                      guidance)]  # fmt: skip
            else:
                parts = [module.generator.guided(z[i : i + GEN_CHUNK], y[i : i + GEN_CHUNK], fx[i : i + GEN_CHUNK],
                                                 guidance) for i in chunks]  # fmt: skip
                logits = torch.cat(parts).cpu()
                routes = decode_logits(module, logits, y, board, fixed, temperature, cpu_gen, constrained, prior)
            if k == 1:
                return routes
            return most_real(module.discriminator, routes, y, k, hp["realism_head"], grade_error(module, routes, y))
    finally:
        module.train(was_training)


def decode_logits(module, logits, y, board, fixed, temperature, cpu_gen, constrained: bool, prior: bool) -> list[Route]:
    """One pass's per-cell logits -> routes: prior decoding (greedy or chain placement) or the naive decode."""
    if not constrained:
        return [naive_decode(x, temperature, cpu_gen, fixed) for x in logits]
    hp = module.hparams.decode
    use_prior = prior and module.priors is not None
    weights = float(hp["move_weight"]), float(hp.get("hold_weight", 0.0)), hp.get("placement", "greedy")
    deltas, max_gap = hp.get("chain_delta") or {}, int(hp.get("max_gap", 5))
    priors = [module.priors.get(c, *weights, deltas.get(str(c)), max_gap) if use_prior else None for c in y.tolist()]
    return [decode(x, board, fixed, temperature, cpu_gen, p) for x, p in zip(logits, priors)]


def grade_error(module, routes: list[Route], y: torch.Tensor) -> torch.Tensor | None:
    """|expected grade - target| by the critic this GAN was trained with (None without one, e.g. the ablation)."""
    if module.critic is None or module.hparams.loss["critic_weight"] <= 0:
        return None
    grids = routes_to_grids(routes).to(module.device)
    return (module.critic.expected_number(grids) - module.class_numbers[y]).abs().cpu()
