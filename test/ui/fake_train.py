"""A dependency-free stand-in for train.py (the UI tests' image has python3 but no torch).

Prints a `\r` progress bar per epoch, then one `epoch N loss=...` line, like a real trainer; about 2.5 s in all.
"""
import sys
import time

EPOCHS = 3
STEPS = 12


def main() -> None:
    print(f"training a tiny model for {EPOCHS} epochs", flush=True)
    loss = 2.30
    for epoch in range(1, EPOCHS + 1):
        for step in range(1, STEPS + 1):
            bar = "#" * step + "." * (STEPS - step)
            sys.stdout.write(f"\repoch {epoch} [{bar}] {step}/{STEPS}")
            sys.stdout.flush()
            time.sleep(0.07)
        loss *= 0.55
        sys.stdout.write(f"\repoch {epoch} loss={loss:.4f}{' ' * (STEPS + 8)}\n")
        sys.stdout.flush()
    print("done: saved checkpoint.pt", flush=True)


if __name__ == "__main__":
    main()
