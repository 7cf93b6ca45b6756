"""An LSTM sequence model: predict the next value of noisy sine waves of random frequency and
phase from the values so far (sequence-to-sequence regression, ember.nn.LSTM, batch_first).

    PYTHONPATH=build/python python3 examples/lstm_sequence.py [--steps 300]"""
import argparse

import numpy as np

import ember
import ember.nn as nn


class SineLSTM(nn.Module):
    def __init__(self, hidden=32, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def make_batch(rng, batch, length):
    freq = rng.uniform(0.1, 0.4, size=(batch, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(batch, 1))
    t = np.arange(length + 1)[None, :]
    wave = np.sin(freq * t + phase) + 0.02 * rng.standard_normal((batch, length + 1))
    wave = wave.astype(np.float32)[:, :, None]
    return ember.tensor(wave[:, :-1]), ember.tensor(wave[:, 1:])


def train(steps=300, batch=16, length=30, hidden=32, layers=2, lr=1e-2, seed=0, log=print):
    ember.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SineLSTM(hidden, layers)
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for step in range(steps):
        x, y = make_batch(rng, batch, length)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if log and step % 50 == 0:
            log(f"step {step}: mse {losses[-1]:.4f}")
    return model, losses


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    train(args.steps)
