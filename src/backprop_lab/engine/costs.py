"""Costs of a batch: the quadratic cost of the lesson and cross-entropy.

A cost's value is the mean over examples of the per-example cost C0. Its
sensitivity dC0/da is returned per example (not divided by the batch size).
"""

import numpy as np

from backprop_lab.engine.activations import backward_through

COSTS = ("quadratic", "cross_entropy")

# the smallest activation used inside a logarithm or a division
_TINY = 1e-300


def check_cost(cost: str, output_activation: str) -> None:
    """Raise ValueError when the cost cannot be used with that output."""
    if cost not in COSTS:
        raise ValueError(f"unknown cost {cost!r}; use one of {', '.join(COSTS)}")
    if cost == "cross_entropy" and output_activation not in ("sigmoid", "softmax"):
        raise ValueError(
            "cross-entropy needs a sigmoid or softmax output layer, "
            f"not {output_activation}"
        )


def cost_value(cost: str, output_activation: str, z, a, Y) -> float:
    """Mean over the batch of C0; z, a, Y have shape (n_samples, n_out)."""
    if cost == "quadratic":
        diff = a - Y
        return float(np.einsum("ij,ij->", diff, diff) / len(Y))
    if output_activation == "softmax":
        # log softmax by log-sum-exp, so no log(0)
        shifted = z - z.max(axis=1, keepdims=True)
        log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-(Y * log_a).sum() / len(Y))
    # binary cross-entropy from z: log a = -softplus(-z), log(1-a) = -softplus(z)
    softplus_z = np.logaddexp(0.0, z)
    per_entry = Y * (softplus_z - z) + (1.0 - Y) * softplus_z
    return float(per_entry.sum() / len(Y))


def sensitivity(cost: str, output_activation: str, a, Y):
    """dC0/da of the output layer, per example."""
    if cost == "quadratic":
        return 2.0 * (a - Y)
    a_safe = np.maximum(a, _TINY)
    if output_activation == "softmax":
        return -Y / a_safe
    one_minus = np.maximum(1.0 - a, _TINY)
    return -Y / a_safe + (1.0 - Y) / one_minus


def output_delta(cost: str, output_activation: str, z, a, Y):
    """dC0/dz of the output layer, per example.

    For cross-entropy with its matching output the product s'(z) * dC0/da
    simplifies to a - y, which is exact even where a saturates.
    """
    if cost == "cross_entropy":
        return a - Y
    return backward_through(output_activation, z, a, 2.0 * (a - Y))
