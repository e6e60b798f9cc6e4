"""The AR transformer: shapes, greedy = top_k 1, KV cache = no cache, determinism, fixed holds, training wiring."""

from __future__ import annotations

import pytest
import torch
from hydra_helpers import compose_train

from routegen.ar.constraints import RouteConstraint
from routegen.ar.module import ARTransformerModule
from routegen.ar.net import GPT, GPTConfig, sample_logits
from routegen.ar.tokenizer import PREFIX_LEN
from routegen.checkpoints import load_module
from routegen.errors import RoutegenError
from routegen.generation.base import resolve_grade
from routegen.route import check_route, parse_route
from routegen.training import train


@pytest.fixture(scope="module")
def module():
    torch.manual_seed(0)
    m = ARTransformerModule(
        net={"n_layer": 2, "n_head": 2, "n_embd": 32, "dropout": 0.0}, class_counts=[0] * 3 + [5] * 13
    )
    return m.eval()


def test_forward_shapes_and_cache():
    gpt = GPT(GPTConfig(vocab_size=50, block_size=12, n_layer=2, n_head=2, n_embd=16, dropout=0.0)).eval()
    idx = torch.randint(0, 50, (3, 7))
    logits, cache = gpt(idx)
    assert logits.shape == (3, 7, 50) and len(cache) == 2 and cache[0][0].shape == (3, 2, 7, 8)
    # feeding the last token with the cache of the first six gives the same logits as the full pass
    _, cache6 = gpt(idx[:, :6])
    step, cache7 = gpt(idx[:, 6:], cache6)
    assert torch.allclose(step[:, 0], logits[:, 6], atol=1e-5)
    assert cache7[0][0].shape[2] == 7


def test_causal_mask_future_tokens_do_not_leak():
    gpt = GPT(GPTConfig(vocab_size=50, block_size=12, n_layer=2, n_head=2, n_embd=16, dropout=0.0)).eval()
    a = torch.randint(0, 50, (1, 8))
    b = a.clone()
    b[0, 5:] = (b[0, 5:] + 1) % 50
    la, lb = gpt(a)[0], gpt(b)[0]
    assert torch.allclose(la[0, :5], lb[0, :5], atol=1e-6) and not torch.allclose(la[0, 5:], lb[0, 5:])


def test_top_k_1_is_greedy_argmax(module, board2016):
    routes = module.generate([5, 9, 12], top_k=1, seed=1, guidance=1.0)
    assert routes == module.generate([5, 9, 12], top_k=1, seed=99, guidance=1.0)  # no randomness left
    # a hand-written greedy loop over the full (uncached) sequence gives the same routes
    tok = module.tok
    seq = tok.prefix("2016", 40, [resolve_grade(module, g) for g in (5, 9, 12)])
    c = RouteConstraint(tok, board2016, 3)
    for _ in range(tok.max_holds + 1):
        logits = module.model(seq)[0][:, -1].masked_fill(~c.allowed(), float("-inf"))
        nxt = torch.where(c.done, 0, logits.argmax(-1))
        c.update(nxt)
        seq = torch.cat([seq, nxt[:, None]], 1)
    assert [tok.decode(s[PREFIX_LEN:].tolist()) for s in seq] == routes


def test_sample_logits_top_k_top_p():
    logits = torch.tensor([[3.0, 2.0, 1.0, -1.0]])
    g = torch.Generator().manual_seed(0)
    draws = {int(sample_logits(logits, 1.0, top_k=2, generator=g)) for _ in range(200)}
    assert draws == {0, 1}
    draws = {int(sample_logits(logits, 1.0, top_p=0.5, generator=g)) for _ in range(200)}
    assert draws == {0}  # token 0 alone carries > 50% of the mass
    assert int(sample_logits(logits, 0.0)) == 0


def test_kv_cache_equals_no_cache(module):
    grades = [4, 7, 10, 16] * 8
    for kwargs in ({}, {"guidance": 2.0}, {"constrained": False}):
        with_cache = module.generate(grades, seed=5, **kwargs)
        assert with_cache == module.generate(grades, seed=5, use_cache=False, **kwargs), kwargs


def test_seed_determinism_and_variety(module):
    a = module.generate([7] * 50, seed=3, temperature=1.2, top_p=0.95)
    assert a == module.generate([7] * 50, seed=3, temperature=1.2, top_p=0.95)
    assert a != module.generate([7] * 50, seed=4, temperature=1.2, top_p=0.95)


