"""The chain rule of one weight, one bias or one neuron, factor by factor.

For one example the lesson writes

    dC0/dw_jk(l) = a_k(l-1) * s'(z_j(l)) * dC0/da_j(l)
    dC0/db_j(l)  = s'(z_j(l)) * dC0/da_j(l)
    dC0/da_k(l-1) = sum_j w_jk(l) * s'(z_j(l)) * dC0/da_j(l)

and the gradient of a batch is the mean over its examples. The functions here
take every factor from one backward pass of `Network.gradients` (its
sensitivities and deltas, and the network's kept z and a), so their product is
the very number the training step uses. `layer` is a weight layer index,
0 .. L-1; a neuron of weight layer `layer` is an output of `net.weights[layer]`.
Nudges and finite differences run on copies: the caller's arrays never change.
"""

import logging
from dataclasses import dataclass

import numpy as np

from backprop_lab.engine import gradcheck
from backprop_lab.engine.activations import slope as activation_slope
from backprop_lab.engine.gradcheck import relative_error

logger = logging.getLogger(__name__)

# a whole-network check looks at CHECK_MINIMUM .. CHECK_SAMPLE parameters per
# layer, as many as fit CHECK_BUDGET multiply-adds of cost evaluations
CHECK_SAMPLE = 400
CHECK_MINIMUM = 20
CHECK_BUDGET = 2e8


@dataclass(frozen=True)
class BiasExplanation:
    """dC/db_j(l) = s'(z_j(l)) * dC0/da_j(l), per example and for the batch.

    Arrays have shape (n_samples,). `slope` is None for a softmax output,
    whose neurons share one Jacobian: there `delta` (dC0/dz_j) is read
    directly and is not slope * sensitivity.
    """

    layer: int
    j: int
    cost: str
    activation_name: str
    is_output: bool
    z: np.ndarray
    a: np.ndarray
    slope: np.ndarray | None
    sensitivity: np.ndarray
    delta: np.ndarray
    per_example: np.ndarray
    gradient: float
    cost_value: float

    @property
    def n_samples(self) -> int:
        return len(self.delta)


@dataclass(frozen=True)
class WeightExplanation(BiasExplanation):
    """dC/dw_jk(l) = a_k(l-1) * s'(z_j(l)) * dC0/da_j(l), per example and batch.

    `activation` is a_k(l-1) per example. A removed connection (`removed`)
    has gradient 0 whatever its factors are.
    """

    k: int = 0
    activation: np.ndarray | None = None
    weight: float = 0.0
    removed: bool = False


@dataclass(frozen=True)
class NeuronExplanation:
    """dC0/da_j of one neuron and the paths by which it reaches the cost.

    layer: weight layer of the neuron (-1 for an input neuron).
    sensitivity: dC0/da_j per example (n_samples,); mean: its batch mean.
    For a hidden or input neuron, one path per neuron i of the next layer:
    weights (n_next,) w_ij, slopes (n_samples, n_next) s'(z_i) or None for a
    softmax next layer, next_sensitivity dC0/da_i, next_delta dC0/dz_i,
    terms (n_samples, n_next) w_ij * dC0/dz_i, summing over i to sensitivity.
    For an output neuron `is_output` is set, the paths are empty and the
    cost's own form applies: a, y per example and `formula`.
    """

    layer: int
    j: int
    cost: str
    is_output: bool
    sensitivity: np.ndarray
    mean: float
    a: np.ndarray
    y: np.ndarray | None = None
    formula: str = ""
    weights: np.ndarray | None = None
    slopes: np.ndarray | None = None
    next_sensitivity: np.ndarray | None = None
    next_delta: np.ndarray | None = None
    terms: np.ndarray | None = None
    removed: np.ndarray | None = None

    @property
    def term_means(self) -> np.ndarray:
        """Batch mean of each path term, (n_next,)."""
        if self.terms is None:
            return np.zeros(0)
        return self.terms.mean(axis=0)

    def ranked_paths(self, example: int | None = None) -> list:
        """Indices i of the next layer, largest |term| first (batch mean or one)."""
        if self.terms is None:
            return []
        values = self.term_means if example is None else self.terms[example]
        return [int(i) for i in np.argsort(-np.abs(values), kind="stable")]


@dataclass(frozen=True)
class RankedWeight:
    layer: int
    j: int
    k: int
    value: float


@dataclass(frozen=True)
class Nudge:
    """A change dw of one parameter: predicted dC/dw * dw against the actual change."""

    gradient: float
    dw: float
    predicted: float
    actual: float
    cost_before: float
    cost_after: float

    @property
    def error(self) -> float:
        return abs(self.actual - self.predicted)


