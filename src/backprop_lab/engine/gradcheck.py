"""Backpropagation checked against central finite differences.

The numeric slope of the cost along one parameter p is
(C(p + eps) - C(p - eps)) / (2 eps). The relative error between it and the
backpropagated gradient g is |g - n| / max(|g|, |n|, FLOOR): the floor keeps
the rounding noise of gradients that are nearly zero from counting as error.
The check always runs in float64, on a copy of the network.
"""

from dataclasses import dataclass

import numpy as np

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
    Y = np.asarray(Y, np.float64).reshape(len(X), -1)
    return net64, X, Y


def _numeric(net, X, Y, cost, array, index, eps) -> float:
    """Central difference of the cost along array[index]; array is restored."""
    original = array[index]
    array[index] = original + eps
    plus = net.cost(X, Y, cost)
    array[index] = original - eps
    minus = net.cost(X, Y, cost)
    array[index] = original
    return (plus - minus) / (2.0 * eps)


def gradient_check(
    net, X, Y, cost="quadratic", eps=1e-6, per_parameter=False
) -> GradientCheck:
    """Compare dC/dW and dC/db from backprop with finite differences."""
    net64, X, Y = _prepare(net, X, Y)
    grads = net64.gradients(X, Y, cost, input_sensitivity=False)
    weight_errors, bias_errors = [], []
    for layer, (W, b, M) in enumerate(zip(net64.weights, net64.biases, net64.masks)):
        errors = np.zeros(W.shape)
        for index in zip(*np.nonzero(M)):
            numeric = _numeric(net64, X, Y, cost, W, index, eps)
            errors[index] = relative_error(grads.weights[layer][index], numeric)
        b_errors = np.zeros(b.shape)
        for j in range(len(b)):
            numeric = _numeric(net64, X, Y, cost, b, j, eps)
            b_errors[j] = relative_error(grads.biases[layer][j], numeric)
        weight_errors.append(errors)
        bias_errors.append(b_errors)
    largest = max(
        max(e.max(initial=0.0), b.max()) for e, b in zip(weight_errors, bias_errors)
    )
    if not per_parameter:
        return GradientCheck(float(largest))
    return GradientCheck(float(largest), weight_errors, bias_errors)


def parameter_check(net, X, Y, cost, layer, j, k=None) -> tuple:
    """(backprop, numeric, relative error) for w_jk of `layer`, or b_j if k is None."""
    net64, X, Y = _prepare(net, X, Y)
    grads = net64.gradients(X, Y, cost, input_sensitivity=False)
    if k is None:
        backprop = float(grads.biases[layer][j])
        numeric = _numeric(net64, X, Y, cost, net64.biases[layer], j, 1e-6)
    else:
        backprop = float(grads.weights[layer][j, k])
        if net64.masks[layer][j, k] == 0:
            return backprop, 0.0, 0.0
        numeric = _numeric(net64, X, Y, cost, net64.weights[layer], (j, k), 1e-6)
    return backprop, float(numeric), relative_error(backprop, numeric)
