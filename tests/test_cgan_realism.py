"""Discriminator-guided selection (generate(realism=K)): K=1 is the old sampler, K>1 keeps the discriminator's
(or the calibrated realism head's) top candidate, deterministically, validly, with the fixed holds; bad K and
--realism on the AR transformer are one-line errors."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from generator_helpers import SMALL_CGAN, save_ar, save_module

from routegen.board import load_board
from routegen.checkpoints import load_module
from routegen.cli import main
from routegen.encoding import routes_to_grids
from routegen.errors import RoutegenError
from routegen.gan.decode import decode, fixed_grid, naive_decode
from routegen.gan.module import CGANModule
from routegen.gan.select import fit_realism_head
from routegen.generation.base import resolve_grade
from routegen.grades import Grade
from routegen.route import check_route, parse_route

REAL = ["C5 E6 | E8 F11 C13 D15 | D18", "A5 | C9 E12 G15 | K18", "J5 | I9 H12 G16 | H18", "D5 F5 | D9 | E18"]
FIXED = ["C5 | | D18", "A5 C5 | F10 | ", " | G8 | E18"]


def problems(numbers=(5, 7, 9, 12)) -> list:
    """Stand-in training problems: the REAL routes at a few grades."""
    return [SimpleNamespace(route=parse_route(t)[0], grade=Grade.from_number(n), grade_v=None)
            for n in numbers for t in REAL]  # fmt: skip


def small_module(seed: int = 0, **decode) -> CGANModule:
    torch.manual_seed(seed)
    m = CGANModule(**SMALL_CGAN, decode=decode)
    m.set_decode_prior(problems())  # prior decoding on, as in trained checkpoints
    return m.eval()


def old_generate(m: CGANModule, grades, seed, fixed=None, constrained=True):
    """generate() as it was before realism: one generator pass, then decode every route in order."""
    board = load_board(m.board)
    classes = [resolve_grade(m, g) for g in grades]
    gen, cpu_gen = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    with torch.no_grad():
        logits = m.generator(
            m.noise(len(classes), gen), torch.tensor(classes), fixed_grid(fixed).expand(len(classes), -1, -1, -1)
        )
    if not constrained:
        return [naive_decode(x, 1.0, cpu_gen, fixed) for x in logits]
    prior = lambda c: m.priors.get(c, 0.3, m.hparams.decode["hold_weight"])  # noqa: E731
    return [decode(x, board, fixed, 1.0, cpu_gen, prior(c)) for x, c in zip(logits, classes)]


def test_realism_1_is_the_sampler_as_before():
    m = small_module()
    grades = [5, 7, 9, 12] * 75  # 300 routes: more than one generator chunk
    assert m.generate(grades, seed=4) == m.generate(grades, seed=4, realism=1) == old_generate(m, grades, 4)
    fixed = parse_route("C5 | | D18")[0]
    assert m.generate([7] * 6, seed=2, fixed=fixed, realism=1) == old_generate(m, [7] * 6, 2, fixed)
    assert m.generate([7] * 6, seed=2, constrained=False) == old_generate(m, [7] * 6, 2, constrained=False)


@pytest.mark.parametrize("with_head", [False, True])
def test_picks_the_top_scored_candidate(with_head):
    m = small_module()
    k, grades = 4, [5, 7, 9, 12, 7]
    if with_head:
        m.hparams.decode["realism_head"] = fit_realism_head(m, problems(), seed=1)
    cands = m.generate([g for g in grades for _ in range(k)], seed=3, realism=1)  # the same k candidates per route
    y = torch.tensor([resolve_grade(m, g) for g in grades]).repeat_interleave(k)
    grids = routes_to_grids(cands)
    with torch.no_grad():  # a direct discriminator call
        score = m.discriminator(grids, y)
        if with_head:
            h, head = m.discriminator.features(grids), m.hparams.decode["realism_head"]
            f = torch.cat([h, score[:, None]], dim=1)
            score = ((f - torch.tensor(head["mean"])) / torch.tensor(head["std"])) @ torch.tensor(head["coef"])
    best = score.view(-1, k).argmax(1)
    picked = m.generate(grades, seed=3, realism=k)
    assert picked == [cands[i * k + int(b)] for i, b in enumerate(best)]
    assert picked != cands[::k]  # the selection changed something (not the first candidate every time)


def test_k_candidates_deterministic_valid_and_keep_fixed_holds(board2016):
    m = small_module().train()  # generate() must not move the discriminator (spectral norm) or the mode
    d0 = {k: v.clone() for k, v in m.discriminator.state_dict().items()}
    for text in FIXED:
        fixed = parse_route(text)[0]
        for seed in range(3):
            for constrained in (True, False):
                routes = m.generate([6, 9] * 3, fixed=fixed, seed=seed, realism=3, constrained=constrained)
                assert routes == m.generate([6, 9] * 3, fixed=fixed, seed=seed, realism=3, constrained=constrained)
                for r in routes:
                    assert all(set(getattr(fixed, n)) <= set(getattr(r, n)) for n in ("start", "middle", "end"))
                    assert not constrained or check_route(r, board2016).ok
    assert m.training and all(torch.equal(v, m.discriminator.state_dict()[k]) for k, v in d0.items())
    assert m.generate([6, 9], seed=0, realism=3) != m.generate([6, 9], seed=1, realism=3)


def test_fit_realism_head_is_json_safe_and_sized():
    m = small_module()
    head = fit_realism_head(m, problems(), seed=0)
    assert len(head["coef"]) == len(head["mean"]) == len(head["std"]) == 4 * SMALL_CGAN["discriminator"]["base"] + 1
    assert head["n_real"] == head["n_fake"] == 16 and 0.0 <= head["train_accuracy"] <= 1.0
    assert json.loads(json.dumps(head)) == head
    with pytest.raises(RoutegenError, match="no problems"):
        fit_realism_head(m, [], seed=0)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "4", True])
def test_bad_k_is_an_error_naming_it(bad):
    with pytest.raises(RoutegenError, match=f"realism must be an integer >= 1 \\(got {bad!r}\\)"):
        small_module().generate([7], realism=bad)


def test_no_discriminator_is_an_error():
    m = small_module()
    m.discriminator = None
    with pytest.raises(RoutegenError, match="realism=2 needs the discriminator"):
        m.generate([7], realism=2)
    assert len(m.generate([7], realism=1)) == 1


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpts")
    ar = save_ar(d / "ar.ckpt")
    return ar, save_module(small_module(realism=3), d / "gan.ckpt")  # a cGAN whose default K is 3


def test_checkpoint_default_k_and_the_sample_flag(ckpts, capsys):
    gan = load_module(ckpts[1], expect="cgan")
    assert gan.hparams.decode["realism"] == 3
    assert gan.generate([7] * 4, seed=5) == gan.generate([7] * 4, seed=5, realism=3)
    args = ["sample", "--ckpt", str(ckpts[1]), "--grade", "7A", "-n", "4", "--seed", "5", "--format", "moonboard"]
    assert main(args) == 0  # the checkpoint's default
    default = capsys.readouterr().out
    assert main([*args, "--realism", "3"]) == 0
    assert capsys.readouterr().out == default
    assert main([*args, "--realism", "1"]) == 0
    assert capsys.readouterr().out != default


@pytest.mark.parametrize(
    "which, argv, message",
    [
        (0, ["sample", "--grade", "7A", "--realism", "4"], "--realism is not an option of the ar_transformer model"),
        (1, ["sample", "--grade", "7A", "--realism", "0"], "argument --realism: expected an integer >= 1, got '0'"),
        (
            1,
            ["evaluate-generator", "--judge", "x", "--realism", "0"],
            "argument --realism: expected an integer >= 1, got '0'",
        ),
    ],
)
def test_cli_errors(ckpts, capsys, which, argv, message):
    assert main([argv[0], "--ckpt", str(ckpts[which]), *argv[1:]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"routegen {argv[0]}: error:") and message in err and len(err.splitlines()) == 1


def test_grade_error_lets_only_the_closer_half_compete():
    from routegen.gan.select import most_real, realism_scores

    m = small_module()
    k, grades = 4, [5, 7, 9, 12, 7, 9]
    cands = m.generate([g for g in grades for _ in range(k)], seed=5, realism=1)
    y = torch.tensor([resolve_grade(m, g) for g in grades]).repeat_interleave(k)
    score = realism_scores(m.discriminator, cands, y).view(-1, k)
    error = score.flatten()  # the most real candidate is now the farthest from its grade: it must lose
    picked = most_real(m.discriminator, cands, y, k, grade_error=error)
    close = error.view(-1, k).argsort(1)[:, :2]
    want = [cands[i * k + int(close[i][score[i, close[i]].argmax()])] for i in range(len(grades))]
    assert picked == want and picked != most_real(m.discriminator, cands, y, k)


def test_write_hparams_merges_the_decode_group(ckpts, tmp_path):
    from routegen.checkpoints import write_hparams

    out = write_hparams(ckpts[1], tmp_path / "gan.ckpt", decode={"realism": 2})
    gan = load_module(out, expect="cgan")
    assert gan.hparams.decode == {"move_weight": 0.3, "placement": "greedy", "chain_delta": None, "hold_weight": 1.0,
                                  "max_gap": 5, "realism": 2, "realism_head": None, "match": 1, "realism_trees": None,
                                  "match_profiles": None, "guidance": 1.0}
