"""The chain-rule breakdown agrees with backprop, by hand and by differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.engine import Network
from backprop_lab.engine.activations import HIDDEN_ACTIVATIONS
from backprop_lab.engine.explain import (
    CHECK_MINIMUM,
    CHECK_SAMPLE,
    check_network,
    check_parameter,
    check_sample_size,
    explain_bias,
    explain_neuron,
    explain_weight,
    nudge_bias,
    nudge_weight,
    numeric_gradient,
    rank_weights,
    wishes,
)
from backprop_lab.engine.gradcheck import relative_error

OUTPUTS = (
    ("sigmoid", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "quadratic"),
    ("softmax", "cross_entropy"),
    ("tanh", "quadratic"),
    ("linear", "quadratic"),
)


def random_problem(seed, hidden="tanh", output="sigmoid", sizes=(3, 4, 5, 2)):
    rng = np.random.default_rng(seed)
    sizes = list(sizes)
    net = Network(sizes, [hidden] * (len(sizes) - 2) + [output], seed=seed)
    for b in net.biases:
        b[:] = rng.normal(0, 0.5, b.shape)
    X = rng.normal(0, 1, (7, sizes[0]))
    if output == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 7)]
    else:
        Y = rng.uniform(0, 1, (7, sizes[-1]))
    return net, X, Y


def with_removed_connections(net, seed):
    rng = np.random.default_rng(seed)
    masks = [(rng.uniform(size=m.shape) > 0.3).astype(float) for m in net.masks]
    return Network.from_parameters(net.weights, net.biases, net.activations, masks)


def every_weight(net):
    for layer, w in enumerate(net.weights):
        for j, k in np.ndindex(w.shape):
            yield layer, j, k


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "cost"), OUTPUTS)
def test_product_of_factors_is_backprops_weight_gradient(hidden, output, cost):
    net, X, Y = random_problem(1, hidden, output)
    net = with_removed_connections(net, 2)
    grads = net.copy().gradients(X, Y, cost)
    for layer, j, k in every_weight(net):
        ex = explain_weight(net, X, Y, layer, j, k, cost)
        if ex.slope is not None:
            product = ex.activation * ex.slope * ex.sensitivity
        else:
            product = ex.activation * ex.delta
        product = product * net.masks[layer][j, k]
        assert np.allclose(product, ex.per_example, rtol=0, atol=1e-12)
        assert abs(product.mean() - grads.weights[layer][j, k]) < 1e-12
        assert ex.gradient == grads.weights[layer][j, k]
        assert ex.removed == (net.masks[layer][j, k] == 0)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "cost"), OUTPUTS)
def test_bias_factors_multiply_to_backprops_bias_gradient(hidden, output, cost):
    net, X, Y = random_problem(3, hidden, output)
    grads = net.copy().gradients(X, Y, cost)
    for layer, b in enumerate(net.biases):
        for j in range(len(b)):
            ex = explain_bias(net, X, Y, layer, j, cost)
            if ex.slope is not None:
                assert np.allclose(ex.slope * ex.sensitivity, ex.delta, atol=1e-12)
            assert abs(ex.per_example.mean() - grads.biases[layer][j]) < 1e-12


def test_softmax_output_has_no_slope_and_reads_delta_directly():
    net, X, Y = random_problem(4, "relu", "softmax")
    ex = explain_weight(net, X, Y, 2, 1, 0, "cross_entropy")
    assert ex.slope is None
    assert ex.is_output
    assert np.allclose(ex.delta, net.a[-1][:, 1] - Y[:, 1], atol=1e-12)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "cost"), OUTPUTS)
def test_path_terms_sum_to_the_neurons_sensitivity(hidden, output, cost):
    net, X, Y = random_problem(5, hidden, output)
    net = with_removed_connections(net, 6)
    grads = net.copy().gradients(X, Y, cost)
    for layer in range(-1, net.n_layers - 1):
        for j in range(net.sizes[layer + 1]):
            ex = explain_neuron(net, X, Y, layer, j, cost)
            assert not ex.is_output
            sens = grads.activations[layer + 1][:, j]
            assert np.allclose(ex.terms.sum(axis=1), sens, rtol=0, atol=1e-12)
            assert abs(ex.term_means.sum() - ex.mean) < 1e-12
            if ex.slopes is not None:
                product = ex.weights * ex.slopes * ex.next_sensitivity
                assert np.allclose(product, ex.terms, rtol=0, atol=1e-12)


def test_output_neuron_uses_the_costs_own_form():
    net, X, Y = random_problem(7, "tanh", "sigmoid")
    quadratic = explain_neuron(net, X, Y, 2, 1, "quadratic")
    assert quadratic.is_output and quadratic.formula == "2(a - y)"
    assert np.allclose(quadratic.sensitivity, 2 * (quadratic.a - Y[:, 1]))
    entropy = explain_neuron(net, X, Y, 2, 0, "cross_entropy")
    a, y = entropy.a, Y[:, 0]
    assert entropy.formula == "-y / a + (1 - y) / (1 - a)"
    assert np.allclose(entropy.sensitivity, -y / a + (1 - y) / (1 - a))


def test_paths_are_ranked_largest_first():
    net, X, Y = random_problem(8, "sigmoid", "sigmoid", sizes=(2, 3, 6, 1))
    ex = explain_neuron(net, X, Y, 0, 1)
    sizes = np.abs(ex.term_means[ex.ranked_paths()])
    assert list(sizes) == sorted(sizes, reverse=True)
    one = np.abs(ex.terms[3][ex.ranked_paths(3)])
    assert list(one) == sorted(one, reverse=True)


def chain_network():
    """The lesson's chain: one neuron per layer, sigmoid everywhere."""
    weights = [np.array([[0.5]]), np.array([[-1.0]]), np.array([[2.0]])]
    biases = [np.array([0.1]), np.array([0.2]), np.array([-0.3])]
    return Network.from_parameters(weights, biases, ["sigmoid"] * 3)


