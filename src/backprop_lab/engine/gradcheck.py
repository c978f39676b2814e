"""Backpropagation checked against central finite differences.

The numeric slope of the cost along one parameter p is
(C(p + eps) - C(p - eps)) / (2 eps). The relative error between it and the
backpropagated gradient g is |g - n| / max(|g|, |n|, FLOOR): the floor keeps
the rounding noise of gradients that are nearly zero from counting as error.
The check always runs in float64, on a copy of the network.
"""

from dataclasses import dataclass

import numpy as np

from backprop_lab.engine import costs
from backprop_lab.engine.activations import activate

# gradients smaller than this are compared in absolute terms
FLOOR = 1e-3


@dataclass(frozen=True)
class GradientCheck:
    """Result of a gradient check.

    max_error: the largest relative error over every parameter.
    errors, bias_errors: per weight layer, arrays shaped like the weights and
        biases (0 on removed connections), or None unless asked for.
    """

    max_error: float
    errors: list | None = None
    bias_errors: list | None = None


def relative_error(backprop: float, numeric: float) -> float:
    return abs(backprop - numeric) / max(abs(backprop), abs(numeric), FLOOR)


def _prepare(net, X, Y):
    net64 = net.astype(np.float64)
    X = np.asarray(X, np.float64)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    Y = np.asarray(Y, np.float64)
    if Y.ndim == 1 and len(X):
        Y = Y.reshape(len(X), -1)
    return net64, X, Y


class _Probe:
    """Costs of a network with one parameter nudged, in float64.

    Nudging w_jk(l) by e changes only z_j(l), by e * a_k(l-1), and a bias b_j
    moves z_j(l) by e; so the forward pass is cached and only the layers from
    l on are run again for each nudge.
    """

    def __init__(self, net, X, Y, cost):
        self.net, self.Y, self.cost = net, Y, cost
        net.forward(X)
        self.z, self.a = net.z, net.a

    def cost_with(self, layer: int, j: int, shift) -> float:
        """The cost when z_j of `layer` moves by `shift` (scalar or per example)."""
        net = self.net
        z = self.z[layer].copy()
        z[:, j] += shift
        a = activate(net.activations[layer], z)
        for W, b, name in zip(
            net.weights[layer + 1 :],
            net.biases[layer + 1 :],
            net.activations[layer + 1 :],
        ):
            z = a @ W.T + b
            a = activate(name, z)
        return costs.cost_value(self.cost, net.activations[-1], z, a, self.Y)

    def weight_slope(self, layer: int, j: int, k: int, eps: float) -> float:
        inputs = self.a[layer][:, k]
        plus = self.cost_with(layer, j, eps * inputs)
        minus = self.cost_with(layer, j, -eps * inputs)
        return (plus - minus) / (2.0 * eps)

    def bias_slope(self, layer: int, j: int, eps: float) -> float:
        plus = self.cost_with(layer, j, eps)
        minus = self.cost_with(layer, j, -eps)
        return (plus - minus) / (2.0 * eps)


def gradient_check(
    net, X, Y, cost="quadratic", eps=1e-6, per_parameter=False
) -> GradientCheck:
    """Compare dC/dW and dC/db from backprop with finite differences."""
    net64, X, Y = _prepare(net, X, Y)
    grads = net64.gradients(X, Y, cost, input_sensitivity=False)
    probe = _Probe(net64, X, Y, cost)
    weight_errors, bias_errors = [], []
    for layer, (b, M) in enumerate(zip(net64.biases, net64.masks)):
        errors = np.zeros(M.shape)
        for j, k in zip(*np.nonzero(M)):
            numeric = probe.weight_slope(layer, j, k, eps)
            errors[j, k] = relative_error(grads.weights[layer][j, k], numeric)
        b_errors = np.zeros(b.shape)
        for j in range(len(b)):
            numeric = probe.bias_slope(layer, j, eps)
            b_errors[j] = relative_error(grads.biases[layer][j], numeric)
        weight_errors.append(errors)
        bias_errors.append(b_errors)
    largest = max(
        max(e.max(initial=0.0), b.max()) for e, b in zip(weight_errors, bias_errors)
    )
    if not per_parameter:
        return GradientCheck(float(largest))
    return GradientCheck(float(largest), weight_errors, bias_errors)


def parameter_check(net, X, Y, cost, layer, j, k=None, eps=1e-6) -> tuple:
    """(backprop, numeric, relative error) for w_jk of `layer`, or b_j if k is None."""
    net64, X, Y = _prepare(net, X, Y)
    grads = net64.gradients(X, Y, cost, input_sensitivity=False)
    probe = _Probe(net64, X, Y, cost)
    if k is None:
        backprop = float(grads.biases[layer][j])
        numeric = probe.bias_slope(layer, j, eps)
    else:
        backprop = float(grads.weights[layer][j, k])
        if net64.masks[layer][j, k] == 0:
            return backprop, 0.0, 0.0
        numeric = probe.weight_slope(layer, j, k, eps)
    return backprop, float(numeric), relative_error(backprop, numeric)
