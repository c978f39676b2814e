"""The network: layout, initialisation, forward pass, costs, checks."""

import math
import tracemalloc

import by_hand
import numpy as np
import pytest

from backprop_lab.engine import ACTIVATIONS, Network
from backprop_lab.engine.activations import slope
from backprop_lab.engine.network import MAX_LAYER_SIZE, check_architecture

BY_HAND = by_hand.ACTIVATIONS


@pytest.mark.parametrize("hidden", [a for a in ACTIVATIONS if a != "softmax"])
def test_forward_keeps_z_and_a_of_every_layer(hidden):
    rng = np.random.default_rng(0)
    net = Network([3, 5, 4, 2], [hidden, hidden, "softmax"], seed=1)
    for b in net.biases:
        b[:] = rng.normal(size=b.shape)
    X = rng.normal(size=(6, 3))
    outputs = net.forward(X)
    assert outputs.shape == (6, 2)
    assert [w.shape for w in net.weights] == [(5, 3), (4, 5), (2, 4)]
    a = X
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = a @ W.T + b
        a = BY_HAND[net.activations[layer]](z)
        np.testing.assert_allclose(net.z[layer], z, rtol=0, atol=1e-14)
        np.testing.assert_allclose(net.a[layer + 1], a, rtol=0, atol=1e-14)
    assert net.a[0] is not None and np.array_equal(net.a[0], X)
    np.testing.assert_allclose(outputs, a, rtol=0, atol=1e-14)


def test_predict_gives_the_outputs_without_touching_the_kept_values():
    rng = np.random.default_rng(1)
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    X = rng.normal(size=(4, 2))
    net.forward(X)
    kept = [a.copy() for a in net.a]
    other = rng.normal(size=(7, 2))
    np.testing.assert_array_equal(
        net.predict(other), Network.forward(net.copy(), other)
    )
    assert all(np.array_equal(a, b) for a, b in zip(net.a, kept, strict=True))


def test_initialisation_is_glorot_for_tanh_and_he_for_relu():
    glorot = Network([300, 200, 1], ["tanh", "sigmoid"], seed=3).weights[0]
    limit = math.sqrt(6.0 / (300 + 200))
    assert np.abs(glorot).max() <= limit
    assert np.abs(glorot).max() > 0.99 * limit  # uniform up to the bound
    he = Network([400, 300, 1], ["relu", "sigmoid"], seed=3).weights[0]
    assert he.std() == pytest.approx(math.sqrt(2.0 / 400), rel=0.02)
    assert abs(he.mean()) < 0.005
    assert not Network([2, 3, 1], ["tanh", "sigmoid"]).biases[0].any()


def test_the_seed_decides_the_weights():
    def first(seed):
        return Network([4, 6, 2], ["relu", "sigmoid"], seed=seed).weights[0]

    assert np.array_equal(first(5), first(5))
    assert not np.array_equal(first(5), first(6))


def test_float32_networks_compute_in_float32():
    net = Network([3, 4, 2], ["tanh", "softmax"], dtype=np.float32)
    arrays = net.weights + net.biases + net.masks
    assert all(a.dtype == np.float32 for a in arrays)
    assert net.forward(np.ones((2, 3))).dtype == np.float32
    assert net.astype(np.float64).weights[0].dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int32, np.float16, "text"])
def test_other_number_types_are_refused(dtype):
    with pytest.raises(ValueError, match="float64 or float32"):
        Network([2, 1], ["sigmoid"], dtype=dtype)


def test_a_negative_seed_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        Network([2, 1], ["sigmoid"], seed=-1)


def test_from_parameters_copies_and_applies_the_masks():
    weights = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0]])]
    biases = [np.array([0.5, -0.5]), np.array([1.0])]
    masks = [np.array([[1.0, 0.0], [1.0, 1.0]]), np.ones((1, 2))]
    net = Network.from_parameters(weights, biases, ["relu", "linear"], masks)
    assert net.sizes == [2, 2, 1]
    assert net.weights[0][0, 1] == 0.0 and weights[0][0, 1] == 2.0
    weights[1][0, 0] = 99.0
    assert net.weights[1][0, 0] == 5.0
    # relu([1*1 + 0.5, 3*1 + 4*1 - 0.5]) = [1.5, 6.5]; 5*1.5 + 6*6.5 + 1 = 47.5
    assert net.predict(np.array([[1.0, 1.0]]))[0, 0] == 47.5


