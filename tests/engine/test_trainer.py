"""The trainer: steps, epochs, history, divergence, stop, reset, edits."""

import threading
import time

import numpy as np
import pytest

from backprop_lab.engine import (
    CostHistory,
    Network,
    Trainer,
    TrainingSettings,
    make_dataset,
)


def _data(rng, n=40, n_in=2, n_out=1):
    X = rng.normal(size=(n, n_in))
    Y = (rng.random((n, n_out)) > 0.5).astype(float)
    return X, Y


def _max_diff(first, second):
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    "activations, cost",
    [
        (["tanh", "tanh", "sigmoid"], "quadratic"),
        (["relu", "leaky_relu", "sigmoid"], "cross_entropy"),
        (["sigmoid", "linear", "linear"], "quadratic"),
        (["tanh", "relu", "softmax"], "cross_entropy"),
        (["leaky_relu", "sigmoid", "softmax"], "quadratic"),
    ],
)
def test_one_step_equals_backprop_gradients_and_sgd_update(activations, cost):
    rng = np.random.default_rng(1)
    n_out = 3 if activations[-1] == "softmax" else 1
    X, Y = _data(rng, n_out=n_out)
    if n_out == 3:
        Y = np.eye(3)[rng.integers(0, 3, len(X))]
    net = Network([2, 5, 4, n_out], activations, seed=3)
    reference = net.copy()
    trainer = Trainer(net, X, Y, cost=cost, batch_size=8, learning_rate=0.3)

    trainer.step()

    rows = trainer.last_batch_indices
    expected = reference.gradients(X[rows], Y[rows], cost)
    got = trainer.last_gradients
    assert got.cost == pytest.approx(expected.cost, rel=1e-12)
    assert _max_diff(got.weights, expected.weights) < 1e-12
    assert _max_diff(got.biases, expected.biases) < 1e-12
    assert _max_diff(got.deltas, expected.deltas) < 1e-12
    assert _max_diff(got.activations[1:], expected.activations[1:]) < 1e-12
    moved = [w - 0.3 * g for w, g in zip(reference.weights, expected.weights)]
    assert _max_diff(net.weights, moved) < 1e-12


def test_full_batch_goes_in_order_and_counts_an_epoch_per_step():
    rng = np.random.default_rng(2)
    X, Y = _data(rng, n=12)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, batch_size=12)
    trainer.step(3)
    assert trainer.steps == 3 and trainer.epochs == 3
    assert np.array_equal(trainer.last_batch_indices, np.arange(12))


def test_minibatches_visit_every_example_once_per_epoch():
    rng = np.random.default_rng(3)
    X, Y = _data(rng, n=25)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, batch_size=10)
    seen = []
    for _ in range(3):
        trainer.step()
        seen.append(trainer.last_batch_indices.copy())
    assert [len(s) for s in seen] == [10, 10, 5]
    assert sorted(np.concatenate(seen)) == list(range(25))
    assert trainer.epochs == 1
    trainer.step()
    assert trainer.epochs == 1 and trainer.steps == 4


def test_history_has_every_step_norms_and_a_test_cost_every_test_every():
    rng = np.random.default_rng(4)
    X, Y = _data(rng)
    net = Network([2, 4, 3, 1], ["tanh", "tanh", "sigmoid"])
    trainer = Trainer(net, X, Y, X_test=X[:10], Y_test=Y[:10], test_every=5)
    last = trainer.step(23)
    history = trainer.history
    assert list(history.steps) == list(range(1, 24))
    assert history.train[-1] == last
    assert history.grad_norms.shape == (23, 3)
    assert list(history.test_steps) == [5, 10, 15, 20]
    trainer.step(2)
    expected = trainer.net.cost(X[:10], Y[:10], "quadratic")
    assert history.test[-1] == pytest.approx(expected)


def test_grad_norms_are_norms_of_the_reported_gradients():
    rng = np.random.default_rng(5)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 4, 1], ["relu", "sigmoid"]), X, Y)
    trainer.step(4)
    g = trainer.last_gradients
    expected = [
        np.sqrt((w**2).sum() + (b**2).sum()) for w, b in zip(g.weights, g.biases)
    ]
    assert np.allclose(trainer.history.grad_norms[-1], expected)


