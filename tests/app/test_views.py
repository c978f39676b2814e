"""The live views draw what the snapshots carry, cheaply, and export it."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.app.snapshot import Snapshot
from backprop_lab.app.views import (
    ALL_VIEWS,
    CostView,
    DecisionMapView,
    DigitsWeightsView,
    GradientNormView,
    WeightsView,
)
from backprop_lab.app.views.base import DIVERGING, SymmetricLevels, peak_magnitude
from backprop_lab.app.views.decision_map import GRID, contour_segments
from backprop_lab.app.views.history import Envelope
from backprop_lab.app.views.neuron_maps import GAP_INDEX, color_index
from backprop_lab.engine import Network
from backprop_lab.engine.datasets import make_dataset


@pytest.fixture(scope="module")
def spiral():
    return make_dataset({"kind": "builtin", "name": "spiral", "seed": 0})


@pytest.fixture(scope="module")
def plane():
    return make_dataset({"kind": "builtin", "name": "plane", "seed": 0})


@pytest.fixture(scope="module")
def digits():
    return make_dataset({"kind": "digits"})


def train_snapshot(net, data, first_step=0, n_steps=20, cost="quadratic", **extra):
    """Run n_steps of plain gradient descent on net and describe them."""
    costs, norms, test_steps, test_costs = [], [], [], []
    for step in range(first_step + 1, first_step + n_steps + 1):
        grads = net.gradients(data.X_train[:50], data.Y_train[:50], cost)
        for layer in range(net.n_layers):
            net.weights[layer] -= 0.5 * grads.weights[layer]
            net.biases[layer] -= 0.5 * grads.biases[layer]
        costs.append(grads.cost)
        norms.append([np.linalg.norm(g) for g in grads.weights])
        if step % 5 == 0:
            test_steps.append(step)
            test_costs.append(net.cost(data.X_test, data.Y_test, cost))
    fields = dict(
        step=first_step + n_steps,
        epoch=0,
        steps_per_second=100.0,
        running=True,
        network=net.copy(),
        weight_gradients=tuple(g.copy() for g in grads.weights),
        bias_gradients=tuple(g.copy() for g in grads.biases),
        new_steps=np.arange(first_step + 1, first_step + n_steps + 1),
        new_train_costs=np.array(costs),
        new_test_steps=np.array(test_steps, dtype=np.int64),
        new_test_costs=np.array(test_costs),
        new_grad_norms=np.array(norms),
        train_accuracy=0.75 if data.task == "classification" else None,
        test_accuracy=0.7 if data.task == "classification" else None,
    )
    fields.update(extra)
    return Snapshot(**fields)


def history_snapshot(net, steps, costs, norms=None, **extra):
    """A snapshot carrying a given stretch of history and no training."""
    if norms is None:
        norms = np.ones((len(steps), net.n_layers))
    return Snapshot(
        step=int(steps[-1]),
        epoch=0,
        steps_per_second=0.0,
        running=False,
        network=net.copy(),
        new_steps=np.asarray(steps, np.int64),
        new_train_costs=np.asarray(costs, np.float64),
        new_grad_norms=np.asarray(norms, np.float64),
        **extra,
    )


def shown(qtbot, view, dataset):
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_dataset(dataset)
    return view


@pytest.fixture
def spiral_net():
    return Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=1)


# cost


def test_cost_curve_ends_at_the_snapshots_last_cost(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    x, y = view.train_curve.getData()
    assert x[-1] == snapshot.new_steps[-1]
    assert y[-1] == pytest.approx(snapshot.new_train_costs[-1])
    tx, ty = view.test_curve.getData()
    assert ty[-1] == pytest.approx(snapshot.new_test_costs[-1])


def test_cost_history_grows_by_the_snapshots_deltas(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    first = train_snapshot(spiral_net, spiral, 0, 20)
    second = train_snapshot(spiral_net, spiral, 20, 30)
    view.update_snapshot(first)
    view.update_snapshot(second)
    expected = np.concatenate([first.new_train_costs, second.new_train_costs])
    np.testing.assert_allclose(view.train.y[:, 0], expected)
    np.testing.assert_array_equal(view.train.x, np.arange(1, 51))


def test_cost_view_draws_the_mean_of_each_block_of_steps(qtbot, spiral, spiral_net):
    from backprop_lab.app.views.cost import MEAN_OF_STEPS

    view = shown(qtbot, CostView(), spiral)
    costs = np.random.default_rng(3).uniform(0.0, 1.0, 3 * MEAN_OF_STEPS + 7)
    steps = np.arange(1, len(costs) + 1)
    # two snapshots that split a block: the means must not depend on the split
    cut = MEAN_OF_STEPS + 4
    view.update_snapshot(history_snapshot(spiral_net, steps[:cut], costs[:cut]))
    view.update_snapshot(history_snapshot(spiral_net, steps[cut:], costs[cut:]))
    x, y = view.train_mean_curve.getData()
    blocks = costs[: 3 * MEAN_OF_STEPS].reshape(3, MEAN_OF_STEPS)
    np.testing.assert_array_equal(x, steps[MEAN_OF_STEPS - 1 :: MEAN_OF_STEPS][:3])
    np.testing.assert_allclose(y, blocks.mean(axis=1))
    view.update_snapshot(
        history_snapshot(spiral_net, steps[:3], costs[:3], history_reset=True)
    )
    assert len(view.train_mean) == 0


def test_history_reset_starts_the_curves_over(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    norms = shown(qtbot, GradientNormView(), spiral)
    for v in (view, norms):
        v.update_snapshot(train_snapshot(spiral_net.copy(), spiral, 0, 30))
    again = train_snapshot(spiral_net.copy(), spiral, 0, 5, history_reset=True)
    for v in (view, norms):
        v.update_snapshot(again)
    assert len(view.train) == 5
    assert len(view.train_curve.getData()[0]) == 5
    assert len(norms.norms) == 5


def test_reset_empties_the_cost_view(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral))
    view.reset()
    assert len(view.train) == 0
    x, _ = view.train_curve.getData()
    assert x is None or len(x) == 0


def test_log_switch_puts_the_cost_axis_in_log_mode(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral))
    assert not view.plot.getAxis("left").logMode
    view.log_switch.setChecked(True)
    assert view.plot.getAxis("left").logMode
    assert view.train_curve.opts["logMode"][1]
    view.log_switch.setChecked(False)
    assert not view.plot.getAxis("left").logMode


def test_accuracy_shows_for_classification_only(qtbot, spiral, plane, spiral_net):
    classes = shown(qtbot, CostView(), spiral)
    classes.update_snapshot(train_snapshot(spiral_net, spiral))
    assert classes.accuracy_plot.isVisible()
    assert classes.train_accuracy_curve.getData()[1][-1] == pytest.approx(0.75)

    net = Network([2, 4, 1], ["tanh", "linear"])
    numbers = shown(qtbot, CostView(), plane)
    numbers.update_snapshot(train_snapshot(net, plane))
    assert not numbers.accuracy_plot.isVisible()


def test_readout_names_the_step_and_cost_under_the_mouse(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral, 0, 40)
    view.update_snapshot(snapshot)
    qtbot.wait(20)  # the axes follow the new data
    middle = np.mean(view.plot.vb.viewRange()[1])
    view.graphics.scene().sigMouseMoved.emit(
        view.plot.vb.mapViewToScene(pg_point(12.2, middle))
    )
    expected = f"step 12   train cost {snapshot.new_train_costs[11]:.4g}"
    qtbot.waitUntil(lambda: view.readout.text() != "", timeout=1000)
    assert view.readout.text().startswith(expected)
    assert "test cost" in view.readout.text()
    assert view.cursor.isVisible() and view.cursor.value() == 12


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_million_steps_draw_in_a_few_thousand_points_quickly(qtbot, spiral):
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    view = shown(qtbot, CostView(), spiral)
    rng = np.random.default_rng(0)
    n, chunk = 1_000_000, 100_000
    costs = np.exp(-np.arange(n) / 2e5) + 0.05 * rng.random(n)
    for start in range(0, n, chunk):
        steps = np.arange(start + 1, start + chunk + 1)
        view.update_snapshot(history_snapshot(net, steps, costs[start : start + chunk]))
    assert len(view.train) == n

    times = []
    for i in range(5):
        step = n + 10 * i
        snapshot = history_snapshot(net, np.arange(step + 1, step + 11), np.ones(10))
        begun = time.perf_counter()
        view.update_snapshot(snapshot)
        times.append(time.perf_counter() - begun)
    x, y = view.train_curve.getData()
    assert len(x) <= 2 * max(view.plot.vb.width(), 100) + 64
    assert len(x) <= 4000
    assert np.nanmax(y) == pytest.approx(costs.max())
    assert np.nanmin(y) == pytest.approx(costs.min())
    assert np.median(times) < 0.020


def test_zooming_in_draws_the_visible_steps_in_detail(qtbot, spiral):
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    view = shown(qtbot, CostView(), spiral)
    n = 100_000
    view.update_snapshot(
        history_snapshot(net, np.arange(1, n + 1), np.sin(np.arange(n)))
    )
    view.plot.setXRange(1000, 1100, padding=0)
    x, _ = view.train_curve.getData()
    assert x[0] <= 1000 and x[-1] >= 1100
    assert np.all(np.diff(x) == 1)
    assert len(x) < 200

    view.plot.enableAutoRange()
    qtbot.waitUntil(lambda: view.plot.vb.viewRange()[0][1] >= n, timeout=2000)
    x, _ = view.train_curve.getData()
    assert x[0] == 1 and x[-1] == n


# the envelope behind the curves


def test_envelope_keeps_every_buckets_extremes():
    rng = np.random.default_rng(3)
    envelope = Envelope(2)
    y = rng.normal(size=(50_003, 2))
    for start in range(0, len(y), 7_001):
        rows = y[start : start + 7_001]
        envelope.append(np.arange(start, start + len(rows)), rows)
    x_out, y_out = envelope.points(300)
    assert len(x_out) <= 600
    np.testing.assert_allclose(np.nanmax(y_out, axis=0), y.max(axis=0))
    np.testing.assert_allclose(np.nanmin(y_out, axis=0), y.min(axis=0))
    assert x_out[0] == 0 and x_out[-1] == len(y) - 1
    assert np.all(np.diff(x_out) >= 0)


def test_envelope_of_a_short_history_is_the_history():
    envelope = Envelope(1)
    envelope.append([1, 2, 3], [0.5, np.inf, 0.25])
    x, y = envelope.points(100)
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_array_equal(y[:, 0], [0.5, np.nan, 0.25])


# weights


def test_heatmaps_show_each_layers_weights_with_symmetric_levels(
    qtbot, spiral, spiral_net
):
    view = shown(qtbot, WeightsView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    assert len(view.heatmaps) == 3
    for heatmap, w in zip(view.heatmaps, snapshot.network.weights, strict=True):
        np.testing.assert_array_equal(heatmap.image.image, w)
        low, high = heatmap.image.getLevels()
        assert low == -high and high >= np.abs(w).max()
        assert tuple(heatmap.bar.levels()) == (low, high)


def test_gradient_switch_shows_dC_dW(qtbot, spiral, spiral_net):
    view = shown(qtbot, WeightsView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    view.gradient_switch.setChecked(True)
    for heatmap, g in zip(view.heatmaps, snapshot.weight_gradients, strict=True):
        np.testing.assert_array_equal(heatmap.image.image, g)
        low, high = heatmap.image.getLevels()
        assert low == -high and high >= np.abs(g).max()
    assert "dC/dw_jk" in view.heatmaps[0].plot.titleLabel.text
    view.gradient_switch.setChecked(False)
    np.testing.assert_array_equal(
        view.heatmaps[0].image.image, snapshot.network.weights[0]
    )


def test_heatmap_readout_names_the_weight_under_the_mouse(qtbot, spiral, spiral_net):
    view = shown(qtbot, WeightsView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    qtbot.wait(20)
    box = view.heatmaps[1].plot.vb
    view.graphics.scene().sigMouseMoved.emit(box.mapViewToScene(pg_point(5.5, 3.5)))
    qtbot.waitUntil(lambda: view.readout.text() != "", timeout=1000)
    value = snapshot.network.weights[1][3, 5]
    assert view.readout.text() == f"layer 2: w_jk at j=3, k=5 is {value:.4g}"


def test_levels_hold_still_while_weights_change_a_little(qtbot, spiral, spiral_net):
    view = shown(qtbot, WeightsView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral, 0, 5))
    before = view.heatmaps[1].image.getLevels()
    view.update_snapshot(train_snapshot(spiral_net, spiral, 5, 1))
    assert tuple(view.heatmaps[1].image.getLevels()) == tuple(before)


def test_heatmaps_follow_a_new_number_of_layers(qtbot, spiral, spiral_net):
    view = shown(qtbot, WeightsView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral, 0, 2))
    deeper = Network([2, 8, 8, 8, 1], ["tanh"] * 3 + ["sigmoid"])
    view.update_snapshot(train_snapshot(deeper, spiral, 2, 2))
    assert len(view.heatmaps) == 4


def test_wide_layer_heatmap_is_drawn_quickly(qtbot, digits):
    net = Network([784, 128, 10], ["sigmoid", "softmax"])
    view = shown(qtbot, WeightsView(), digits)
    snapshot = history_snapshot(net, [1], [1.0])
    view.update_snapshot(snapshot)
    begun = time.perf_counter()
    view.update_snapshot(snapshot)
    assert time.perf_counter() - begun < 0.05
    assert view.heatmaps[0].image.image.shape == (128, 784)


# gradient norms


def test_one_norm_curve_per_layer_on_a_log_axis(qtbot, spiral, spiral_net):
    view = shown(qtbot, GradientNormView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    assert view.plot.getAxis("left").logMode
    names = [label.text for _, label in view.legend.items]
    assert names == ["layer 1", "layer 2", "layer 3"]
    for layer, curve in enumerate(view.curves):
        _, log_y = curve.getData()
        assert 10 ** log_y[-1] == pytest.approx(snapshot.new_grad_norms[-1, layer])


def test_a_single_layer_network_gets_its_norm_curve(qtbot, spiral):
    view = shown(qtbot, GradientNormView(), spiral)
    view.update_snapshot(train_snapshot(Network([2, 1], ["sigmoid"]), spiral))
    assert len(view.curves) == 1
    assert len(view.curves[0].getData()[0]) == 20


# decision map


def test_decision_map_is_the_networks_output_on_the_grid(qtbot, spiral, spiral_net):
    view = shown(qtbot, DecisionMapView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    image = view.image.image
    assert image.shape == (GRID, GRID)
    expected = snapshot.network.predict(view.grid)[:, 0].reshape(GRID, GRID)
    np.testing.assert_allclose(image, expected, atol=1e-5)

    # row i, column j of the picture is the grid point (xs[j], ys[i])
    xs, ys = view.axes
    point = np.array([[xs[7], ys[60]]])
    assert image[60, 7] == pytest.approx(
        snapshot.network.predict(point)[0, 0], abs=1e-5
    )
    centre = view.image.mapToParent(pg_point(7.5, 60.5))
    assert (centre.x(), centre.y()) == pytest.approx((xs[7], ys[60]))


def test_decision_map_shows_the_data_points(qtbot, spiral):
    view = shown(qtbot, DecisionMapView(), spiral)
    x, y = view.train_points.getData()
    np.testing.assert_array_equal(x, spiral.X_train[:, 0])
    assert len(view.test_points.getData()[0]) == len(spiral.X_test)


def test_every_neuron_gets_its_own_map(qtbot, spiral, spiral_net):
    view = shown(qtbot, DecisionMapView(), spiral)
    snapshot = train_snapshot(spiral_net, spiral)
    view.update_snapshot(snapshot)
    maps = view.neurons
    assert [v.shape for v in maps.values] == [(GRID, GRID, 8)] * 2 + [(GRID, GRID, 1)]
    net = snapshot.network
    hidden = np.tanh(view.grid @ net.weights[0].T + net.biases[0])
    expected = hidden[:, 3].reshape(GRID, GRID)
    np.testing.assert_allclose(maps.values[0][:, :, 3], expected, atol=1e-5)
    tile = maps.tile_indices(0, 3)
    index = color_index(maps.values[0][:, :, 3], (-1, 1))
    np.testing.assert_array_equal(tile, index)
    assert tile.min() < 127 < tile.max()  # the neuron is negative and positive
    assert maps.mosaic[0, 0] == GAP_INDEX  # the header above layer 1 is clear
    texts = [label.toPlainText() for label in maps.labels]
    assert "layer 1 (tanh)" in texts and "layer 3 (sigmoid)" in texts


def test_neuron_maps_follow_a_new_architecture(qtbot, spiral, spiral_net):
    view = shown(qtbot, DecisionMapView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral, 0, 2))
    wide = Network([2, 30, 1], ["relu", "sigmoid"])
    view.update_snapshot(train_snapshot(wide, spiral, 2, 2))
    assert view.neurons.shown == [12, 1]
    assert any("first 12 of 30" in label.toPlainText() for label in view.neurons.labels)
    low, high = view.neurons.layer_levels(0, view.neurons.values[0])
    assert low == -high and high >= np.abs(view.neurons.values[0]).max()


def test_regression_points_share_the_maps_colour_scale(qtbot, plane):
    net = Network([2, 6, 1], ["tanh", "linear"], seed=1)
    view = shown(qtbot, DecisionMapView(), plane)
    view.update_snapshot(train_snapshot(net, plane))
    low, high = view.image.getLevels()
    assert low == -high and not view.boundary.isVisible()
    highest = int(np.argmax(plane.Y_train[:, 0]))
    brush = view.train_points.data["brush"][highest]
    t = (plane.Y_train[highest, 0] - low) / (high - low)
    expected = DIVERGING.map(np.array([t]), mode="byte")[0]
    assert brush.color().getRgb() == tuple(int(c) for c in expected)


def test_many_classes_colour_the_map_by_the_largest_output(qtbot):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    data = make_stand_in(rng.uniform(-1, 1, (60, 2)), np.eye(3)[labels])
    net = Network([2, 5, 3], ["tanh", "softmax"])
    view = shown(qtbot, DecisionMapView(), data)
    view.update_snapshot(history_snapshot(net, [1], [1.0]))
    rgb = view.image.image
    assert rgb.shape == (GRID, GRID, 3)
    winners = net.predict(view.grid).argmax(axis=1).reshape(GRID, GRID)
    for cls in np.unique(winners):
        colours = rgb[winners == cls]
        assert np.all(colours == colours[0]) or len(np.unique(colours[:, 0])) > 1


def make_stand_in(X, Y):
    from backprop_lab.engine.datasets import Dataset

    half = len(X) // 2
    return Dataset(
        name="stand-in",
        X_train=X[:half],
        Y_train=Y[:half],
        X_test=X[half:],
        Y_test=Y[half:],
        task="classification",
        n_classes=Y.shape[1],
        source={"kind": "test"},
    )


def test_contour_follows_a_straight_boundary():
    xs = ys = np.linspace(-1, 1, 21)
    gx, _ = np.meshgrid(xs, ys)
    x, y = contour_segments(gx, (xs, ys), 0.33)
    assert len(x) == 2 * 20
    np.testing.assert_allclose(x, 0.33)
    assert y.min() == -1 and y.max() == 1


# digits


def test_digit_view_shows_one_8x8_image_per_first_layer_neuron(qtbot, digits):
    net = Network([64, 16, 10], ["sigmoid", "softmax"], seed=2)
    view = shown(qtbot, DigitsWeightsView(), digits)
    view.update_snapshot(train_snapshot(net, digits, 0, 3, cost="cross_entropy"))
    assert len(view.images) == 16
    levels = {tuple(image.getLevels()) for image in view.images}
    assert len(levels) == 1
    low, high = levels.pop()
    assert low == -high
    for j, image in enumerate(view.images):
        assert image.image.shape == (8, 8)
        np.testing.assert_array_equal(image.image, net.weights[0][j].reshape(8, 8))


# what every view shares


def test_views_apply_to_the_data_they_can_show(spiral, plane, digits):
    chain = make_dataset({"kind": "chain"})
    assert DecisionMapView.applies_to(spiral) and DecisionMapView.applies_to(plane)
    assert not DecisionMapView.applies_to(digits)
    assert not DecisionMapView.applies_to(chain)
    assert DigitsWeightsView.applies_to(digits)
    assert not DigitsWeightsView.applies_to(spiral)
    for view in (CostView, WeightsView, GradientNormView):
        assert all(view.applies_to(d) for d in (spiral, digits, chain))
    assert len({view.title for view in ALL_VIEWS}) == len(ALL_VIEWS)


def view_and_data(view_class, spiral, digits):
    if view_class is DigitsWeightsView:
        net = Network([64, 16, 10], ["sigmoid", "softmax"])
        return digits, train_snapshot(net, digits, 0, 2)
    net = Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=1)
    return spiral, train_snapshot(net, spiral, 0, 20)


@pytest.mark.parametrize("view_class", ALL_VIEWS)
def test_every_view_exports_png_and_svg(qtbot, tmp_path, view_class, spiral, digits):
    data, snapshot = view_and_data(view_class, spiral, digits)
    view = shown(qtbot, view_class(), data)
    view.update_snapshot(snapshot)
    view.export_image(tmp_path / "view.png")
    view.export_image(tmp_path / "view.svg")
    assert (tmp_path / "view.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "view.svg").read_bytes()[:2000]
    with pytest.raises(ValueError, match="png or .svg"):
        view.export_image(tmp_path / "view.bmp")


@pytest.mark.parametrize("view_class", ALL_VIEWS)
def test_hidden_view_draws_when_shown(qtbot, view_class, spiral, digits):
    data, snapshot = view_and_data(view_class, spiral, digits)
    view = view_class()
    qtbot.addWidget(view)
    view.set_dataset(data)
    view.update_snapshot(snapshot)
    assert view._stale
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    assert not view._stale


@pytest.mark.parametrize("view_class", ALL_VIEWS)
def test_updates_reuse_the_same_items(qtbot, view_class, spiral, digits):
    data, snapshot = view_and_data(view_class, spiral, digits)
    view = shown(qtbot, view_class(), data)
    view.update_snapshot(snapshot)
    scene = view.graphics.scene()
    before = set(scene.items())
    for _ in range(3):
        view.update_snapshot(snapshot)
    qtbot.wait(10)
    assert set(scene.items()) == before


def test_levels_ignore_values_that_are_not_finite():
    levels = SymmetricLevels()
    low, high = levels.update(peak_magnitude([np.array([0.5, np.nan, -np.inf, -2.0])]))
    assert (low, high) == (-2.5, 2.5)
    assert levels.update(1.0) == (-2.5, 2.5)  # within range: held still
    assert levels.update(0.5) == (-0.625, 0.625)  # far below: shrinks


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 5000),
    chunk=st.integers(1, 700),
    buckets=st.integers(1, 300),
    window=st.one_of(st.none(), st.tuples(st.floats(0, 1), st.floats(0, 1))),
    seed=st.integers(0, 2**16),
)
def test_envelope_bounds_the_visible_steps_with_few_points(
    n, chunk, buckets, window, seed
):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n).cumsum()
    envelope = Envelope(1)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        envelope.append(np.arange(start, stop), y[start:stop])

    x_range = None
    visible = y
    if window is not None:
        low, high = sorted(window)
        x_range = (low * n, high * n)
        visible = y[(np.arange(n) >= x_range[0]) & (np.arange(n) <= x_range[1])]
    x_out, y_out = envelope.points(buckets, x_range)

    assert len(x_out) <= 2 * buckets + 64
    assert np.all(np.diff(x_out) >= 0)
    if visible.size:
        assert np.nanmax(y_out) >= visible.max()
        assert np.nanmin(y_out) <= visible.min()
    assert set(np.round(y_out[:, 0], 12)) <= set(np.round(y, 12))


def test_a_malformed_history_is_skipped_not_raised(qtbot, spiral, spiral_net):
    view = shown(qtbot, CostView(), spiral)
    bad = history_snapshot(spiral_net, [1, 2, 3], [0.5, 0.4])
    view.update_snapshot(bad)
    assert len(view.train) == 0
    view.update_snapshot(history_snapshot(spiral_net, [4, 5], [0.3, 0.2]))
    assert len(view.train) == 2


# drawing paced while training


def test_pacer_draws_one_request_per_turn_at_most_once_per_interval(qtbot):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=1.0)
    drawn = []
    pacer.request("slow", lambda: drawn.append("slow"), 0.2)
    pacer.request("fast", lambda: drawn.append("fast 1"), 0.0)
    pacer.request("fast", lambda: drawn.append("fast 2"), 0.0)  # replaces
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=1000)
    assert sorted(drawn) == ["fast 2", "slow"]
    pacer.request("slow", lambda: drawn.append("slow again"), 0.2)
    qtbot.wait(60)
    assert drawn[-1] != "slow again"  # its interval has not passed
    qtbot.waitUntil(lambda: drawn[-1] == "slow again", timeout=1000)


def test_pacer_rests_in_proportion_to_drawing_and_painting():
    from backprop_lab.app.pacing import DrawPacer, rest_after

    assert rest_after(0.01, duty=0.25) == pytest.approx(0.03)
    assert rest_after(10.0) <= 0.25  # never a long freeze
    pacer = DrawPacer(duty=0.5)
    before = time.perf_counter()
    pacer.add_paint(0.02)
    assert pacer._free_at >= before + 0.02


def test_running_snapshots_wait_for_the_pacer_paused_ones_draw_at_once(
    qtbot, spiral, spiral_net
):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=1.0)
    view = shown(qtbot, CostView(), spiral)
    view.set_pacer(pacer)
    first = train_snapshot(spiral_net, spiral, n_steps=10)
    view.update_snapshot(first)
    assert view._stale and pacer.is_waiting(view)
    assert len(view.train_curve.getData()[0] or []) == 0
    qtbot.waitUntil(lambda: not view._stale, timeout=1000)
    assert view.train_curve.getData()[0][-1] == 10
    paused = train_snapshot(spiral_net, spiral, first_step=10, running=False)
    view.update_snapshot(paused)
    assert not view._stale and not pacer.is_waiting(view)
    assert view.train_curve.getData()[0][-1] == 30


def test_many_running_snapshots_are_drawn_once_with_the_newest(
    qtbot, spiral, spiral_net
):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=1.0)
    view = shown(qtbot, WeightsView(), spiral)
    view.set_pacer(pacer)
    draws = []
    original = view._draw
    view._draw = lambda: (draws.append(view.snapshot.step), original())
    for i in range(5):
        view.update_snapshot(train_snapshot(spiral_net, spiral, first_step=10 * i))
    qtbot.waitUntil(lambda: not view._stale, timeout=1000)
    assert draws == [60]


def test_cost_axes_follow_the_data_but_seldom_move(qtbot, spiral):
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    view = shown(qtbot, CostView(), spiral)
    moves = []
    view.plot.vb.sigRangeChanged.connect(lambda *_: moves.append(1))
    rng = np.random.default_rng(0)
    for i in range(100):
        steps = np.arange(1000 + 20 * i, 1020 + 20 * i)
        view.update_snapshot(history_snapshot(net, steps, 1 + rng.random(20)))
        (x0, x1), (y0, y1) = view.plot.vb.viewRange()
        assert x0 <= 1000 and x1 >= steps[-1] and y0 <= 1.0 and y1 >= 1.0
    assert len(moves) < 30  # about log(2000 / 20) / log(1.25) moves


def test_panning_stops_following_and_auto_range_resumes_it(qtbot, spiral):
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    view = shown(qtbot, CostView(), spiral)
    view.update_snapshot(history_snapshot(net, np.arange(1, 101), np.ones(100)))
    view.plot.setXRange(10, 20, padding=0)
    assert not view.follow.following
    view.update_snapshot(history_snapshot(net, np.arange(101, 201), np.ones(100)))
    assert view.plot.vb.viewRange()[0] == pytest.approx([10, 20])
    view.plot.enableAutoRange()
    assert view.follow.following
    assert view.plot.vb.viewRange()[0][1] >= 200


def test_axes_are_cached_on_screen_but_painted_as_vectors_on_export(
    qtbot, tmp_path, spiral, spiral_net
):
    from PySide6.QtWidgets import QGraphicsItem

    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    view = shown(qtbot, CostView(), spiral)
    view.update_snapshot(train_snapshot(spiral_net, spiral))
    axis = view.plot.getAxis("left")
    assert axis.cacheMode() == cached
    modes = []
    original = view._export
    view._export = lambda *a: (modes.append(axis.cacheMode()), original(*a))
    view.export_image(tmp_path / "cost.svg")
    assert modes == [QGraphicsItem.CacheMode.NoCache]
    assert axis.cacheMode() == cached
    assert b"<text" in (tmp_path / "cost.svg").read_bytes()


def test_the_pacer_closes_the_gate_while_drawing_and_painting_opens_it(qtbot):
    from backprop_lab.app.pacing import DrawingGate, DrawPacer

    gate = DrawingGate(timeout=5.0)
    pacer = DrawPacer(duty=1.0, gate=gate)
    seen = []
    pacer.request("view", lambda: seen.append(gate.is_open()), 0.0)
    qtbot.waitUntil(lambda: bool(seen), timeout=1000)
    assert seen == [False] and not gate.is_open()
    pacer.add_paint(0.001)
    assert gate.is_open()


def test_a_busy_pacer_shares_drawings_in_proportion_to_the_rates_asked(qtbot):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=0.5)
    counts = {"fast": 0, "slow": 0}

    def drawing(key, interval):
        def draw():
            counts[key] += 1
            time.sleep(0.01)  # with the rest, about 50 drawings a second
            pacer.request(key, draw, interval)

        return draw

    pacer.request("fast", drawing("fast", 0.01), 0.01)
    pacer.request("slow", drawing("slow", 0.05), 0.05)
    qtbot.wait(600)
    pacer.cancel("fast")
    pacer.cancel("slow")
    assert counts["slow"] >= 2
    assert counts["fast"] > 2 * counts["slow"]


def test_envelope_takes_many_small_appends_in_one_go_when_read():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(2000, 2))
    x = np.arange(2000)
    at_once, piecewise = Envelope(2), Envelope(2)
    at_once.append(x, y)
    for start in range(0, 2000, 20):
        piecewise.append(x[start : start + 20], y[start : start + 20])
    assert len(piecewise._waiting) == 100  # nothing summarised yet
    for n_buckets in (50, 300, 5000):
        expected, got = at_once.points(n_buckets), piecewise.points(n_buckets)
        assert np.array_equal(expected[0], got[0])
        assert np.array_equal(expected[1], got[1])
    assert not piecewise._waiting and len(piecewise) == 2000


def test_envelope_never_keeps_many_appends_aside():
    from backprop_lab.app.views.history import MAX_WAITING

    envelope = Envelope(1)
    for step in range(3 * MAX_WAITING):
        envelope.append([step], [1.0])
    assert len(envelope._waiting) < MAX_WAITING
    assert len(envelope) == 3 * MAX_WAITING