@dataclass(frozen=True)
class ParameterCheck:
    backprop: float
    numeric: float
    relative_error: float


@dataclass(frozen=True)
class LayerCheck:
    """Largest relative errors of one weight layer's weights and biases."""

    layer: int
    weight_error: float
    bias_error: float
    n_checked: int
    n_weights: int
    n_biases_checked: int = 0


@dataclass(frozen=True)
class Wishes:
    """What each output neuron wants: -dC0/da(L), per example and averaged.

    per_example (n_samples, n_out); mean (n_out,); a and y per example;
    delta: dC0/dz(L) per example, whose batch mean is the output biases'
    gradient dC/db(L), the step all the wishes average into.
    """

    per_example: np.ndarray
    mean: np.ndarray
    a: np.ndarray
    y: np.ndarray
    delta: np.ndarray | None = None

    @property
    def bias_gradient(self) -> np.ndarray:
        """dC/db of the output layer: the batch mean of dC0/dz(L), (n_out,)."""
        return self.delta.mean(axis=0)

    def wanting_up(self) -> np.ndarray:
        """How many examples want each output's activation to rise, (n_out,)."""
        return (self.per_example > 0).sum(axis=0)


def _targets(net, Y, n_samples):
    Y = np.asarray(Y, dtype=net.dtype)
    return Y.reshape(n_samples, net.sizes[-1])


def _backprop(net, X, Y, cost, grads=None):
    """One forward and backward pass; net.z / net.a are then those of X.

    grads: the result of the last `net.gradients(X, Y, cost)` on this very
    network, to reuse that pass (its kept z and a must still be those of X).
    """
    if grads is None:
        grads = net.gradients(X, Y, cost)
    return grads, _targets(net, Y, len(grads.deltas[0]))


def _check_neuron(net, layer: int, j: int, lowest: int = 0) -> None:
    if not lowest <= layer < net.n_layers:
        raise IndexError(f"no weight layer {layer} in a {net.n_layers}-layer network")
    if not 0 <= j < net.sizes[layer + 1]:
        raise IndexError(f"layer {layer + 1} has no neuron {j}")


def explain_bias(
    net, X, Y, layer: int, j: int, cost="quadratic", grads=None
) -> BiasExplanation:
    """The factors of dC/db_j for the batch (X, Y)."""
    _check_neuron(net, layer, j)
    grads, _ = _backprop(net, X, Y, cost, grads)
    return _bias_factors(net, grads, layer, j, cost)


def _bias_factors(net, grads, layer, j, cost) -> BiasExplanation:
    name = net.activations[layer]
    z = net.z[layer][:, j]
    a = net.a[layer + 1][:, j]
    slope = None
    if name != "softmax":
        slope = activation_slope(name, net.z[layer], net.a[layer + 1])[:, j]
    delta = grads.deltas[layer][:, j]
    return BiasExplanation(
        layer=layer,
        j=j,
        cost=cost,
        activation_name=name,
        is_output=layer == net.n_layers - 1,
        z=z.copy(),
        a=a.copy(),
        slope=slope,
        sensitivity=grads.activations[layer + 1][:, j].copy(),
        delta=delta.copy(),
        per_example=delta.copy(),
        gradient=float(grads.biases[layer][j]),
        cost_value=grads.cost,
    )


def explain_weight(
    net, X, Y, layer: int, j: int, k: int, cost="quadratic", grads=None
) -> WeightExplanation:
    """The three factors of dC/dw_jk for the batch (X, Y), and their product."""
    _check_neuron(net, layer, j)
    if not 0 <= k < net.sizes[layer]:
        raise IndexError(f"layer {layer} has no neuron {k}")
    grads, _ = _backprop(net, X, Y, cost, grads)
    bias = _bias_factors(net, grads, layer, j, cost)
    present = float(net.masks[layer][j, k])
    activation = net.a[layer][:, k].copy()
    fields = {name: getattr(bias, name) for name in bias.__dataclass_fields__}
    fields["per_example"] = activation * bias.delta * present
    fields["gradient"] = float(grads.weights[layer][j, k])
    return WeightExplanation(
        **fields,
        k=k,
        activation=activation,
        weight=float(net.weights[layer][j, k]),
        removed=present == 0.0,
    )


def output_formula(cost: str, output_activation: str) -> str:
    """The cost's own dC0/da for an output neuron, in plain text."""
    if cost == "quadratic":
        return "2(a - y)"
    if output_activation == "softmax":
        return "-y / a"
    return "-y / a + (1 - y) / (1 - a)"