def test_history_grows_past_its_first_capacity():
    history = CostHistory(2)
    for step in range(1000):
        history.append(step, float(step), [1.0, 2.0])
    assert len(history) == 1000
    assert history.train[999] == 999.0 and history.grad_norms.shape == (1000, 2)


def test_divergence_on_spiral_keeps_finite_weights_and_says_why():
    data = make_dataset({"kind": "builtin", "name": "spiral", "n_points": 200})
    net = Network([2, 8, 8, 1], ["relu", "relu", "linear"], seed=0)
    trainer = Trainer.from_settings(
        net, data, TrainingSettings(learning_rate=100.0, batch_size=10)
    )
    trainer.step(200)
    assert trainer.diverged is not None
    assert "try a smaller learning rate" in trainer.diverged
    assert f"step {trainer.steps + 1}" in trainer.diverged
    assert trainer.stopped_reason == trainer.diverged
    assert all(np.isfinite(w).all() for w in net.weights)
    assert all(np.isfinite(b).all() for b in net.biases)
    assert np.isfinite(trainer.history.train).all()
    steps = trainer.steps
    trainer.step(5)
    assert trainer.steps == steps

    # the kept weights are exactly those after the last finite step
    twin = Trainer.from_settings(
        Network([2, 8, 8, 1], ["relu", "relu", "linear"], seed=0),
        data, TrainingSettings(learning_rate=100.0, batch_size=10),
    )  # fmt: skip
    twin.step(steps)
    assert twin.diverged is None
    assert _max_diff(net.weights, twin.net.weights) == 0.0
    assert _max_diff(net.biases, twin.net.biases) == 0.0


def test_divergence_is_caught_when_only_the_parameters_overflow():
    net = Network([1, 1], ["linear"])
    net.weights[0][...] = 1.5e308
    trainer = Trainer(net, [[0.0]], [[1.0]], learning_rate=1e308)
    trainer.step(5)
    assert trainer.diverged is not None and "step 1;" in trainer.diverged
    assert net.weights[0][0, 0] == 1.5e308 and net.biases[0][0] == 0.0


def test_huge_but_finite_parameters_are_not_taken_for_divergence():
    net = Network([1, 1], ["linear"])
    net.weights[0][...] = 1.5e308
    net.biases[0][...] = 1.5e308
    trainer = Trainer(net, [[0.0]], [[1.5e308]], learning_rate=0.1)
    trainer.step(3)
    assert trainer.diverged is None and trainer.steps == 3


def test_smaller_learning_rate_after_divergence_lets_training_go_on():
    data = make_dataset({"kind": "builtin", "name": "spiral"})
    net = Network([2, 8, 1], ["tanh", "linear"], seed=0)
    trainer = Trainer.from_settings(net, data, TrainingSettings(learning_rate=100.0))
    trainer.reset()
    trainer.step(100)
    assert trainer.diverged
    trainer.reset()
    trainer.set_settings(TrainingSettings(learning_rate=0.01))
    trainer.step(10)
    assert trainer.diverged is None and trainer.steps == 10


def test_reset_gives_the_same_weights_and_the_same_costs():
    rng = np.random.default_rng(6)
    X, Y = _data(rng)
    net = Network([2, 5, 1], ["tanh", "sigmoid"], seed=4)
    start = [w.copy() for w in net.weights]
    trainer = Trainer(net, X, Y, optimizer="adam", batch_size=7)
    trainer.step(30)
    first_costs = trainer.history.train.copy()
    trainer.reset()
    assert trainer.steps == 0 and trainer.epochs == 0 and len(trainer.history) == 0
    assert trainer.last_gradients is None
    assert _max_diff(net.weights, start) == 0.0
    trainer.step(30)
    assert np.array_equal(trainer.history.train, first_costs)


def test_reinitialize_draws_new_weights_and_keeps_masks():
    rng = np.random.default_rng(7)
    X, Y = _data(rng)
    net = Network([2, 5, 1], ["tanh", "sigmoid"], seed=4)
    net.masks[0][2, 1] = 0.0
    net.weights[0][2, 1] = 0.0
    trainer = Trainer(net, X, Y)
    before = trainer.net.weights[0].copy()
    trainer.reinitialize(99)
    after = trainer.net.weights[0]
    assert not np.allclose(before, after)
    assert after[2, 1] == 0.0
    trainer.step(3)
    trainer.reset()
    assert np.array_equal(trainer.net.weights[0], after)


