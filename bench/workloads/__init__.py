"""Benchmark workloads (see bench/harness.py); helpers they share."""


def sgd_step(M, model, x, y, compiled=False):
    """One training step through library M's nn/optim (ember or torch): zero_grad, forward,
    cross-entropy against class indices y, backward, SGD with momentum 0.9 (lr 0.01).
    compiled=True: the whole step (zero_grad, forward, backward, optimizer step) is one
    ember.compile(fullgraph=True) graph; for torch, torch.compile(step) (Inductor; its first call
    takes about 20 s here)."""
    opt = M.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = M.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if compiled:
        step = M.compile(step, fullgraph=True) if M.__name__ == "ember" else M.compile(step)
    return lambda: step(x, y)