def explain_neuron(net, X, Y, layer: int, j: int, cost="quadratic", grads=None):
    """dC0/da_j of neuron j of weight layer `layer` (-1: input) and its paths."""
    _check_neuron(net, layer, j, lowest=-1)
    grads, Y = _backprop(net, X, Y, cost, grads)
    sens = grads.activations[layer + 1][:, j]
    common = {
        "layer": layer,
        "j": j,
        "cost": cost,
        "sensitivity": sens.copy(),
        "mean": float(sens.mean()),
        "a": net.a[layer + 1][:, j].copy(),
    }
    if layer == net.n_layers - 1:
        formula = output_formula(cost, net.activations[-1])
        return NeuronExplanation(
            **common, is_output=True, y=Y[:, j].copy(), formula=formula
        )

    # one path per neuron i of the next layer: w_ij * s'(z_i) * dC0/da_i
    nxt = layer + 1
    weights = net.weights[nxt][:, j].copy()  # (n_next,)
    name = net.activations[nxt]
    slopes = None
    if name != "softmax":
        slopes = activation_slope(name, net.z[nxt], net.a[nxt + 1])
    next_delta = grads.deltas[nxt]  # (n_samples, n_next)
    return NeuronExplanation(
        **common,
        is_output=False,
        weights=weights,
        slopes=slopes,
        next_sensitivity=grads.activations[nxt + 1].copy(),
        next_delta=next_delta.copy(),
        terms=next_delta * weights,
        removed=net.masks[nxt][:, j] == 0,
    )


def rank_weights(
    net, X, Y, cost="quadratic", top: int | None = None, grads=None
) -> list:
    """Weights by |dC/dw| over the batch, largest first, as RankedWeight rows."""
    if grads is None:
        grads = net.gradients(X, Y, cost, input_sensitivity=False)
    layers, flat = [], []
    for layer, grad in enumerate(grads.weights):
        layers.append(np.full(grad.size, layer))
        flat.append(grad.ravel())
    layer_of = np.concatenate(layers)
    values = np.concatenate(flat)
    order = _largest_first(np.abs(values), top)
    rows = []
    for index in order:
        layer = int(layer_of[index])
        offset = index - int(np.searchsorted(layer_of, layer))
        j, k = divmod(int(offset), net.sizes[layer])
        rows.append(RankedWeight(layer, j, k, float(values[index])))
    return rows


def _largest_first(magnitudes, top):
    if top is None or top >= len(magnitudes):
        return np.argsort(-magnitudes, kind="stable")
    part = np.argpartition(-magnitudes, top - 1)[:top]
    return part[np.argsort(-magnitudes[part], kind="stable")]


def wishes(net, X, Y, cost="quadratic", grads=None) -> Wishes:
    """Each output neuron's desired nudge -dC0/da(L), per example and averaged."""
    grads, Y = _backprop(net, X, Y, cost, grads)
    wish = -grads.activations[-1]
    return Wishes(
        wish.copy(), wish.mean(axis=0), net.a[-1].copy(), Y.copy(), grads.deltas[-1]
    )


def _with_parameter(net, layer, j, k, value):
    """A copy of net with one weight (k given) or bias set to value."""
    other = net.copy()
    if k is None:
        other.biases[layer][j] = value
    else:
        other.weights[layer][j, k] = value
    return other


def parameter_value(net, layer, j, k=None) -> float:
    """The value of weight w_jk (k given) or bias b_j of weight layer `layer`."""
    if k is None:
        return float(net.biases[layer][j])
    return float(net.weights[layer][j, k])


def _gradient(net, X, Y, layer, j, k, cost, grads=None) -> float:
    if grads is None:
        grads = net.copy().gradients(X, Y, cost, input_sensitivity=False)
    if k is None:
        return float(grads.biases[layer][j])
    return float(grads.weights[layer][j, k])


def nudge(net, X, Y, layer, j, k, dw, cost="quadratic", grads=None) -> Nudge:
    """Predicted dC/dw * dw against C(w + dw) - C(w); k=None nudges the bias.

    grads: `net.gradients(X, Y, cost)` when already at hand.
    """
    _check_neuron(net, layer, j)
    if k is not None and net.masks[layer][j, k] == 0:
        raise ValueError("a removed connection cannot be nudged; restore it first")
    gradient = _gradient(net, X, Y, layer, j, k, cost, grads)
    before = net.cost(X, Y, cost)
    moved = _with_parameter(net, layer, j, k, parameter_value(net, layer, j, k) + dw)
    after = moved.cost(X, Y, cost)
    return Nudge(gradient, dw, gradient * dw, after - before, before, after)