def test_chain_values_match_the_lesson_worked_by_hand():
    # z1 = 0.5*1 + 0.1 = 0.6            a1 = 1/(1+e^-0.6)   = 0.6456563062
    # z2 = -1*a1 + 0.2 = -0.4456563062  a2 = sigmoid(z2)    = 0.3903940131
    # z3 = 2*a2 - 0.3 = 0.4807880262    a3 = sigmoid(z3)    = 0.6179339384
    # dC/da3 = 2(a3 - y) with y = 0     = 1.2358678768
    # s'(z3) = a3 (1 - a3)              = 0.2360915862
    # dC/dw3 = a2 * s'(z3) * dC/da3     = 0.1139083872
    # dC/da2 = w3 * s'(z3) * dC/da3     = 0.5835560147
    # dC/dw2 = a1 * a2(1-a2) * dC/da2   = 0.0896677597
    # dC/da1 = w2 * a2(1-a2) * dC/da2   = -0.1388784696
    # dC/dw1 = x * a1(1-a1) * dC/da1    = -0.0317732052
    net, X, Y = chain_network(), np.array([[1.0]]), np.array([[0.0]])
    last = explain_weight(net, X, Y, 2, 0, 0)
    assert last.activation[0] == pytest.approx(0.3903940131, abs=1e-10)
    assert last.slope[0] == pytest.approx(0.2360915862, abs=1e-10)
    assert last.sensitivity[0] == pytest.approx(1.2358678768, abs=1e-10)
    assert last.gradient == pytest.approx(0.1139083872, abs=1e-10)
    assert explain_weight(net, X, Y, 1, 0, 0).gradient == pytest.approx(
        0.0896677597, abs=1e-10
    )
    assert explain_weight(net, X, Y, 0, 0, 0).gradient == pytest.approx(
        -0.0317732052, abs=1e-10
    )
    middle = explain_neuron(net, X, Y, 1, 0)
    assert middle.mean == pytest.approx(0.5835560147, abs=1e-10)
    assert explain_neuron(net, X, Y, 0, 0).mean == pytest.approx(
        -0.1388784696, abs=1e-10
    )


