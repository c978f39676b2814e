"""Activation functions s(z) and their slopes s'(z).

Every function works on arrays of shape (n_samples, n_neurons). The slope is
computed from z and from the activation a = s(z) already at hand, whichever is
cheaper, so the backward pass never evaluates s twice.
"""

import numpy as np

LEAKY_SLOPE = 0.01

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax")
HIDDEN_ACTIVATIONS = ACTIVATIONS[:-1]


def sigmoid(z):
    # the tanh form never overflows, for any z
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def activate(name: str, z):
    """a = s(z) for the activation called `name`."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if name == "linear":
        return z.copy()
    if name == "softmax":
        return softmax(z)
    raise ValueError(
        f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}"
    )


def slope(name: str, z, a):
    """s'(z), elementwise. Softmax has no elementwise slope: it raises."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)
    if name == "linear":
        return np.ones_like(z)
    if name == "softmax":
        raise ValueError("softmax has no elementwise slope; use its Jacobian")
    raise ValueError(
        f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}"
    )


def backward_through(name: str, z, a, sensitivity):
    """dC/dz from dC/da for one layer, per example; shapes (n_samples, n)."""
    if name == "softmax":
        # Jacobian-vector product of softmax: a * (g - sum_i g_i a_i)
        return a * (sensitivity - (sensitivity * a).sum(axis=1, keepdims=True))
    return slope(name, z, a) * sensitivity
