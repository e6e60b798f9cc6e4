"""How far the cGAN's generator gets on the completion term alone, without the GAN around it.

Trains the U-Net generator (the recipe's size, optimiser and share of routes lending holds) on the completion
term only, and prints its held-out completion loss after each epoch: nats per hold to place, on the validation
routes, each with a random subset of its holds fixed, the same subsets for every epoch and every model. The
checkpoints given with --ckpt are scored on the same questions, so a GAN run can be compared with what its
network reaches on this term alone (docs/results.md, "What holds the completion loss back").

    .venv/bin/python bench/bench_completion_fit.py --epochs 12 --ckpt runs/cgan_iterative --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch

from routegen.board import COLS, ROWS, load_board
from routegen.checkpoints import load_module
from routegen.datamodule import MoonBoardDataModule
from routegen.encoding import board_mask
from routegen.gan.losses import completion_loss, random_fixed
from routegen.gan.nets import UNetConfig, UNetGenerator

BATCH, FIXED_PROB, LR, BETAS, CLIP = 128, 0.9, 4e-4, (0.5, 0.999), 1.0  # conf/experiment/cgan_iterative.yaml


@torch.no_grad()
def heldout_loss(net: torch.nn.Module, grids: torch.Tensor, classes: torch.Tensor, board: torch.Tensor) -> float:
    was_training = net.training
    net.eval()
    gen, total = torch.Generator().manual_seed(123), 0.0  # the same questions for every call
    for i in range(0, len(grids), 256):
        real, y = grids[i : i + 256], classes[i : i + 256]
        fixed = random_fixed(real, gen, 1.0)
        noise = torch.randn((len(y), net.cfg.noise_ch, ROWS, COLS), generator=gen)
        total += completion_loss(net(noise, y, fixed), real, fixed, board).item() * len(y)
    net.train(was_training)
    return total / len(grids)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--ckpt", action="append", default=[], help="cGAN run or checkpoint scored on the same questions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    data = MoonBoardDataModule(dir=args.data_dir)  # the generators' split (seed 0), as train.py builds it
    data.setup()
    train, val = data.datasets["train"].tensors, data.datasets["val"].tensors
    board = board_mask(load_board("2016"))
    net = UNetGenerator(UNetConfig(), board)
    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS)
    gen, start = torch.Generator().manual_seed(args.seed), time.time()
    print(f"generator alone, completion term only: {sum(p.numel() for p in net.parameters()):,} parameters")
    print("| epoch | held-out completion loss | seconds |\n|---|---|---|")
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train[0]), generator=gen)
        for i in range(0, len(order) - BATCH + 1, BATCH):
            real, y = train[0][order[i : i + BATCH]], train[1][order[i : i + BATCH]]
            fixed = random_fixed(real, gen, FIXED_PROB)
            noise = torch.randn((len(y), net.cfg.noise_ch, ROWS, COLS), generator=gen)
            loss = completion_loss(net(noise, y, fixed), real, fixed, board)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), CLIP)
            opt.step()
        print(f"| {epoch} | {heldout_loss(net, *val, board):.3f} | {time.time() - start:.0f} |", flush=True)
    for ckpt in args.ckpt:
        generator = load_module(ckpt).generator.cpu()
        print(f"{ckpt}: {heldout_loss(generator, *val, board):.3f}")


if __name__ == "__main__":
    main()
