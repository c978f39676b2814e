"""Time one training step of the engine's Trainer against PyTorch and bare NumPy.

Each step is a minibatch drawn from a shuffled epoch, a forward pass, the
cost, a backward pass and a gradient-descent update. The same networks, data
and batches run in three ways:

- engine: `Trainer.step(k)`, which also records the cost history, the
  per-layer gradient norms and checks for divergence;
- torch: nn.Sequential, torch.optim.SGD and `cost.item()` each step
  (skipped with a note when torch is not installed);
- numpy: a minimal hand-written NumPy loop doing the same math.

All three run with the same number of threads, --threads N (default 1, the
trainer's own default; 0 means the trainer's "auto": one thread when every
matrix product of a step is small, else all of NumPy's BLAS threads). The
trainer and the NumPy loop limit NumPy's BLAS to it, torch gets
torch.set_num_threads.

Prints a table of microseconds per step and the ratios, then, as its last
line, one JSON object: {"2-8-8-1/b10/f64": {"engine_us": .., "torch_us": ..,
"numpy_us": ..}, ...}.

    python benchmarks/engine.py [--threads N] [--quick] [--only TEXT]
"""

import argparse
import json
import os
import sys
import time

CASES = [
    # sizes, hidden activation, output activation, cost, batch size
    ((2, 8, 8, 1), "tanh", "sigmoid", "quadratic", 10),
    ((64, 32, 32, 10), "relu", "softmax", "cross_entropy", 32),
    ((784, 16, 16, 10), "relu", "softmax", "cross_entropy", 64),
    ((784, 128, 10), "relu", "softmax", "cross_entropy", 256),
]
DTYPES = ("f64", "f32")
LEARNING_RATE = 0.01


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for all")
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--only", default="", help="run the networks matching this")
    return parser.parse_args()


ARGS = _parse()

import numpy as np  # noqa: E402

from backprop_lab.engine import Network, Trainer  # noqa: E402
from backprop_lab.engine.blas import (  # noqa: E402
    auto_blas_threads,
    current_blas_threads,
    limit_blas_threads,
)

try:
    import torch
except ImportError:
    torch = None


def best_times(runners: dict, steps: int, repeats: int) -> dict:
    """Best of `repeats` timings of each run(steps), in microseconds per step.

    The runners take turns, so a change in the machine's load hits all alike.
    """
    best = {name: float("inf") for name in runners}
    for run in runners.values():
        run(max(steps // 10, 1))
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / steps * 1e6 for name, seconds in best.items()}


def make_data(sizes, output, batch, dtype):
    rng = np.random.default_rng(0)
    n = 20 * batch
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    if output == "softmax":
        Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n)]
    else:
        Y = (rng.random((n, sizes[-1])) > 0.5).astype(dtype)
    return X, Y


