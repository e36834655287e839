"""A tiny PyTorch training script: a small MLP on synthetic MNIST-shaped data.

It runs anywhere: on a GPU when one is visible, otherwise on the CPU, and needs no download.
"""
import argparse
import time

import torch
from torch import nn


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples", type=int, default=2048)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"device={device} torch={torch.__version__}", flush=True)

    x = torch.randn(args.samples, 28 * 28)
    y = (x[:, :10].argmax(dim=1)).long()  # a learnable synthetic target
    model = nn.Sequential(nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        model.train()
        start = time.time()
        perm = torch.randperm(args.samples)
        total = 0.0
        for i in range(0, args.samples, args.batch_size):
            idx = perm[i : i + args.batch_size]
            xb, yb = x[idx].to(device), y[idx].to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{args.epochs} loss {total / args.samples:.4f} ({time.time() - start:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
