"""Discriminator-guided selection for the cGAN: of K decoded candidates per wanted route, keep the most real.

The deterministic form of discriminator rejection sampling (DRS, Azadi et al. 2019): each candidate's *decoded*
hard grid (what the user gets, one-hot like the real routes) is scored under its target grade, and the
best-scored candidate of each group of K wins.

Scores come from the trained projection discriminator, either raw or through a *realism head*: DRS's
calibration step. The GAN's discriminator was trained with the hinge loss on the generator's raw per-cell
samples, not on the decoded routes, and its raw score also falls with the hold count (sum pooling), so picking
by it selects short routes and makes them *easier* to tell from real ones (docs/gan.md, "Discriminator-guided
selection"). The head is a logistic regression on the discriminator's pooled features (and its score), fitted
after training on real training-split routes vs as many decoded routes of the same grades: a calibrated
real-vs-decoded logit. It lives in the checkpoint's hparams (`realism_head`), like the decoding prior.
"""

from __future__ import annotations

import torch

from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.generation.base import real_routes_by_grade, resolve_grade
from routegen.route import Route

CHUNK = 512  # grids per discriminator pass: bounds memory when n * K is large


@torch.no_grad()
def discriminator_features(discriminator: torch.nn.Module, routes: list[Route], y: torch.Tensor) -> torch.Tensor:
    """(N, 4b + 1): the discriminator's pooled features of each hard route and its raw score under class y (N,).
    The discriminator must be in eval mode (spectral norm would otherwise step its power iteration)."""
    grids = routes_to_grids(routes).to(y.device)
    out = []
    for i in range(0, len(routes), CHUNK):
        h = discriminator.features(grids[i : i + CHUNK])  # (n, 4b)
        out.append(torch.cat([h, discriminator.score(h, y[i : i + CHUNK])[:, None]], dim=1))
    return torch.cat(out).float().cpu()


def realism_scores(
    discriminator: torch.nn.Module, routes: list[Route], y: torch.Tensor, head: dict | None = None
) -> torch.Tensor:
    """(N,) how real each route looks: the head's calibrated logit, or without a head the raw discriminator score."""
    f = discriminator_features(discriminator, routes, y)
    if head is None:
        return f[:, -1]
    mean, std, coef = (torch.tensor(head[k], dtype=torch.float) for k in ("mean", "std", "coef"))
    return ((f - mean) / std) @ coef + float(head["intercept"])


def most_real(
    discriminator: torch.nn.Module,
    routes: list[Route],
    y: torch.Tensor,
    k: int,
    head: dict | None = None,
    grade_error: torch.Tensor | None = None,
) -> list[Route]:
    """routes = groups of k consecutive candidates (one group per wanted route, its class repeated k times in y)
    -> the candidate of each group with the highest realism score (the first one on a tie).

    With `grade_error` (N,) (e.g. |critic's expected grade - target|), only the ceil(k / 2) candidates of a group
    closest to their target grade compete on realism: realism alone gives up some grade control (docs/gan.md)."""
    score = realism_scores(discriminator, routes, y, head).view(-1, k)
    if grade_error is not None:
        close = grade_error.view(-1, k).argsort(dim=1, stable=True)[:, : (k + 1) // 2]
        score = torch.full_like(score, float("-inf")).scatter(1, close, score.gather(1, close))
    best = score.argmax(1)  # (N // k,)
    return [routes[i * k + int(b)] for i, b in enumerate(best)]


def fit_realism_head(module, problems, seed: int = 0) -> dict:
    """DRS calibration for a CGANModule: logistic regression, real routes of `problems` (the training split) vs
    as many routes the module decodes for the same grades (realism=1, seeded), on discriminator_features.
    Returns the JSON-safe head for realism_scores, with its sizes and in-sample accuracy."""
    from sklearn.linear_model import LogisticRegression

    by_grade = real_routes_by_grade(module, problems)
    if not by_grade:
        raise RoutegenError("no problems of a grade the model was trained on: nothing to calibrate with")
    feats, labels = [], []
    module.eval()
    for number, real in by_grade.items():
        c = resolve_grade(module, number)
        fake = module.generate([number] * len(real), seed=seed + number, realism=1)
        y = torch.full((len(real),), c, device=module.device)
        feats += [discriminator_features(module.discriminator, real, y),
                  discriminator_features(module.discriminator, fake, y)]  # fmt: skip
        labels += [torch.ones(len(real)), torch.zeros(len(fake))]
    x, t = torch.cat(feats).double(), torch.cat(labels)
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    z = ((x - mean) / std).numpy()
    lr = LogisticRegression(max_iter=5000).fit(z, t.numpy())
    return {
        "mean": mean.tolist(),
        "std": std.tolist(),
        "coef": lr.coef_[0].tolist(),
        "intercept": float(lr.intercept_[0]),
        "n_real": int(t.sum()),
        "n_fake": int(len(t) - t.sum()),
        "train_accuracy": float(lr.score(z, t.numpy())),
        "seed": seed,
    }
