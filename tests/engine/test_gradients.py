"""Backpropagation against finite differences over random architectures."""

import by_hand
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_lab.engine import (
    HIDDEN_ACTIVATIONS,
    Network,
    Trainer,
    gradient_check,
    parameter_check,
)

KINKED = ("relu", "leaky_relu")


@st.composite
def problems(draw):
    """A network with some removed connections, a batch and a cost that fits."""
    depth = draw(st.integers(1, 5))
    sizes = [draw(st.integers(1, 5)) for _ in range(depth + 1)]
    hidden = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(depth - 1)]
    output = draw(st.sampled_from(HIDDEN_ACTIVATIONS + ("softmax",)))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    costs = ["quadratic"]
    if output in ("sigmoid", "softmax"):
        costs.append("cross_entropy")
    cost = draw(st.sampled_from(costs))
    batch = draw(st.integers(1, 64))
    seed = draw(st.integers(0, 2**16))

    rng = np.random.default_rng(seed)
    net = Network(sizes, hidden + [output], seed=seed)
    for w, b, m in zip(net.weights, net.biases, net.masks):
        m[...] = rng.random(m.shape) > 0.25
        w *= m
        b[...] = rng.normal(0.0, 0.5, b.shape)
    X = rng.normal(size=(batch, sizes[0]))
    if output == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    elif cost == "cross_entropy":
        Y = (rng.random((batch, sizes[-1])) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(batch, sizes[-1]))

    # finite differences have no meaning at a kink of relu or leaky relu
    net.forward(X)
    for z, name in zip(net.z, net.activations):
        assume(name not in KINKED or np.abs(z).min() > 1e-4)
    return net, X, Y, cost


@settings(max_examples=60, deadline=None)
@given(problems())
def test_backprop_matches_central_differences(problem):
    net, X, Y, cost = problem
    check = gradient_check(net, X, Y, cost, per_parameter=True)
    assert check.max_error < 1e-5
    for errors, m in zip(check.errors, net.masks):
        assert np.all(errors[m == 0] == 0.0)


@settings(max_examples=60, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_backprop_matches_differences_of_a_cost_computed_here(problem, random):
    net, X, Y, cost = problem
    grads = net.gradients(X, Y, cost)
    params = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    places = [
        (kind, layer, index)
        for kind, arrays in enumerate(params)
        for layer, array in enumerate(arrays)
        for index in np.ndindex(array.shape)
    ]
    eps = 1e-6
    for kind, layer, index in random.sample(places, min(len(places), 12)):
        backprop = (grads.weights, grads.biases)[kind][layer][index]
        if kind == 0 and net.masks[layer][index] == 0:
            assert backprop == 0.0, "a removed connection has gradient 0"
            continue
        array = params[kind][layer]
        value = array[index]
        array[index] = value + eps
        plus = by_hand.cost(*params, net.activations, X, Y, cost)
        array[index] = value - eps
        minus = by_hand.cost(*params, net.activations, X, Y, cost)
        array[index] = value
        numeric = (plus - minus) / (2 * eps)
        assert abs(backprop - numeric) <= 1e-6 * max(1.0, abs(numeric))
    assert grads.cost == pytest.approx(
        by_hand.cost(*params, net.activations, X, Y, cost), rel=1e-12, abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(problems())
def test_a_trainer_step_uses_the_backprop_gradients(problem):
    net, X, Y, cost = problem
    reference = net.copy()
    trainer = Trainer(net, X, Y, cost=cost, batch_size=len(X), learning_rate=0.01)
    trainer.step()
    expected = reference.gradients(X, Y, cost)
    got = trainer.last_gradients
    assert got.cost == pytest.approx(expected.cost, rel=1e-9, abs=1e-12)
    for a, b in zip(got.weights + got.biases, expected.weights + expected.biases):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
    for a, b in zip(got.deltas, expected.deltas):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_gradient_check_finds_a_wrong_gradient(wrong_gradients):
    rng = np.random.default_rng(0)
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    X, Y = rng.normal(size=(5, 2)), rng.random((5, 1))
    assert gradient_check(net, X, Y).max_error < 1e-6
    wrong_gradients(0, 2.0)
    assert gradient_check(net, X, Y).max_error > 0.3


def test_parameter_check_of_one_weight_and_one_bias():
    rng = np.random.default_rng(1)
    net = Network([2, 3, 2], ["sigmoid", "softmax"], seed=2)
    X, Y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 1, 0]]
    backprop, numeric, error = parameter_check(net, X, Y, "cross_entropy", 1, 0, 2)
    assert backprop == pytest.approx(numeric, rel=1e-6) and error < 1e-6
    grads = net.gradients(X, Y, "cross_entropy")
    assert backprop == grads.weights[1][0, 2]
    backprop, numeric, error = parameter_check(net, X, Y, "cross_entropy", 0, 1)
    assert backprop == grads.biases[0][1] and error < 1e-6


def test_gradient_check_of_a_float32_network_runs_in_float64():
    rng = np.random.default_rng(2)
    net = Network([3, 4, 1], ["relu", "linear"], dtype=np.float32)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    assert gradient_check(net, X, Y).max_error < 1e-5
    assert net.weights[0].dtype == np.float32


def test_an_empty_batch_is_refused_with_a_sentence():
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    X, Y = np.zeros((0, 2)), np.zeros((0, 1))
    with pytest.raises(ValueError, match="at least one example"):
        net.gradients(X, Y)
    with pytest.raises(ValueError, match="at least one example"):
        net.cost(X, Y)
    with pytest.raises(ValueError, match="at least one example"):
        gradient_check(net, X, Y)
