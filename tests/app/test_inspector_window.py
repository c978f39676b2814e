"""Clicks on the main window's canvas drive the inspector with the right numbers."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from window_helpers import wait_for_steps

from backprop_lab.app.inspector_text import fmt
from backprop_lab.engine import explain


def click_scene(qtbot, canvas, scene_point, modifier=Qt.KeyboardModifier.NoModifier):
    where = canvas.mapFromScene(scene_point)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, modifier, where)


def label(inspector, name: str) -> str:
    return inspector.findChild(QLabel, name).text()


@pytest.fixture
def stepped(qtbot, window):
    """The window after one training step, with the inspector shown."""
    window.inspector_dock.show()
    window.step_action.trigger()
    wait_for_steps(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.inspector._context is not None, timeout=3000)
    return window


def context(window):
    ctx = window.inspector._context
    assert np.array_equal(ctx.network.weights[0], window.session.network.weights[0])
    return ctx


def test_clicking_an_edge_shows_its_chain_rule(qtbot, stepped):
    canvas, inspector = stepped.canvas, stepped.inspector
    with qtbot.waitSignal(canvas.edge_selected, timeout=1000):
        click_scene(qtbot, canvas, canvas.scene_point_of_edge(1, 0, 1))
    ctx = context(stepped)
    ex = explain.explain_weight(ctx.network.copy(), ctx.X, ctx.Y, 1, 0, 1, ctx.cost)
    assert label(inspector, "activation_value") == fmt(ex.activation[0])
    assert label(inspector, "slope_value") == fmt(ex.slope[0])
    assert label(inspector, "sensitivity_value") == fmt(ex.sensitivity[0])
    assert fmt(ex.gradient) in label(inspector, "average")


def test_clicking_a_neuron_and_a_bias_shows_their_numbers(qtbot, stepped):
    canvas, inspector = stepped.canvas, stepped.inspector
    with qtbot.waitSignal(inspector.highlight_requested, timeout=1000) as blocker:
        click_scene(qtbot, canvas, canvas.scene_point_of_neuron(0, 1))
    ctx = context(stepped)
    neuron = explain.explain_neuron(ctx.network.copy(), ctx.X, ctx.Y, 0, 1, ctx.cost)
    assert blocker.args[0][0] == (1, neuron.ranked_paths(0)[0], 1)
    assert fmt(neuron.sensitivity[0]) in label(inspector, "numbers")
    click_scene(
        qtbot,
        canvas,
        canvas.scene_point_of_neuron(1, 0),
        Qt.KeyboardModifier.ShiftModifier,
    )
    bias = explain.explain_bias(ctx.network.copy(), ctx.X, ctx.Y, 1, 0, ctx.cost)
    assert inspector.selection.kind == "bias"
    assert fmt(bias.gradient) in label(inspector, "average")


def test_gradient_check_and_nudge_run_from_the_window(qtbot, stepped):
    inspector = stepped.inspector
    inspector.select_edge(0, 1, 0)
    before = stepped.session.network.weights[0][1, 0]
    inspector.tabs.setCurrentWidget(inspector.tabs.widget(1))
    qtbot.mouseClick(inspector.findChild(QPushButton, "check_network"), Qt.LeftButton)
    assert inspector.check.largest_error() < 1e-6
    inspector.nudge.set_dw(0.125)
    assert "Actual change" in label(inspector, "nudge_actual")
    qtbot.mouseClick(inspector.findChild(QPushButton, "apply_nudge"), Qt.LeftButton)
    after = stepped.session.network.weights[0][1, 0]
    assert after == pytest.approx(before + 0.125)
    stepped.undo_stack.undo()
    assert stepped.session.network.weights[0][1, 0] == pytest.approx(before)