def test_constrained_routes_valid_over_many_seeds(module, board2016):
    for seed in range(6):
        routes = module.generate(list(range(4, 17)) * 20, seed=seed, temperature=1.5)
        assert all(check_route(r, board2016).ok for r in routes)


def test_generate_keeps_fixed_holds(module):
    fixed, _ = parse_route("F5 | E12 | D18")
    for r in module.generate([6] * 40, fixed=fixed, seed=2):
        assert fixed.start[0] in r.start and fixed.middle[0] in r.middle and fixed.end[0] in r.end


def test_bad_requests_are_errors(module):
    with pytest.raises(RoutegenError, match="6A was never seen"):
        module.generate([1])
    with pytest.raises(RoutegenError, match="above row 6"):
        module.generate([5], fixed=parse_route("F9 | | D18")[0])
    assert module.trained_grades == set(range(4, 17)) and module.board == "2016" and module.angle == 40


def test_fast_dev_run_trains_samples_and_checkpoints(tmp_path):
    cfg = compose_train(
        tmp_path,
        ["model=ar_transformer", "trainer=debug", "~callbacks.lr_monitor", "callbacks.generator_samples.every_n_epochs=1",
         "model.net.n_layer=1", "model.net.n_embd=32", "callbacks.generator_samples.n=8",
         "callbacks.generator_samples.png=2"],
    )  # fmt: skip
    train(cfg)
    assert len(list((tmp_path / "samples" / "epoch_000").glob("*.png"))) == 2
    ckpt = tmp_path / "ckpt.ckpt"
    module = ARTransformerModule(net={"n_layer": 1, "n_embd": 32}, class_counts=[0] * 4 + [1] * 12)
    import pytorch_lightning as pl

    trainer = pl.Trainer(max_steps=0, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(ckpt)
    loaded = load_module(ckpt, expect="ar_transformer")
    assert loaded.trained_grades == set(range(5, 17))
    assert len(loaded.generate([8, 9], seed=0)) == 2


def test_log_likelihood_is_the_chain_rule_per_token(module):
    routes = module.generate([4, 7, 10, 16], seed=1)
    long, _ = parse_route("F5 I5 | G2 G6 G8 J8 C9 J9 H11 C12 G13 G14 E15 G17 | E18")  # 15 holds: over the cap
    ll = module.log_likelihood([*routes, long], [4, 7, 10, 16, 7])
    assert torch.isnan(ll[-1]) and not torch.isnan(ll[:-1]).any()
    for route, number, got in zip(routes, [4, 7, 10, 16], ll):
        seq = torch.tensor(module.tok.encode(route, module.board, module.angle, resolve_grade(module, number)))
        steps = [torch.log_softmax(module.model(seq[None, :t])[0][0, -1], -1)[seq[t]]
                 for t in range(PREFIX_LEN, len(seq))]  # fmt: skip
        assert got.item() == pytest.approx(torch.stack(steps).mean().item(), abs=1e-5)
    assert torch.allclose(module.log_likelihood(routes, [4, 7, 10, 16], batch=1), ll[:-1], atol=1e-6)
    assert not torch.allclose(module.log_likelihood(routes), ll[:-1])  # unconditional: the NULL grade
    with pytest.raises(RoutegenError, match="6A was never seen"):
        module.log_likelihood(routes[:1], [1])


def test_completion_weights_turn_the_proposal_into_the_models_own_completions(module):
    """Decoding with a fixed start hold draws the model's own first start hold and then still has to add the fixed
    one, so it pairs two start holds far more often than the model does. Weighted by generate()'s log weights, the
    proposals give the share of two-start routes among the model's own free routes that start on that hold."""
    import numpy as np

    fixed, _ = parse_route("F5 | |")
    routes, lw = module.generate([7] * 3000, fixed=fixed, seed=3, with_log_weights=True)
    two = np.array([len(r.start) == 2 for r in routes])
    w = np.exp(lw - lw.max())
    free = [r for r in module.generate([7] * 20000, seed=4) if fixed.start[0] in r.start]  # rejection: exact
    target = np.mean([len(r.start) == 2 for r in free])
    assert len(free) > 500
    assert two.mean() > target + 0.3, (two.mean(), target)  # the proposal is far off
    assert abs((w * two).sum() / w.sum() - target) < 0.06, ((w * two).sum() / w.sum(), target)
    assert not np.any(lw > 1e-6)  # each step's constrained set is a subset of the free one: p <= q token by token
    plain = module.generate([7] * 5, seed=5, with_log_weights=True)  # no fixed holds: nothing to weigh
    assert len(plain[0]) == 5 and not plain[1].any()