def test_request_stop_from_another_thread_returns_early():
    rng = np.random.default_rng(8)
    X, Y = _data(rng, n=500)
    trainer = Trainer(Network([2, 16, 1], ["tanh", "sigmoid"]), X, Y)
    stopper = threading.Timer(0.05, trainer.request_stop)
    stopper.start()
    start = time.perf_counter()
    trainer.step(10_000_000)
    stopper.join()
    assert time.perf_counter() - start < 20
    assert 0 < trainer.steps < 10_000_000
    steps = trainer.steps
    trainer.step(2)
    assert trainer.steps == steps + 2


def test_stop_conditions_max_steps_and_target_cost():
    rng = np.random.default_rng(9)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 4, 1], ["tanh", "sigmoid"]), X, Y, max_steps=7)
    trainer.step(100)
    assert trainer.steps == 7 and "maximum of 7 steps" in trainer.stopped_reason
    trainer.set_settings(TrainingSettings(target_cost=1e9))
    trainer.step(100)
    assert trainer.steps == 7 and "target cost" in trainer.stopped_reason
    trainer.reset()
    trainer.step(100)
    assert trainer.steps == 1 and "at step 1" in trainer.stopped_reason


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_removed_connections_stay_zero_through_every_optimizer(optimizer):
    rng = np.random.default_rng(10)
    X, Y = _data(rng)
    net = Network([2, 6, 1], ["tanh", "sigmoid"], seed=1)
    for layer, j, k in [(0, 1, 0), (0, 4, 1), (1, 0, 3)]:
        net.masks[layer][j, k] = 0.0
        net.weights[layer][j, k] = 0.0
    trainer = Trainer(net, X, Y, optimizer=optimizer, l1=0.01, l2=0.01)
    trainer.step(50)
    for w, m in zip(net.weights, net.masks):
        assert np.all(w[m == 0] == 0.0)
        assert np.all(w[m == 1] != 0.0)
    for g, m in zip(trainer.last_gradients.weights, net.masks):
        assert np.all(g[m == 0] == 0.0)


def test_set_network_mid_training_keeps_weights_counters_and_state():
    rng = np.random.default_rng(11)
    X, Y = _data(rng)
    net = Network([2, 4, 1], ["tanh", "sigmoid"])
    trainer = Trainer(net, X, Y, optimizer="momentum")
    trainer.step(10)
    edited = Network.from_parameters(
        [trainer.net.weights[0], np.vstack([trainer.net.weights[1]])],
        trainer.net.biases,
        ["tanh", "sigmoid"],
    )
    edited.weights[1][0, 2] = 0.5
    velocity = trainer._optimizer.velocity.copy()
    trainer.set_network(edited)
    assert trainer.net is edited
    assert edited.weights[1][0, 2] == 0.5
    assert np.array_equal(trainer._optimizer.velocity, velocity)
    trainer.step(1)
    assert trainer.steps == 11 and len(trainer.history) == 11


def test_set_network_with_a_new_shape_resets_only_that_layers_state():
    rng = np.random.default_rng(12)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 4, 1], ["tanh", "sigmoid"]), X, Y, optimizer="adam")
    trainer.step(5)
    first = trainer._optimizer.first.copy()
    trainer.set_network(Network([2, 4, 2], ["tanh", "sigmoid"]))
    kept = trainer._optimizer.first
    assert np.array_equal(kept[:12], first[:12]) and first[:12].any()
    assert not kept[12:].any() and trainer._optimizer.t == 5
    assert trainer.history.grad_norms.shape == (5, 2)
    trainer.set_data(X, np.hstack([Y, 1 - Y]))
    trainer.step(2)
    assert trainer.steps == 2


def test_replaced_network_arrays_are_trained_from_their_new_values():
    rng = np.random.default_rng(13)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y)
    trainer.step()
    trainer.net.weights[0] = np.zeros((3, 2))
    before = trainer.net.copy()
    trainer.step()
    rows = trainer.last_batch_indices
    expected = before.gradients(X[rows], Y[rows]).weights
    moved = [w - 0.1 * g for w, g in zip(before.weights, expected)]
    assert _max_diff(trainer.net.weights, moved) < 1e-14