def test_chain_values_agree_with_the_formulas_in_floating_point():
    sigmoid = lambda z: 1.0 / (1.0 + math.exp(-z))  # noqa: E731
    a1 = sigmoid(0.6)
    a2 = sigmoid(-a1 + 0.2)
    a3 = sigmoid(2 * a2 - 0.3)
    expected = a2 * a3 * (1 - a3) * 2 * a3
    net, X, Y = chain_network(), np.array([[1.0]]), np.array([[0.0]])
    assert abs(explain_weight(net, X, Y, 2, 0, 0).gradient - expected) < 1e-14


@pytest.mark.parametrize(("output", "cost"), OUTPUTS)
def test_finite_differences_agree_with_the_explained_gradient(output, cost):
    net, X, Y = random_problem(9, "tanh", output)
    for layer, j, k in every_weight(net):
        ex = explain_weight(net, X, Y, layer, j, k, cost)
        numeric = numeric_gradient(net, X, Y, layer, j, k, cost)
        assert relative_error(ex.gradient, numeric) < 1e-6
    check = check_parameter(net, X, Y, 1, 2, None, cost)
    assert check.relative_error < 1e-6
    assert check.backprop == explain_bias(net, X, Y, 1, 2, cost).gradient


def test_whole_network_check_reports_tiny_errors_per_layer():
    net, X, Y = random_problem(10, "sigmoid", "softmax")
    rows = check_network(net, X, Y, "cross_entropy")
    assert [row.layer for row in rows] == [0, 1, 2]
    assert max(max(r.weight_error, r.bias_error) for r in rows) < 1e-6
    assert rows[0].n_checked == net.weights[0].size


def test_big_layers_are_checked_on_a_sample_with_tiny_errors():
    net, X, Y = random_problem(18, "tanh", "sigmoid", sizes=(40, 30, 2))
    rows = check_network(net, X, Y, sample=25)
    assert [(r.n_checked, r.n_biases_checked) for r in rows] == [(25, 25), (25, 2)]
    assert rows[0].n_weights == 1200
    assert max(max(r.weight_error, r.bias_error) for r in rows) < 1e-6


def test_check_sample_size_keeps_the_cost_of_a_check_within_its_budget():
    small, _, _ = random_problem(19)
    big = Network([784, 128, 10], ["sigmoid", "softmax"])
    assert check_sample_size(small, 10) == CHECK_SAMPLE  # all fits: the most
    budget = 2e9
    for n_samples in (100, 200, 400):
        sample = check_sample_size(big, n_samples, budget)
        # each checked parameter runs two forward passes over every example
        work = 2 * n_samples * big.n_parameters * sample
        assert CHECK_MINIMUM < sample < CHECK_SAMPLE
        assert budget / 2 < work <= budget
    assert check_sample_size(big, 10**6, budget) == CHECK_MINIMUM


def test_whole_network_check_finds_a_wrong_gradient(wrong_gradients):
    net, X, Y = random_problem(11, "tanh", "sigmoid")
    wrong_gradients(1, 1.5)
    for sample in (None, 3):
        rows = check_network(net, X, Y, sample=sample)
        assert rows[1].weight_error > 1e-3
        assert rows[0].weight_error < 1e-6


def test_nudge_prediction_matches_to_first_order():
    net, X, Y = random_problem(12, "tanh", "sigmoid")
    errors = [nudge_weight(net, X, Y, 1, 2, 3, dw).error for dw in (1e-1, 1e-2, 1e-3)]
    # first order: the error of dC/dw * dw shrinks like dw squared
    assert errors[1] < errors[0] / 50
    assert errors[2] < errors[1] / 50
    small = nudge_weight(net, X, Y, 1, 2, 3, 1e-4)
    assert small.predicted == pytest.approx(small.actual, rel=1e-3)
    bias = nudge_bias(net, X, Y, 0, 1, -1e-4)
    assert bias.predicted == pytest.approx(bias.actual, rel=1e-3)


