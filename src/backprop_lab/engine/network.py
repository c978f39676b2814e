"""A fully connected network and backpropagation through it.

Notation of the lesson: layer l has weighted inputs z(l) = W(l) a(l-1) + b(l)
and activations a(l) = s(z(l)). Weight w_jk(l) joins neuron k of layer l-1 to
neuron j of layer l, so W(l) has shape (n_out, n_in). Batches are rows: an
input X has shape (n_samples, n_in).

`weights`, `biases`, `masks` and `activations` are indexed by weight layer,
0 .. L-1; `a` and the sensitivities dC/da are indexed by layer of neurons,
0 .. L, where 0 is the input: `a[l + 1]` is the output of `weights[l]`.
"""

from dataclasses import dataclass

import numpy as np

from backprop_lab.engine import costs
from backprop_lab.engine.activations import (
    ACTIVATIONS,
    activate,
    backward_through,
)

# a layer wider than this is refused before anything is allocated
MAX_LAYER_SIZE = 100_000
MAX_PARAMETERS = 50_000_000


@dataclass(frozen=True)
class Gradients:
    """Result of one backward pass over a batch.

    cost: the batch cost, mean over examples of C0.
    weights, biases: dC/dW (n_out, n_in) and dC/db (n_out,) per weight layer,
        averaged over the batch.
    activations: dC0/da per layer of neurons 0 .. L, per example,
        (n_samples, n); entry 0 is None unless the input's was asked for.
    deltas: dC0/dz per weight layer, per example, (n_samples, n_out).
    """

    cost: float
    weights: list
    biases: list
    activations: list
    deltas: list


def check_architecture(sizes, activations) -> None:
    """Raise ValueError naming what is wrong with sizes or activations."""
    if len(sizes) < 2:
        raise ValueError("a network needs at least an input and an output layer")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ValueError(f"layer sizes must be whole numbers, not {size!r}")
        if size < 1:
            raise ValueError(f"layer sizes must be at least 1, not {size}")
        if size > MAX_LAYER_SIZE:
            raise ValueError(
                f"a layer of {size} neurons is more than the {MAX_LAYER_SIZE} allowed"
            )
    n_parameters = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    if n_parameters > MAX_PARAMETERS:
        raise ValueError(
            f"{n_parameters:,} weights and biases are more than the "
            f"{MAX_PARAMETERS:,} allowed"
        )
    if len(activations) != len(sizes) - 1:
        raise ValueError(
            f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, "
            f"not {len(activations)}"
        )
    for index, name in enumerate(activations):
        if name not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}"
            )
        if name == "softmax" and index != len(activations) - 1:
            raise ValueError("softmax is allowed on the output layer only")
        if name == "softmax" and sizes[index + 1] < 2:
            raise ValueError("a softmax output needs at least two neurons")


def check_dtype(dtype) -> np.dtype:
    """float64 or float32 as a NumPy dtype; ValueError for any other type."""
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found not in (np.float64, np.float32):
        raise ValueError(f"a network holds float64 or float32 numbers, not {dtype!r}")
    return found


def check_seed(seed) -> int:
    """A random seed, a whole number >= 0; ValueError otherwise."""
    whole = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    if not whole or seed < 0:
        raise ValueError(f"the seed must be a whole number >= 0, not {seed!r}")
    return int(seed)


def initial_weights(rng, n_out: int, n_in: int, activation: str, dtype):
    """Glorot uniform for sigmoid, tanh, linear and softmax; He for ReLU."""
    if activation in ("relu", "leaky_relu"):
        scale = np.sqrt(2.0 / n_in)
        return (rng.standard_normal((n_out, n_in)) * scale).astype(dtype)
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in)).astype(dtype)