def test_set_data_starts_the_counters_and_history_over():
    rng = np.random.default_rng(14)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y)
    trainer.step(5)
    trainer.set_data(X[:20], Y[:20])
    assert trainer.steps == 0 and len(trainer.history) == 0
    with pytest.raises(ValueError, match="same"):
        trainer.set_data(X[:20], Y[:10])


def test_mismatched_data_and_network_are_refused_with_a_sentence():
    rng = np.random.default_rng(15)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y)
    trainer.set_network(Network([3, 3, 1], ["tanh", "sigmoid"]))
    with pytest.raises(ValueError, match="3 inputs"):
        trainer.step()


def test_accuracy_for_classification_and_none_for_regression():
    data = make_dataset({"kind": "builtin", "name": "gaussians", "noise": 0.0})
    net = Network([2, 4, 1], ["tanh", "sigmoid"])
    trainer = Trainer.from_settings(net, data, TrainingSettings(learning_rate=1.0))
    trainer.step(300)
    assert trainer.accuracy() > 0.95
    cost, accuracy = trainer.evaluate(data.X_test, data.Y_test)
    assert cost < 0.1 and accuracy > 0.95
    plane = make_dataset({"kind": "builtin", "name": "plane"})
    regression = Trainer.from_settings(
        Network([2, 3, 1], ["tanh", "linear"]), plane, TrainingSettings()
    )
    assert regression.accuracy() is None


def test_accuracy_counts_by_threshold_and_by_largest_output():
    # sigmoid(x): outputs above 0.5 exactly for x > 0
    net = Network.from_parameters([[[1.0]]], [[0.0]], ["sigmoid"])
    X, Y = [[-1.0], [1.0], [2.0], [-3.0]], [[0.0], [0.0], [1.0], [1.0]]
    trainer = Trainer(net, X, Y, task="classification")
    assert trainer.accuracy() == 0.5
    # identity weights: the largest output is the largest input
    net3 = Network.from_parameters([np.eye(3)], [np.zeros(3)], ["softmax"])
    X3 = [[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 5.0]]
    Y3 = np.eye(3)[[0, 2, 2]]
    assert Trainer(net3, X3, Y3).accuracy() == pytest.approx(2 / 3)


def test_float32_network_trains_in_float32():
    data = make_dataset({"kind": "builtin", "name": "xor"})
    net = Network([2, 8, 1], ["tanh", "sigmoid"], dtype=np.float32)
    trainer = Trainer.from_settings(net, data, TrainingSettings(learning_rate=0.5))
    first = trainer.step()
    trainer.step(200)
    assert net.weights[0].dtype == np.float32
    assert trainer.last_gradients.weights[0].dtype == np.float32
    assert trainer.history.train[-1] < first


def test_settings_round_trip_and_refuse_bad_values():
    settings = TrainingSettings(optimizer="adam", max_steps=50, target_cost=0.01)
    assert TrainingSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="learning_rate"):
        TrainingSettings.from_dict({"learning_rate": -1})
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainingSettings.from_dict({"speed": 1})
    with pytest.raises(ValueError, match="batch_size"):
        TrainingSettings.from_dict({"batch_size": 2.5})
    with pytest.raises(ValueError, match="cost"):
        TrainingSettings(cost="cross_entropy").validate("linear")


def test_changing_the_optimizer_resets_its_state_and_keeping_it_does_not():
    rng = np.random.default_rng(16)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, optimizer="adam")
    trainer.step(3)
    state = trainer._optimizer
    trainer.set_settings(TrainingSettings(optimizer="adam", learning_rate=0.01))
    assert trainer._optimizer is state and state.learning_rate == 0.01
    trainer.set_settings(TrainingSettings(optimizer="momentum"))
    assert not trainer._optimizer.velocity.any()


def test_a_connection_removed_mid_training_stays_zero_despite_adam_state():
    from backprop_lab.engine import edits

    rng = np.random.default_rng(17)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 4, 1], ["tanh", "sigmoid"]), X, Y, optimizer="adam")
    trainer.step(20)
    assert trainer._optimizer.first.any()
    trainer.set_network(edits.remove_connection(trainer.net, 0, 2, 1))
    trainer.step(20)
    assert trainer.net.weights[0][2, 1] == 0.0
    assert trainer.last_gradients.weights[0][2, 1] == 0.0