@pytest.mark.parametrize(
    "weights, biases, masks, words",
    [
        ([np.ones((2, 3)), np.ones((1, 3))], [np.ones(2), np.ones(1)], None, "3"),
        ([np.ones((2, 3))], [np.ones(3)], None, "bias"),
        ([np.ones((2, 3))], [np.ones(2)], [np.full((2, 3), 2.0)], "other than 0"),
        ([np.ones((2, 3))], [np.ones(2)], [np.ones((3, 2))], "mask"),
    ],
)
def test_from_parameters_refuses_arrays_that_do_not_fit(weights, biases, masks, words):
    with pytest.raises(ValueError, match=words):
        Network.from_parameters(weights, biases, ["sigmoid"] * len(weights), masks)


@pytest.mark.parametrize(
    "sizes, activations, words",
    [
        ([2], [], "at least an input and an output"),
        ([2, 0, 1], ["tanh", "sigmoid"], "at least 1, not 0"),
        ([2, -3, 1], ["tanh", "sigmoid"], "at least 1, not -3"),
        ([2, 2.5, 1], ["tanh", "sigmoid"], "whole numbers, not 2.5"),
        ([2, 3, 1], ["tanh"], "2 layers need 2 activations, not 1"),
        ([2, 3, 1], ["swish", "sigmoid"], "unknown activation 'swish'"),
        ([2, 3, 2], ["softmax", "softmax"], "output layer only"),
        ([2, 3, 1], ["tanh", "softmax"], "at least two neurons"),
        ([2, 50_000, 50_000, 1], ["tanh"] * 3, "more than the"),
    ],
)
def test_bad_architectures_are_refused_with_a_sentence(sizes, activations, words):
    with pytest.raises(ValueError, match=words):
        check_architecture(sizes, activations)
    with pytest.raises(ValueError, match=words):
        Network(sizes, activations)


def test_an_absurd_layer_is_refused_before_anything_is_allocated():
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"more than the {MAX_LAYER_SIZE}"):
            Network([10**9, 10**9, 1], ["tanh", "sigmoid"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_the_quadratic_cost_is_the_mean_over_examples_of_the_sum():
    net = Network.from_parameters([np.eye(2)], [np.zeros(2)], ["linear"])
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    Y = np.array([[0.0, 0.0], [1.0, 1.0]])
    # ((1 + 4) + (1 + 4)) / 2 examples
    assert net.cost(X, Y, "quadratic") == 5.0
    assert net.gradients(X, Y).cost == 5.0


def test_cross_entropy_stays_finite_and_exact_at_saturation():
    # sigmoid output with z = 800 and target 0: C0 = -log(1 - a) = 800
    sig = Network.from_parameters([[[1.0]]], [[0.0]], ["sigmoid"])
    X, Y = np.array([[800.0], [-800.0]]), np.array([[0.0], [1.0]])
    assert sig.cost(X, Y, "cross_entropy") == pytest.approx(800.0, rel=1e-12)
    grads = sig.gradients(X, Y, "cross_entropy")
    assert np.isfinite(grads.weights[0]).all()
    # softmax with z = (1000, 0) and the second class: C0 = 1000
    soft = Network.from_parameters([np.eye(2)], [np.zeros(2)], ["softmax"])
    cost = soft.cost(np.array([[1000.0, 0.0]]), np.array([[0.0, 1.0]]), "cross_entropy")
    assert cost == pytest.approx(1000.0, rel=1e-12)


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "softmax"])
def test_each_slope_is_the_derivative_of_its_activation(name):
    z = np.linspace(-3, 3, 61).reshape(1, -1) + 0.013  # no point on a kink
    h = 1e-6
    numeric = (BY_HAND[name](z + h) - BY_HAND[name](z - h)) / (2 * h)
    got = slope(name, z, BY_HAND[name](z))
    np.testing.assert_allclose(got, numeric, rtol=0, atol=1e-8)


def test_gradients_hold_a_sensitivity_per_neuron_layer_and_example():
    rng = np.random.default_rng(4)
    net = Network([3, 5, 2], ["tanh", "sigmoid"])
    X, Y = rng.normal(size=(7, 3)), rng.random((7, 2))
    grads = net.gradients(X, Y)
    assert [a.shape for a in grads.activations] == [(7, 3), (7, 5), (7, 2)]
    assert [d.shape for d in grads.deltas] == [(7, 5), (7, 2)]
    np.testing.assert_allclose(grads.activations[-1], 2 * (net.a[-1] - Y))
    np.testing.assert_allclose(grads.biases[0], grads.deltas[0].mean(axis=0))


def test_a_copy_is_independent():
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    twin = net.copy()
    twin.weights[0][0, 0] += 1.0
    twin.masks[1][0, 0] = 0.0
    assert net.weights[0][0, 0] != twin.weights[0][0, 0]
    assert net.masks[1][0, 0] == 1.0
