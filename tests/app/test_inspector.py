"""The inspector shows the engine's chain-rule numbers and runs the experiments."""

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QTableWidget

from backprop_lab.app.inspector import HELP_HTML, InspectorWidget
from backprop_lab.app.inspector_experiments import Selection
from backprop_lab.app.inspector_text import d_sym, fmt, plain_w
from backprop_lab.engine import Network, explain


class Settings:
    learning_rate = 0.1
    optimizer = "sgd"
    l1 = 0.0
    l2 = 0.0


def known_problem():
    rng = np.random.default_rng(0)
    net = Network([2, 4, 3, 1], ["tanh", "tanh", "sigmoid"], seed=1)
    for b in net.biases:
        b[:] = rng.normal(0, 0.3, b.shape)
    X = rng.normal(size=(10, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    return net, X, Y


def chain_problem():
    weights = [np.array([[0.5]]), np.array([[-1.0]]), np.array([[2.0]])]
    biases = [np.array([0.1]), np.array([0.2]), np.array([-0.3])]
    net = Network.from_parameters(weights, biases, ["sigmoid"] * 3)
    return net, np.array([[1.0]]), np.array([[0.0]])


@pytest.fixture
def inspector(qtbot):
    widget = InspectorWidget()
    qtbot.addWidget(widget)
    widget.resize(420, 700)
    widget.show()
    return widget


def text(widget, name: str) -> str:
    label = widget.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def table(widget, name: str) -> QTableWidget:
    found = widget.findChild(QTableWidget, name)
    assert found is not None, name
    return found


def cells(grid: QTableWidget, column: int) -> list:
    return [grid.item(row, column).text() for row in range(grid.rowCount())]


def test_edge_shows_the_three_factors_product_and_batch_gradient(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y, "quadratic")
    inspector.select_edge(1, 2, 1)
    inspector.set_example(3)
    ex = explain.explain_weight(net, X, Y, 1, 2, 1)
    assert text(inspector, "activation_value") == fmt(ex.activation[3])
    assert text(inspector, "slope_value") == fmt(ex.slope[3])
    assert text(inspector, "sensitivity_value") == fmt(ex.sensitivity[3])
    assert fmt(ex.per_example[3]) in text(inspector, "product")
    assert fmt(ex.gradient) in text(inspector, "average")
    formula = text(inspector, "formula")
    assert d_sym("w<sub>21</sub><sup>(2)</sup>") in formula
    assert "a<sub>1</sub><sup>(1)</sup>" in formula
    assert "z<sub>2</sub><sup>(2)</sup>" in formula


def test_changing_the_example_changes_the_factors(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(0, 1, 0)
    ex = explain.explain_weight(net, X, Y, 0, 1, 0)
    for i in (0, 7):
        inspector.set_example(i)
        assert text(inspector, "activation_value") == fmt(ex.activation[i])
        assert text(inspector, "product").endswith(f"<b>{fmt(ex.per_example[i])}</b>")


def test_bias_shows_the_factors_without_an_activation(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_bias(2, 0)
    ex = explain.explain_bias(net, X, Y, 2, 0)
    assert inspector.chain.rows["activation"].isHidden()
    assert text(inspector, "slope_value") == fmt(ex.slope[0])
    assert text(inspector, "sensitivity_value") == fmt(ex.sensitivity[0])
    assert fmt(ex.gradient) in text(inspector, "average")
    assert text(inspector, "formula").startswith(d_sym("b<sub>0</sub><sup>(3)</sup>"))


def test_neuron_lists_its_paths_largest_first_and_highlights_them(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    ex = explain.explain_neuron(net, X, Y, 0, 1)
    order = ex.ranked_paths(0)
    with qtbot.waitSignal(inspector.highlight_requested, timeout=1000) as blocker:
        inspector.select_neuron(0, 1)
    assert blocker.args[0] == [(1, i, 1) for i in order[:3]]
    paths = table(inspector, "paths")
    assert cells(paths, 0)[:-1] == [str(i) for i in order]
    assert cells(paths, 4)[:-1] == [fmt(ex.terms[0, i], 4) for i in order]
    assert cells(paths, 4)[-1] == fmt(ex.sensitivity[0])
    assert fmt(ex.mean) in text(inspector, "numbers")


def test_going_back_a_layer_asks_for_a_neuron_of_the_layer_before(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_neuron(1, 0)
    links = re.findall(r'href="([^"]+)"', text(inspector, "back"))
    assert links[0].startswith("neuron:0:")
    k = int(np.argmax(np.abs(net.weights[1][0])))
    assert links[0] == f"neuron:0:{k}"
    with qtbot.waitSignal(inspector.neuron_requested, timeout=1000) as blocker:
        inspector.chain.back.linkActivated.emit(links[0])
    assert blocker.args == [0, k]


def test_following_a_path_forward_asks_for_the_next_neuron(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_neuron(0, 2)
    first = int(table(inspector, "paths").item(0, 0).text())
    with qtbot.waitSignal(inspector.neuron_requested, timeout=1000) as blocker:
        inspector.chain.paths.cellDoubleClicked.emit(0, 0)
    assert blocker.args == [1, first]


def test_output_neuron_shows_two_times_the_miss(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_neuron(2, 0)
    ex = explain.explain_neuron(net, X, Y, 2, 0)
    assert "= 2(a<sub>0</sub><sup>(3)</sup> − y<sub>0</sub>)" in text(
        inspector, "formula"
    )
    numbers = text(inspector, "numbers")
    assert f"2({fmt(ex.a[0])} − {fmt(ex.y[0])})" in numbers
    assert fmt(ex.sensitivity[0]) in numbers


def test_cross_entropy_output_neuron_shows_its_own_form(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y, "cross_entropy")
    inspector.select_neuron(2, 0)
    assert "(1 − y<sub>0</sub>)" in text(inspector, "formula")


def test_lesson_chain_shows_the_last_weight_with_numbers(inspector):
    net, X, Y = chain_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(2, 0, 0)
    formula = text(inspector, "formula")
    assert (
        "= a<sub>0</sub><sup>(2)</sup> · σ'(z<sub>0</sub><sup>(3)</sup>) · "
        "2(a<sub>0</sub><sup>(3)</sup> − y<sub>0</sub>)"
    ) in formula
    # a(2) = 0.39039, s'(z(3)) = 0.23609, a(3) = 0.61793, by hand in the engine test
    assert text(inspector, "numbers") == (
        "= 0.39039 · 0.23609 · 2(0.61793 − 0) = <b>0.11391</b> for example 0"
    )


def test_softmax_output_shows_dc_dz_and_says_why(inspector):
    net = Network([2, 3, 3], ["tanh", "softmax"], seed=2)
    X = np.random.default_rng(1).normal(size=(4, 2))
    Y = np.eye(3)[[0, 1, 2, 0]]
    inspector.set_context(net, X, Y, "cross_entropy")
    inspector.select_edge(1, 2, 0)
    ex = explain.explain_weight(net, X, Y, 1, 2, 0, "cross_entropy")
    assert inspector.chain.rows["slope"].isHidden()
    assert not inspector.chain.rows["delta"].isHidden()
    assert text(inspector, "delta_value") == fmt(ex.delta[0])
    assert "softmax" in inspector.chain.rows["delta"].note.text()
    assert d_sym("z<sub>2</sub><sup>(2)</sup>") in text(inspector, "formula")


def test_numbers_follow_the_context_and_hold_still_without_it(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y, settings=Settings, step=1)
    inspector.select_edge(2, 0, 1)
    before = text(inspector, "average")
    inspector.set_example(0)
    assert text(inspector, "average") == before
    stepped = net.copy()
    grads = stepped.gradients(X, Y)
    for w, dw, b, db in zip(
        stepped.weights, grads.weights, stepped.biases, grads.biases, strict=True
    ):
        w -= 0.1 * dw
        b -= 0.1 * db
    inspector.set_context(stepped, X, Y, settings=Settings, step=2)
    after = explain.explain_weight(stepped, X, Y, 2, 0, 1)
    assert fmt(after.gradient) in text(inspector, "average")
    moved = text(inspector, "moved")
    change = -0.1 * grads.weights[2][0, 1]
    assert fmt(change) in moved
    assert "SGD" in moved


def test_a_move_of_unknown_step_count_is_not_called_one_sgd_step(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y, settings=Settings)
    inspector.select_edge(2, 0, 1)
    moved_net = net.copy()
    moved_net.weights[2][0, 1] += 0.5
    inspector.set_context(moved_net, X, Y, settings=Settings, step=40)
    moved = text(inspector, "moved")
    assert fmt(0.5) in moved
    assert "SGD" not in moved


def test_selection_outside_a_new_architecture_is_cleared(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(1, 3, 0)
    smaller = Network([2, 4, 2, 1], ["tanh", "tanh", "sigmoid"])
    inspector.set_context(smaller, X, Y)
    assert inspector.selection is None
    assert "Click an edge" in text(inspector, "formula")


def test_gradient_check_runs_from_the_buttons(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(0, 3, 1)
    inspector.tabs.setCurrentIndex(1)
    button = inspector.findChild(QPushButton, "check_parameter")
    qtbot.mouseClick(button, Qt.LeftButton)
    result = text(inspector, "parameter_result")
    error = float(re.search(r"relative error <b>([^<]+)</b>", result).group(1))
    assert error < 1e-6
    qtbot.mouseClick(inspector.findChild(QPushButton, "check_network"), Qt.LeftButton)
    grid = table(inspector, "check_table")
    assert cells(grid, 0) == ["layer 1", "layer 2", "layer 3"]
    assert inspector.check.largest_error() < 1e-6
    assert "agrees" in text(inspector, "check_verdict")


def test_nudge_shows_predicted_next_to_actual_change(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(1, 0, 2)
    inspector.tabs.setCurrentIndex(2)
    inspector.nudge.set_dw(0.002)
    expected = explain.nudge_weight(net, X, Y, 1, 0, 2, 0.002)
    assert fmt(expected.predicted) in text(inspector, "nudge_predicted")
    assert fmt(expected.actual) in text(inspector, "nudge_actual")
    result = inspector.nudge.result()
    assert result.actual == pytest.approx(result.predicted, rel=0.05)
    assert inspector.nudge.slider.value() == round(0.002 / 0.005)


def test_applying_a_nudge_asks_for_a_set_weight_edit(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(1, 0, 2)
    inspector.nudge.set_dw(0.25)
    with qtbot.waitSignal(inspector.edit_requested, timeout=1000) as blocker:
        qtbot.mouseClick(inspector.findChild(QPushButton, "apply_nudge"), Qt.LeftButton)
    edit = blocker.args[0]
    edited = edit.apply(net)
    assert edited.weights[1][0, 2] == pytest.approx(net.weights[1][0, 2] + 0.25)
    assert np.array_equal(edited.weights[0], net.weights[0])
    undone = edit.make_inverse(net).apply(edited)
    assert np.array_equal(undone.weights[1], net.weights[1])


def test_applying_a_bias_nudge_asks_for_a_set_bias_edit(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_bias(0, 3)
    inspector.nudge.set_dw(-0.5)
    with qtbot.waitSignal(inspector.edit_requested, timeout=1000) as blocker:
        qtbot.mouseClick(inspector.findChild(QPushButton, "apply_nudge"), Qt.LeftButton)
    edited = blocker.args[0].apply(net)
    assert edited.biases[0][3] == pytest.approx(net.biases[0][3] - 0.5)


def test_ranking_lists_the_largest_gradients_and_selects_on_click(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.tabs.setCurrentIndex(3)
    top = explain.rank_weights(net, X, Y, top=10)
    grid = table(inspector, "ranking")
    assert cells(grid, 0) == [plain_w(r.layer, r.j, r.k) for r in top]
    assert cells(grid, 1) == [fmt(r.value) for r in top]
    with qtbot.waitSignal(inspector.edge_requested, timeout=1000) as blocker:
        grid.cellClicked.emit(2, 0)
    assert blocker.args == [top[2].layer, top[2].j, top[2].k]


def test_wishes_show_one_example_and_the_batch_average(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y, settings=Settings)
    inspector.tabs.setCurrentIndex(4)
    inspector.set_example(5)
    w = explain.wishes(net, X, Y)
    grid = table(inspector, "wishes")
    assert grid.item(0, 3).text() == fmt(w.per_example[5, 0])
    assert grid.item(0, 4).text() == fmt(w.mean[0])
    assert grid.item(0, 5).text() == f"{w.wanting_up()[0]} of 10"
    steps = table(inspector, "wish_steps")
    bias_gradient = net.copy().gradients(X, Y).biases[-1][0]
    assert steps.item(0, 3).text() == fmt(-0.1 * bias_gradient)


def test_nothing_to_show_without_a_context(inspector):
    inspector.select_edge(0, 0, 0)
    assert "training step" in text(inspector, "formula")
    assert not inspector.findChild(QPushButton, "check_network").isEnabled()


def test_help_page_names_every_view_and_the_inspector():
    for word in ("canvas", "Cost", "Weights", "Gradient norms", "Decision map"):
        assert word in HELP_HTML
    assert "Digit weights" in HELP_HTML and "Nudge" in HELP_HTML
    assert "gradient</b> mode" in HELP_HTML


def test_widget_renders_every_selection(inspector, tmp_path):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    for select in (
        lambda: inspector.select_edge(1, 1, 1),
        lambda: inspector.select_bias(0, 2),
        lambda: inspector.select_neuron(1, 2),
    ):
        select()
        image = inspector.grab().toImage()
        assert image.width() >= 400 and image.height() >= 600


def test_a_cost_that_does_not_fit_the_output_is_explained_in_words(inspector):
    net, X, Y = known_problem()
    relu_out = Network([2, 3, 1], ["tanh", "relu"])
    inspector.set_context(relu_out, X, Y, "cross_entropy")
    inspector.select_edge(0, 0, 0)
    assert "cross-entropy needs a sigmoid or softmax" in text(inspector, "formula")
    inspector.set_context(net, X, Y)
    assert text(inspector, "activation_value") != ""


def test_a_large_training_set_is_explained_on_its_first_rows(inspector):
    net, _, _ = known_problem()
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 2))
    Y = rng.uniform(size=(1200, 1))
    inspector.set_context(net, X, Y)
    assert "the first 500 of 1200 examples" in text(inspector, "batch")
    inspector.select_bias(1, 0)
    ex = explain.explain_bias(net, X[:500], Y[:500], 1, 0)
    assert fmt(ex.gradient) in text(inspector, "average")


def test_paths_into_a_softmax_layer_are_w_times_dc_dz(inspector):
    net = Network([3, 4, 3], ["relu", "softmax"], seed=4)
    X = np.random.default_rng(2).normal(size=(5, 3))
    Y = np.eye(3)[[0, 1, 2, 1, 0]]
    inspector.set_context(net, X, Y, "cross_entropy")
    inspector.select_neuron(0, 1)
    ex = explain.explain_neuron(net, X, Y, 0, 1, "cross_entropy")
    paths = table(inspector, "paths")
    assert paths.isColumnHidden(2)
    assert paths.horizontalHeaderItem(3).text() == "∂C/∂z"
    i = int(paths.item(0, 0).text())
    assert paths.item(0, 3).text() == fmt(ex.next_delta[0, i], 3)
    assert d_sym("z<sub>i</sub>") in text(inspector, "formula")


def test_highlights_are_cleared_when_an_edge_is_selected(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_neuron(1, 1)
    with qtbot.waitSignal(inspector.highlight_requested, timeout=1000) as blocker:
        inspector.select_edge(0, 0, 0)
    assert blocker.args == [[]]
    with qtbot.assertNotEmitted(inspector.highlight_requested):
        inspector.select_bias(0, 0)


def test_a_new_chain_opens_with_its_last_weight_selected(inspector, qtbot):
    net, X, Y = chain_problem()
    with qtbot.waitSignal(inspector.edge_requested, timeout=1000) as blocker:
        inspector.set_context(net, X, Y)
    assert blocker.args == [2, 0, 0]
    assert inspector.selection == Selection("edge", 2, 0, 0)
    inspector.select_neuron(1, 0)
    with qtbot.assertNotEmitted(inspector.edge_requested):
        inspector.set_context(net, X, Y)
    assert inspector.selection.kind == "neuron"


def test_a_hidden_sensitivity_links_to_its_neuron(inspector, qtbot):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_edge(0, 2, 1)
    note = inspector.chain.rows["sensitivity"].note
    link = re.search(r'href="([^"]+)"', note.text()).group(1)
    with qtbot.waitSignal(inspector.neuron_requested, timeout=1000) as blocker:
        note.linkActivated.emit(link)
    assert blocker.args == [0, 2]


def test_an_input_neuron_shows_its_paths_and_where_the_chain_ends(inspector):
    net, X, Y = known_problem()
    inspector.set_context(net, X, Y)
    inspector.select_neuron(-1, 1)
    ex = explain.explain_neuron(net, X, Y, -1, 1)
    assert cells(table(inspector, "paths"), 4)[-1] == fmt(ex.sensitivity[0])
    assert "the chain rule ends here" in text(inspector, "back")
    assert "input layer" in text(inspector, "title")
    assert not inspector.findChild(QPushButton, "check_parameter").isEnabled()