class Network:
    """Layer sizes, one activation per layer, weights, biases and masks."""

    def __init__(self, sizes, activations, seed=0, dtype=np.float64):
        sizes = [int(s) if isinstance(s, np.integer) else s for s in sizes]
        check_architecture(sizes, list(activations))
        self.sizes = list(sizes)
        self.activations = list(activations)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(check_seed(seed))
        pairs = zip(sizes[:-1], sizes[1:], activations, strict=True)
        self.weights = [
            initial_weights(rng, n_out, n_in, name, self.dtype)
            for n_in, n_out, name in pairs
        ]
        self.biases = [np.zeros(n, self.dtype) for n in sizes[1:]]
        self.masks = [np.ones_like(w) for w in self.weights]
        self.z: list = []
        self.a: list = []

    @classmethod
    def from_parameters(cls, weights, biases, activations, masks=None, dtype=None):
        """A network holding copies of the given arrays, checked for shape."""
        dtype = check_dtype(np.float64 if dtype is None else dtype)
        weights = [np.array(w, dtype=dtype) for w in weights]
        if any(w.ndim != 2 for w in weights) or not weights:
            raise ValueError("every weight matrix must be two-dimensional")
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        check_architecture(sizes, list(activations))
        net = cls.__new__(cls)
        net.sizes = sizes
        net.activations = list(activations)
        net.dtype = weights[0].dtype
        net.weights = weights
        net.biases = [np.array(b, dtype=net.dtype) for b in biases]
        if masks is None:
            net.masks = [np.ones_like(w) for w in weights]
        else:
            net.masks = [np.array(m, dtype=net.dtype) for m in masks]
        net.z, net.a = [], []
        net._check_shapes()
        for w, m in zip(net.weights, net.masks, strict=True):
            w *= m
        return net

    def _check_shapes(self) -> None:
        for index, (w, b, m) in enumerate(
            zip(self.weights, self.biases, self.masks, strict=True)
        ):
            n_in, n_out = self.sizes[index], self.sizes[index + 1]
            if w.shape != (n_out, n_in):
                raise ValueError(
                    f"layer {index + 1} weights have shape {w.shape}, "
                    f"expected {(n_out, n_in)}"
                )
            if b.shape != (n_out,):
                raise ValueError(
                    f"layer {index + 1} biases have shape {b.shape}, "
                    f"expected {(n_out,)}"
                )
            if m.shape != w.shape:
                raise ValueError(f"layer {index + 1} mask has shape {m.shape}")
            if not np.all((m == 0) | (m == 1)):
                raise ValueError(f"layer {index + 1} mask holds values other than 0, 1")
        if len(self.biases) != len(self.weights):
            raise ValueError("there must be one bias vector per weight matrix")

    @property
    def n_layers(self) -> int:
        """Number of weight layers L (the input layer is not counted)."""
        return len(self.weights)

    @property
    def n_parameters(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def copy(self) -> "Network":
        """A deep copy of the parameters; the forward caches are not copied."""
        return Network.from_parameters(
            self.weights, self.biases, self.activations, self.masks, self.dtype
        )

    def astype(self, dtype) -> "Network":
        return Network.from_parameters(
            self.weights, self.biases, self.activations, self.masks, dtype
        )

    def has_removed_connections(self, layer: int) -> bool:
        return not self.masks[layer].all()

    def forward(self, X):
        """Outputs (n_samples, n_out); keeps every layer's z and a in self.z, self.a."""
        a = np.asarray(X, dtype=self.dtype)
        if a.ndim == 1:
            a = a.reshape(1, -1)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(
                f"inputs of shape {np.shape(X)} do not fit an input layer "
                f"of {self.sizes[0]} neurons"
            )
        self.a = [a]
        self.z = []
        for W, b, name in zip(self.weights, self.biases, self.activations):
            z = a @ W.T  # (n_samples, n_out)
            z += b
            a = activate(name, z)
            self.z.append(z)
            self.a.append(a)
        return a

    def predict(self, X):
        """Outputs for X without touching the kept z and a."""
        a = np.asarray(X, dtype=self.dtype)
        for W, b, name in zip(self.weights, self.biases, self.activations):
            a = activate(name, a @ W.T + b)
        return a

    def gradients(self, X, Y, cost="quadratic", input_sensitivity=True) -> Gradients:
        """Cost and its gradients for the batch (X, Y), by backpropagation."""
        output_activation = self.activations[-1]
        costs.check_cost(cost, output_activation)
        outputs = self.forward(X)
        Y = np.asarray(Y, dtype=self.dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1) if self.sizes[-1] == 1 else Y.reshape(1, -1)
        if Y.shape != outputs.shape:
            raise ValueError(
                f"targets of shape {Y.shape} do not fit outputs of shape "
                f"{outputs.shape}"
            )
        _check_not_empty(Y)
        return self._backward(Y, cost, input_sensitivity)

    def _backward(self, Y, cost, input_sensitivity) -> Gradients:
        L = self.n_layers
        n = len(Y)
        z_out, a_out = self.z[-1], self.a[-1]
        value = costs.cost_value(cost, self.activations[-1], z_out, a_out, Y)

        # the output layer: dC0/da(L) from the cost, dC0/dz(L) through s
        sens = [None] * (L + 1)
        sens[L] = costs.sensitivity(cost, self.activations[-1], a_out, Y)
        delta = costs.output_delta(cost, self.activations[-1], z_out, a_out, Y)

        # chain rule in reverse order, one layer at a time
        deltas = [None] * L
        dW = [None] * L
        db = [None] * L
        for l in range(L - 1, -1, -1):
            deltas[l] = delta
            grad = delta.T @ self.a[l]  # (n_out, n_in)
            grad *= 1.0 / n
            if not self.masks[l].all():
                grad *= self.masks[l]
            dW[l] = grad
            db[l] = delta.mean(axis=0)
            if l == 0 and not input_sensitivity:
                break
            sens[l] = delta @ self.weights[l]  # (n_samples, n_in)
            if l > 0:
                delta = backward_through(
                    self.activations[l - 1], self.z[l - 1], self.a[l], sens[l]
                )
        return Gradients(value, dW, db, sens, deltas)

    def cost(self, X, Y, cost="quadratic") -> float:
        """The batch cost without gradients and without touching z and a."""
        costs.check_cost(cost, self.activations[-1])
        a = np.asarray(X, dtype=self.dtype)
        z = a
        for W, b, name in zip(self.weights, self.biases, self.activations):
            z = a @ W.T + b
            a = activate(name, z)
        Y = np.asarray(Y, dtype=self.dtype).reshape(a.shape)
        _check_not_empty(Y)
        return costs.cost_value(cost, self.activations[-1], z, a, Y)

    def __repr__(self) -> str:
        layers = "-".join(str(s) for s in self.sizes)
        return f"Network({layers}, {', '.join(self.activations)})"


def _check_not_empty(Y) -> None:
    """The cost is a mean over examples: it needs at least one."""
    if len(Y) == 0:
        raise ValueError("the cost needs at least one example; the batch is empty")