def test_network_and_settings_can_change_in_either_order():
    rng = np.random.default_rng(18)
    X, Y = _data(rng)
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    trainer = Trainer(net, X, Y, cost="cross_entropy")
    trainer.set_network(Network([2, 3, 1], ["tanh", "linear"]))
    with pytest.raises(ValueError, match="cross-entropy"):
        trainer.step()
    trainer.set_settings(TrainingSettings(cost="quadratic"))
    trainer.step()
    assert trainer.steps == 1


def test_set_data_takes_the_task_or_guesses_it():
    rng = np.random.default_rng(19)
    X, Y = _data(rng)
    trainer = Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y)
    assert trainer.task == "classification"
    trainer.set_data(X, Y * 0.5 + 0.2)
    assert trainer.task == "regression" and trainer.accuracy() is None
    trainer.set_data(X, Y, task="regression")
    assert trainer.task == "regression"


def test_divergence_raises_no_warning_and_no_exception():
    import warnings

    data = make_dataset({"kind": "builtin", "name": "spiral"})
    net = Network([2, 8, 8, 1], ["tanh", "tanh", "linear"], seed=1)
    settings = TrainingSettings(learning_rate=100.0, optimizer="momentum")
    trainer = Trainer.from_settings(net, data, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.step(500)
    assert trainer.diverged is not None
    assert all(np.isfinite(w).all() for w in trainer.net.weights)


def _saved_run(n_steps=7, batch_size=4):
    """A trained run's history, and a fresh trainer on the same network."""
    rng = np.random.default_rng(9)
    X, Y = _data(rng, n=10)
    X_test, Y_test = _data(rng, n=6)
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=2)
    first = Trainer(
        net.copy(), X, Y, batch_size=batch_size, X_test=X_test, Y_test=Y_test,
        test_every=3,
    )  # fmt: skip
    first.step(n_steps)
    fresh = Trainer(
        first.net.copy(), X, Y, batch_size=batch_size, X_test=X_test,
        Y_test=Y_test, test_every=3,
    )  # fmt: skip
    return first, fresh


def test_restored_history_counts_on_from_the_saved_steps():
    first, fresh = _saved_run()
    fresh.restore_history(first.history.copy())
    assert fresh.steps == 7
    # 10 examples in batches of 4 make 3 steps an epoch: 7 steps finish 2
    assert fresh.epochs == first.epochs == 2

    fresh.step(3)
    np.testing.assert_array_equal(fresh.history.steps, np.arange(1, 11))
    np.testing.assert_array_equal(fresh.history.train[:7], first.history.train)
    np.testing.assert_array_equal(fresh.history.test_steps, [3, 6, 9])
    assert fresh.history.grad_norms.shape == (10, 2)
    assert fresh.steps == 10 and fresh.epochs == 3


def test_restore_history_copies_and_takes_explicit_counters():
    first, fresh = _saved_run()
    saved = first.history
    fresh.restore_history(saved, steps=20, epochs=5)
    fresh.step()
    assert (fresh.steps, fresh.epochs) == (21, 5)
    assert fresh.history.steps[-1] == 21
    assert len(saved) == 7, "the saved history must not grow"


def test_restore_history_of_none_starts_from_the_given_step():
    first, fresh = _saved_run()
    fresh.restore_history(None, steps=4)
    fresh.step()
    assert fresh.history.steps.tolist() == [5]


def test_restore_history_refuses_counters_that_go_backwards_or_are_not_whole():
    first, fresh = _saved_run()
    with pytest.raises(ValueError, match="reaches step 7"):
        fresh.restore_history(first.history, steps=3)
    for bad in (-1, 2.5, "3", True, float("nan")):
        with pytest.raises(ValueError, match="epochs must be a whole number"):
            fresh.restore_history(first.history, epochs=bad)


def test_restored_run_stops_at_max_steps_counted_from_the_saved_steps():
    first, fresh = _saved_run()
    fresh.set_settings(TrainingSettings(batch_size=4, max_steps=9, test_every=3))
    fresh.restore_history(first.history)
    fresh.step(10)
    assert fresh.steps == 9
    assert "maximum of 9 steps" in fresh.stopped_reason