def test_nudge_and_checks_never_touch_the_callers_network():
    net, X, Y = random_problem(13, "relu", "sigmoid")
    before = [w.copy() for w in net.weights] + [b.copy() for b in net.biases]
    nudge_weight(net, X, Y, 0, 0, 0, 0.5)
    nudge_bias(net, X, Y, 1, 0, 0.5)
    check_parameter(net, X, Y, 2, 0, 1)
    check_network(net, X, Y)
    after = net.weights + net.biases
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_removed_connection_cannot_be_nudged():
    net, X, Y = random_problem(14)
    net = with_removed_connections(net, 1)
    layer, j, k = next(
        (lay, j, k) for lay, j, k in every_weight(net) if net.masks[lay][j, k] == 0
    )
    with pytest.raises(ValueError, match="removed connection"):
        nudge_weight(net, X, Y, layer, j, k, 0.1)


def test_ranking_lists_every_weight_by_size_of_gradient():
    net, X, Y = random_problem(15, sizes=(3, 6, 4, 2))
    grads = net.copy().gradients(X, Y)
    rows = rank_weights(net, X, Y)
    assert len(rows) == sum(w.size for w in net.weights)
    sizes = [abs(r.value) for r in rows]
    assert sizes == sorted(sizes, reverse=True)
    for row in rows[:10]:
        assert row.value == grads.weights[row.layer][row.j, row.k]
    top = rank_weights(net, X, Y, top=5)
    assert [(r.layer, r.j, r.k) for r in top] == [(r.layer, r.j, r.k) for r in rows[:5]]


def test_wishes_are_minus_the_output_sensitivity_and_average_to_the_step():
    net, X, Y = random_problem(16, "tanh", "sigmoid")
    w = wishes(net, X, Y)
    assert np.allclose(w.per_example, -2 * (w.a - Y))
    assert np.allclose(w.mean, w.per_example.mean(axis=0))
    assert list(w.wanting_up()) == list((Y > w.a).sum(axis=0))
    grads = net.copy().gradients(X, Y)
    assert np.allclose(w.bias_gradient, grads.biases[-1], rtol=0, atol=1e-15)


def test_bad_indices_are_refused():
    net, X, Y = random_problem(17)
    with pytest.raises(IndexError):
        explain_weight(net, X, Y, 3, 0, 0)
    with pytest.raises(IndexError):
        explain_weight(net, X, Y, 0, 4, 0)
    with pytest.raises(IndexError):
        explain_neuron(net, X, Y, -2, 0)


def test_a_reused_backward_pass_gives_the_same_explanation():
    net, X, Y = random_problem(20, "relu", "softmax")
    grads = net.gradients(X, Y, "cross_entropy")
    fresh = explain_weight(net.copy(), X, Y, 1, 2, 3, "cross_entropy")
    reused = explain_weight(net, X, Y, 1, 2, 3, "cross_entropy", grads)
    assert np.array_equal(fresh.per_example, reused.per_example)
    neuron = explain_neuron(net, X, Y, 0, 1, "cross_entropy", grads)
    assert np.allclose(neuron.terms.sum(axis=1), grads.activations[1][:, 1])
    top = rank_weights(net, X, Y, "cross_entropy", top=3, grads=grads)
    assert top == rank_weights(net.copy(), X, Y, "cross_entropy", top=3)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    hidden=st.sampled_from(HIDDEN_ACTIVATIONS),
    seed=st.integers(0, 2**16),
)
def test_any_network_explains_every_weight_and_neuron_exactly(sizes, hidden, seed):
    net, X, Y = random_problem(seed, hidden, "sigmoid", sizes=sizes)
    grads = net.copy().gradients(X, Y)
    for layer, j, k in every_weight(net):
        ex = explain_weight(net, X, Y, layer, j, k)
        product = ex.activation * ex.slope * ex.sensitivity
        assert abs(product.mean() - grads.weights[layer][j, k]) < 1e-12
    for layer in range(-1, net.n_layers - 1):
        for j in range(net.sizes[layer + 1]):
            ex = explain_neuron(net, X, Y, layer, j)
            sens = grads.activations[layer + 1][:, j]
            assert np.allclose(ex.terms.sum(axis=1), sens, rtol=0, atol=1e-12)
