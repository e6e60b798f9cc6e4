"""How the cGAN carries its frozen critic in a checkpoint: the grader's hparams + weights (a "recipe"), not
`critic.*` state-dict entries, so a GAN checkpoint loads without the critic's run directory and survives
changes to routegen.critic.Critic's own buffers."""

from __future__ import annotations

CRITIC_KEY = "routegen_critic"


def grader_recipe(grader) -> dict:
    return {
        "hparams": dict(grader.hparams),
        "state_dict": {k: v.detach().cpu() for k, v in grader.state_dict().items()},
        "data_hparams": dict(getattr(grader, "data_hparams", {}) or {}),
    }


def grader_from_recipe(saved: dict, state_dict: dict):
    """The GraderModule back; early checkpoints kept only hparams here and the weights as critic.net.* etc."""
    from routegen.lit.grader import GraderModule

    if "hparams" in saved:
        hp, state = saved["hparams"], saved["state_dict"]
    else:
        prefixes = ("critic.net.", "critic.loss_head.")
        hp, state = saved, {k[len("critic.") :]: v for k, v in state_dict.items() if k.startswith(prefixes)}
    grader = GraderModule(**hp)
    missing = [k for k in grader.load_state_dict(state, strict=False).missing_keys if k.startswith("net.")]
    assert not missing, f"critic weights missing from the checkpoint: {missing[:3]}"
    grader.data_hparams = dict(saved.get("data_hparams") or {})
    return grader


def drop_critic_state(state_dict: dict) -> None:
    for k in [k for k in state_dict if k.startswith("critic.")]:
        del state_dict[k]