def batches(n, batch, count, seed=1):
    """Index arrays of `count` minibatches over shuffled epochs."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        order = rng.permutation(n)
        out += [order[i : i + batch] for i in range(0, n, batch)]
    return out[:count]


def engine_runner(net, X, Y, cost, batch, threads):
    trainer = Trainer(
        net, X, Y, cost=cost, learning_rate=LEARNING_RATE, batch_size=batch,
        blas_threads=threads,
    )  # fmt: skip
    return trainer.step


def numpy_runner(net, X, Y, cost, batch, count, threads):
    """The minimal loop: plain NumPy expressions, one after the other."""
    Ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases]
    hidden, output = net.activations[0], net.activations[-1]
    order = batches(len(X), batch, count)
    lr = LEARNING_RATE

    def one(idx):
        x, y = X[idx], Y[idx]
        n = len(x)
        acts = [x]
        a = x
        for W, b in zip(Ws[:-1], bs[:-1]):
            z = a @ W.T + b
            a = np.tanh(z) if hidden == "tanh" else np.maximum(z, 0)
            acts.append(a)
        z = a @ Ws[-1].T + bs[-1]
        if output == "sigmoid":
            a = 1 / (1 + np.exp(-z))
            value = float(((a - y) ** 2).sum()) / n
            d = 2 * (a - y) * a * (1 - a) / n
        else:
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            value = float(-(y * (z - np.log(s))).sum()) / n
            d = (e / s - y) / n
        for layer in range(len(Ws) - 1, -1, -1):
            gW = d.T @ acts[layer]
            gb = d.sum(axis=0)
            if layer:
                a = acts[layer]
                d = d @ Ws[layer]
                d *= (1 - a * a) if hidden == "tanh" else (a > 0)
            Ws[layer] -= lr * gW
            bs[layer] -= lr * gb
        return value

    def run(steps):
        with limit_blas_threads(threads):
            for i in range(steps):
                one(order[i % len(order)])

    return run


def torch_runner(net, X, Y, cost, batch, count, threads):
    layers = []
    hidden = torch.nn.Tanh if net.activations[0] == "tanh" else torch.nn.ReLU
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        linear = torch.nn.Linear(w.shape[1], w.shape[0]).to(dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < net.n_layers - 1:
            layers.append(hidden())
    if net.activations[-1] == "sigmoid":
        layers.append(torch.nn.Sigmoid())
        Yt = torch.from_numpy(Y)

        def cost_of(out, target):
            return ((out - target) ** 2).sum() / len(out)
    else:
        Yt = torch.from_numpy(Y.argmax(axis=1))
        cost_of = torch.nn.CrossEntropyLoss()
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    Xt = torch.from_numpy(X)
    order = [torch.from_numpy(i) for i in batches(len(X), batch, count)]

    def run(steps):
        torch.set_num_threads(threads)
        for i in range(steps):
            idx = order[i % len(order)]
            optimizer.zero_grad()
            value = cost_of(model(Xt[idx]), Yt[idx])
            value.backward()
            optimizer.step()
            value.item()

    return run


def threads_for(sizes, batch) -> int:
    if ARGS.threads > 0:
        return ARGS.threads
    return auto_blas_threads(sizes, batch) or ALL_THREADS


def measure(case, dtype_name, repeats):
    sizes, hidden, output, cost, batch = case
    dtype = np.float64 if dtype_name == "f64" else np.float32
    activations = [hidden] * (len(sizes) - 2) + [output]
    net = Network(list(sizes), activations, seed=0, dtype=dtype)
    X, Y = make_data(sizes, output, batch, dtype)
    work = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * batch
    steps = int(min(max(2e8 / (work + 2e5), 40), 5000))
    if ARGS.quick:
        steps = max(steps // 5, 10)
    threads = threads_for(sizes, batch)
    runners = {
        "engine_us": engine_runner(net.copy(), X, Y, cost, batch, threads),
        "numpy_us": numpy_runner(net, X, Y, cost, batch, steps, threads),
    }
    if torch is not None:
        runners["torch_us"] = torch_runner(net, X, Y, cost, batch, steps, threads)
    times = best_times(runners, steps, repeats)
    return {key: times.get(key) for key in ("engine_us", "torch_us", "numpy_us")}


ALL_THREADS = current_blas_threads() or os.cpu_count() or 1


def main() -> int:
    repeats = 3 if ARGS.quick else 15
    print(
        f"{os.cpu_count()} CPUs; NumPy {np.__version__} with {ALL_THREADS} BLAS "
        "threads; "
        + (f"PyTorch {torch.__version__}" if torch is not None
           else "PyTorch not installed: its column is skipped")
    )  # fmt: skip
    header = (
        f"{'network':<22}{'threads':>8}{'engine us':>11}{'numpy us':>11}"
        f"{'torch us':>11}{'torch/engine':>14}{'engine/numpy':>14}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for case in CASES:
        for dtype_name in DTYPES:
            key = "-".join(map(str, case[0])) + f"/b{case[4]}/{dtype_name}"
            if ARGS.only not in key:
                continue
            r = measure(case, dtype_name, repeats)
            results[key] = {k: None if v is None else round(v, 2) for k, v in r.items()}
            torch_us = r["torch_us"]
            speedup = f"{torch_us / r['engine_us']:.2f}x" if torch_us else "-"
            torch_text = f"{torch_us:.1f}" if torch_us else "-"
            print(
                f"{key:<22}{threads_for(case[0], case[4]):>8}"
                f"{r['engine_us']:>11.1f}{r['numpy_us']:>11.1f}"
                f"{torch_text:>11}{speedup:>14}"
                f"{r['engine_us'] / r['numpy_us']:>13.2f}x",
                flush=True,
            )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