def test_restored_history_takes_the_network_s_number_of_layers():
    history = CostHistory.from_arrays([1, 2], [0.5, 0.4], grad_norms=np.ones((2, 4)))
    _, fresh = _saved_run()
    fresh.restore_history(history)
    fresh.step()
    assert fresh.history.grad_norms.shape == (3, 2)
    assert np.isfinite(fresh.history.grad_norms).all()


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("learning_rate", 0.0, "learning_rate must be a finite number greater than 0"),
        ("learning_rate", -0.5, "greater than 0, not -0.5"),
        ("learning_rate", float("nan"), "learning_rate must be a finite number"),
        ("batch_size", 0, "batch_size must be at least 1, not 0"),
        ("test_every", 0, "test_every must be at least 1, not 0"),
        ("seed", -1, "seed must be at least 0, not -1"),
        ("momentum", 1.0, "momentum must be at least 0 and below 1, not 1.0"),
        ("l2", -0.1, "l2 must be a finite number at least 0, not -0.1"),
    ],
)
def test_each_bad_setting_is_refused_naming_its_field(field, value, words):
    rng = np.random.default_rng(20)
    X, Y = _data(rng)
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    with pytest.raises(ValueError, match=words):
        Trainer(net, X, Y, **{field: value})
    with pytest.raises(ValueError, match=words):
        TrainingSettings.from_dict({field: value})


def test_a_batch_larger_than_the_data_is_the_full_batch():
    rng = np.random.default_rng(21)
    X, Y = _data(rng, n=6)
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    reference = net.copy()
    trainer = Trainer(net, X, Y, batch_size=1000, learning_rate=0.5)
    trainer.step()
    assert trainer.last_batch_indices.tolist() == list(range(6))
    assert trainer.epochs == 1
    expected = reference.gradients(X, Y).weights[0]
    np.testing.assert_allclose(
        net.weights[0], reference.weights[0] - 0.5 * expected, rtol=0, atol=1e-14
    )


def test_zero_steps_do_nothing_and_a_negative_count_is_refused():
    rng = np.random.default_rng(22)
    X, Y = _data(rng)
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    before = net.copy()
    trainer = Trainer(net, X, Y)
    trainer.step(0)
    assert trainer.steps == 0 and len(trainer.history) == 0
    assert _max_diff(net.weights, before.weights) == 0.0
    for bad in (-1, 2.5, None):
        with pytest.raises(ValueError, match="number of steps must be a whole"):
            trainer.step(bad)


def test_the_digits_with_a_two_input_network_are_refused_with_a_sentence():
    digits = make_dataset({"kind": "digits"})
    trainer = Trainer.from_settings(
        Network([2, 3, 1], ["tanh", "sigmoid"]), digits, TrainingSettings()
    )
    message = (
        "the data has 64 inputs and 10 targets; the network has 2 inputs and 1 output$"
    )
    with pytest.raises(ValueError, match=message):
        trainer.step()
    assert trainer.steps == 0


def test_softmax_output_with_the_quadratic_cost_trains():
    data = make_dataset({"kind": "digits", "seed": 2})
    net = Network([64, 10], ["softmax"], seed=3)
    trainer = Trainer.from_settings(
        net, data, TrainingSettings(cost="quadratic", learning_rate=1.0, batch_size=64)
    )
    before = trainer.train_cost
    trainer.step(100)
    assert trainer.diverged is None
    assert trainer.train_cost < 0.7 * before
    assert trainer.accuracy() > 0.5


def test_an_unknown_task_is_refused_with_a_sentence():
    rng = np.random.default_rng(23)
    X, Y = _data(rng)
    with pytest.raises(ValueError, match="'classification' or 'regression'"):
        Trainer(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, task="clustering")


def test_a_thinned_history_keeps_evenly_spaced_rows_with_the_last():
    n = 1001
    history = CostHistory.from_arrays(
        np.arange(1, n + 1), np.linspace(1.0, 0.0, n),
        np.arange(10, n + 1, 10), np.linspace(0.9, 0.1, 100),
        np.arange(2 * n, dtype=float).reshape(n, 2),
    )  # fmt: skip
    thin = history.thinned(11)
    np.testing.assert_array_equal(thin.steps, np.arange(1, n + 1, 100))
    np.testing.assert_array_equal(thin.train, history.train[::100])
    np.testing.assert_array_equal(thin.grad_norms, history.grad_norms[::100])
    assert len(thin.test_steps) == 11 and thin.test_steps[[0, -1]].tolist() == [
        10,
        1000,
    ]
    again = thin.thinned(11)
    np.testing.assert_array_equal(again.steps, thin.steps)
    assert len(history.thinned(5000)) == n
