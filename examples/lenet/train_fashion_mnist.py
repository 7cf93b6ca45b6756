"""The demo's model: LeNet-5 on Fashion-MNIST, trained eagerly and then with a compiled training
step (ember.compile: forward, backward and the SGD update in one native function), each from
the same initial weights on the same batches; then exported to a .ember file (batch of
--export-batch images), reloaded and scored on the test set. examples/deploy compiles the
export ahead of time (ember-compile) and runs it from C and C++.

    PYTHONPATH=build/python python3 examples/lenet/train_fashion_mnist.py [--steps 300] [--out DIR]
"""
import argparse
import os
import time

import numpy as np

import ember
from ember.datasets import FashionMNIST
import ember.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def split(train):
    """Fashion-MNIST's images (uint8 [N, 28, 28], as numpy) and labels, read by
    ember.datasets from Debian's dataset-fashion-mnist (its error names a missing file)."""
    ds = FashionMNIST(train=train)
    return ds.data.numpy(), ds.targets.numpy()


def images(raw):
    """[N, 1, 28, 28] float32, normalised as the deploy programs do."""
    x = raw.astype(np.float32)[:, None] / 255.0
    return (x - MEAN) / STD


def init_params(rng):
    """LeNet-5's weights with PyTorch's default initialisation (uniform in +-1/sqrt(fan_in))."""
    shapes = [((6, 1, 5, 5), 25), ((6,), 25), ((16, 6, 5, 5), 150), ((16,), 150),
              ((120, 400), 400), ((120,), 400), ((84, 120), 120), ((84,), 120),
              ((10, 84), 84), ((10,), 84)]
    return [rng.uniform(-1, 1, s).astype(np.float32) / np.float32(np.sqrt(fan_in))
            for s, fan_in in shapes]


def lenet(x, c1, c1b, c2, c2b, f1, f1b, f2, f2b, f3, f3b):
    x = F.max_pool2d(F.relu(F.conv2d(x, c1, c1b, padding=2)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, c2, c2b)), 2)
    x = F.relu(F.linear(x.flatten(1), f1, f1b))
    x = F.relu(F.linear(x, f2, f2b))
    return F.linear(x, f3, f3b)


def train_step(x, y, *params, lr=0.2):
    """Cross-entropy against one-hot targets, its gradients and the SGD update."""
    loss = F.cross_entropy(lenet(x, *params), y)
    grads = ember.autograd.grad(loss, list(params))
    return (loss,) + tuple(p - lr * g for p, g in zip(params, grads))


def accuracy(forward, x_test, y_test, batch=1000):
    correct = 0
    with ember.no_grad():
        for s in range(0, len(x_test), batch):
            logits = forward(ember.tensor(x_test[s:s + batch])).numpy()
            correct += int((logits.argmax(1) == y_test[s:s + batch]).sum())
    return correct / len(x_test)


def train(step, init, batches, label):
    params = [ember.tensor(p, requires_grad=True) for p in init]
    t0 = time.perf_counter()
    first = None
    losses = []
    for i, (x, y) in enumerate(batches):
        loss, *params = step(ember.tensor(x), ember.tensor(y), *params)
        params = [p.detach().requires_grad_() for p in params]
        losses.append(loss.item())
        if i == 0:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    rest = (total - first) / max(1, len(batches) - 1)
    print(f"  {label:8s} {len(batches)} steps in {total:.1f} s (first step {first:.2f} s, then "
          f"{rest * 1e3:.1f} ms/step); loss {losses[0]:.3f} -> {np.mean(losses[-20:]):.3f}")
    return [p.detach() for p in params], losses


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=300, help="training steps for each run")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--export-batch", type=int, default=1000, help="the exported model's batch")
    ap.add_argument("--skip-eager", action="store_true", help="train only the compiled step")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default="build/demo")
    args = ap.parse_args()
    if args.threads:
        ember.set_num_threads(args.threads)

    (raw_train, y_train), (raw_test, y_test) = split(True), split(False)
    x_train, x_test = images(raw_train), images(raw_test)
    print(f"Fashion-MNIST: {len(x_train)} training and {len(x_test)} test images; LeNet-5, "
          f"{args.steps} SGD steps of {args.batch} images per run")
    rng = np.random.default_rng(0)
    init = init_params(rng)
    order = rng.permutation(len(x_train))
    eye = np.eye(10, dtype=np.float32)
    batches = []
    for i in range(args.steps):
        idx = order[(i * args.batch) % (len(order) - args.batch):][:args.batch]
        batches.append((x_train[idx], eye[y_train[idx]]))

    if not args.skip_eager:
        weights, eager_losses = train(train_step, init, batches, "eager")
        acc = accuracy(lambda x: lenet(x, *weights), x_test, y_test)
        print(f"  {'eager':8s} test accuracy {acc:.4f}")
    compiled_step = ember.compile(train_step, fullgraph=True)
    weights, losses = train(compiled_step, init, batches, "compiled")
    forward = ember.compile(lambda x: lenet(x, *weights), fullgraph=True)
    acc = accuracy(forward, x_test, y_test)
    print(f"  {'compiled':8s} test accuracy {acc:.4f}")
    if not args.skip_eager:
        # Compiled code rounds differently (vectorized polynomial math, other summation
        # orders): the curves agree step for step at first, then drift apart the way any two
        # SGD runs with 1e-7 differences do (ReLU/max-pool decisions flip); their level agrees.
        early = min(20, len(losses))
        worst = max(abs(a - b) / max(1.0, abs(b))
                    for a, b in zip(losses[:early], eager_losses[:early]))
        late = abs(np.mean(losses[-20:]) - np.mean(eager_losses[-20:])) / np.mean(eager_losses[-20:])
        print(f"  compiled vs eager loss curve: largest relative difference over the first {early} "
              f"steps {worst:.1e}; last 20 steps' mean differs by {late:.1%}")
        assert worst < 1e-3, "the compiled training step does not follow the eager one"
        assert late < 0.1, "the compiled training run does not converge like the eager one"

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "lenet.ember")
    example = ember.tensor(x_test[:args.export_batch])
    ember.export(lambda x: lenet(x, *weights), (example,), path, input_names=["images"],
                 output_names=["logits"])
    model = ember.load_exported(path)
    acc = accuracy(model, x_test, y_test, args.export_batch)
    print(f"exported to {path} ({os.path.getsize(path) / 1e6:.1f} MB); reloaded model's test "
          f"accuracy: {acc:.4f}")
    assert acc > 0.6, f"accuracy {acc} is too low: training is broken"


if __name__ == "__main__":
    main()
