"""The demo: train an MLP on Fashion-MNIST with a compiled training step, export the trained
model to a .ember file, load it back and measure test accuracy.

Uses only the op record's five ops (add, mul, matmul, relu, sum): the loss is the mean squared
error against one-hot labels (cross-entropy comes with the nn issue).

    PYTHONPATH=build/python python3 examples/mlp/train_fashion_mnist.py [--steps 400] [--out DIR]
"""
import argparse
import os
import time

import numpy as np

import ember
from ember.datasets import FashionMNIST


def split(train):
    """Fashion-MNIST's images (uint8 [N, 28, 28], as numpy) and labels, read by
    ember.datasets from Debian's dataset-fashion-mnist (its error names a missing file)."""
    ds = FashionMNIST(train=train)
    return ds.data.numpy(), ds.targets.numpy()


def images(raw):
    return (raw.reshape(-1, 784).astype(np.float32) / 255.0 - 0.2860) / 0.3530


def one_hot(labels):
    out = np.zeros((len(labels), 10), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def forward(x, w1, b1, w2, b2):
    return ember.relu(x @ w1 + b1) @ w2 + b2


def train_step(x, y, w1, b1, w2, b2, lr=0.05):
    diff = forward(x, w1, b1, w2, b2) - y
    loss = (diff * diff).sum() * (1.0 / x.shape[0])
    grads = ember.autograd.grad(loss, [w1, b1, w2, b2])
    return (loss,) + tuple(p - lr * g for p, g in zip((w1, b1, w2, b2), grads))


def init(fan_in, fan_out, rng):
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
    b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
    return ember.tensor(w, requires_grad=True), ember.tensor(b, requires_grad=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--out", default="build/demo")
    args = ap.parse_args()

    (raw_train, y_train), (raw_test, y_test) = split(True), split(False)
    x_train, x_test = images(raw_train), images(raw_test)
    print(f"Fashion-MNIST: {len(x_train)} training and {len(x_test)} test images")

    rng = np.random.default_rng(0)
    params = [*init(784, args.hidden, rng), *init(args.hidden, 10, rng)]
    step = ember.compile(train_step)

    # The compiled step computes what the eager step computes.
    xb, yb = ember.tensor(x_train[:args.batch]), ember.tensor(one_hot(y_train[:args.batch]))
    eager = train_step(xb, yb, *params)
    compiled = step(xb, yb, *params)
    worst = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(eager, compiled))
    print(f"compiled step vs eager step: max abs difference {worst:.2e}")
    assert worst < 1e-4, "compiled and eager training steps disagree"

    t0 = time.perf_counter()
    order = rng.permutation(len(x_train))
    for i in range(args.steps):
        idx = order[(i * args.batch) % (len(order) - args.batch):][:args.batch]
        loss, *new = step(ember.tensor(x_train[idx]), ember.tensor(one_hot(y_train[idx])), *params)
        params = [p.requires_grad_() for p in new]
        if i % 100 == 0 or i == args.steps - 1:
            print(f"  step {i:4d}  loss {loss.item():.4f}")
    dt = time.perf_counter() - t0
    print(f"trained {args.steps} steps in {dt:.1f} s ({dt / args.steps * 1e3:.1f} ms/step, compiled)")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "mlp.ember")
    weights = [p.detach() for p in params]
    batch = 1000
    ember.export(lambda x: forward(x, *weights), (ember.tensor(x_test[:batch]),), path,
                 input_names=["images"], output_names=["logits"])
    model = ember.load_exported(path)
    correct = 0
    for s in range(0, len(x_test), batch):
        logits = model(ember.tensor(x_test[s:s + batch])).numpy()
        correct += int((logits.argmax(1) == y_test[s:s + batch]).sum())
    acc = correct / len(x_test)
    print(f"exported to {path} ({os.path.getsize(path) / 1e6:.1f} MB); reloaded model's test accuracy: {acc:.4f}")
    assert acc > 0.75, f"accuracy {acc} is too low: training is broken"


if __name__ == "__main__":
    main()