def nudge_weight(net, X, Y, layer, j, k, dw, cost="quadratic") -> Nudge:
    return nudge(net, X, Y, layer, j, k, dw, cost)


def nudge_bias(net, X, Y, layer, j, db, cost="quadratic") -> Nudge:
    return nudge(net, X, Y, layer, j, None, db, cost)


def numeric_gradient(net, X, Y, layer, j, k=None, cost="quadratic", eps=1e-6):
    """(C(w + eps) - C(w - eps)) / 2 eps on a copy; k=None for the bias."""
    return _central_difference(net.copy(), X, Y, layer, j, k, cost, eps)


def _central_difference(work, X, Y, layer, j, k, cost, eps) -> float:
    """Central difference on `work`, a private network put back as it was."""
    array, index = (
        (work.biases[layer], j) if k is None else (work.weights[layer], (j, k))
    )
    value = array[index]
    array[index] = value + eps
    plus = work.cost(X, Y, cost)
    array[index] = value - eps
    minus = work.cost(X, Y, cost)
    array[index] = value
    return (plus - minus) / (2.0 * eps)


def check_parameter(net, X, Y, layer, j, k=None, cost="quadratic"):
    """Backprop's dC/dw (or dC/db) against central finite differences."""
    _check_neuron(net, layer, j)
    backprop, numeric, error = gradcheck.parameter_check(net, X, Y, cost, layer, j, k)
    return ParameterCheck(backprop, numeric, error)


def check_sample_size(net, n_samples: int, budget: float = CHECK_BUDGET) -> int:
    """Parameters checked per layer, so a whole check costs about `budget`."""
    per_parameter = 2.0 * max(n_samples, 1) * net.n_parameters
    return int(np.clip(budget // per_parameter, CHECK_MINIMUM, CHECK_SAMPLE))


def check_network(net, X, Y, cost="quadratic", eps=1e-6, sample=None):
    """Largest relative error per layer; big layers are checked on a sample.

    sample: parameters checked per layer (weights and biases each); by default
    as many as fit a time budget. A network that fits entirely is checked by
    `gradcheck.gradient_check`, every parameter.
    """
    n_samples = len(np.atleast_2d(np.asarray(X)))
    sample = sample or check_sample_size(net, n_samples)
    widest = max(max(w.size, b.size) for w, b in zip(net.weights, net.biases))
    if widest <= sample:
        return _check_every_parameter(net, X, Y, cost, eps)
    return _check_sample(net, X, Y, cost, eps, sample)


def _check_every_parameter(net, X, Y, cost, eps):
    check = gradcheck.gradient_check(net, X, Y, cost, eps, per_parameter=True)
    return [
        LayerCheck(
            layer=layer,
            weight_error=float(errors.max(initial=0.0)),
            bias_error=float(bias_errors.max()),
            n_checked=int(net.masks[layer].sum()),
            n_weights=errors.size,
            n_biases_checked=bias_errors.size,
        )
        for layer, (errors, bias_errors) in enumerate(
            zip(check.errors, check.bias_errors, strict=True)
        )
    ]


def _check_sample(net, X, Y, cost, eps, sample):
    work = net.astype(np.float64)
    grads = work.gradients(X, Y, cost, input_sensitivity=False)
    rng = np.random.default_rng(0)
    rows = []
    for layer, grad in enumerate(grads.weights):
        present = _sample(rng, np.argwhere(net.masks[layer] != 0), sample)
        biases = _sample(rng, np.arange(net.sizes[layer + 1]), sample)
        weight_errors = [
            _error(work, X, Y, layer, j, k, grad[j, k], cost, eps) for j, k in present
        ]
        bias_errors = [
            _error(work, X, Y, layer, j, None, grads.biases[layer][j], cost, eps)
            for j in biases
        ]
        rows.append(
            LayerCheck(
                layer=layer,
                weight_error=max(weight_errors, default=0.0),
                bias_error=max(bias_errors),
                n_checked=len(present),
                n_weights=grad.size,
                n_biases_checked=len(biases),
            )
        )
    logger.debug("checked a sample of %s parameters per layer", sample)
    return rows


def _sample(rng, items, size):
    if len(items) <= size:
        return items
    return items[np.sort(rng.choice(len(items), size, replace=False))]


def _error(work, X, Y, layer, j, k, backprop, cost, eps) -> float:
    numeric = _central_difference(work, X, Y, layer, j, k, cost, eps)
    return relative_error(float(backprop), numeric)
