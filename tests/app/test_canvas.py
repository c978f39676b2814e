"""The network canvas: drawing, selecting, hovering and editing by hand."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsPathItem

from backprop_lab.app import canvas_items as ci
from backprop_lab.app.canvas import N_BUCKETS, NetworkCanvas
from backprop_lab.app.snapshot import Snapshot
from backprop_lab.engine import Network


@pytest.fixture
def canvas(qtbot):
    view = NetworkCanvas()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    return view


def xor_network():
    net = Network([2, 2, 1], ["tanh", "sigmoid"], seed=4)
    net.biases[0][:] = [0.25, -0.5]
    return net


def view_point(canvas, scene_point) -> QPoint:
    return canvas.mapFromScene(scene_point)


def click(qtbot, canvas, scene_point, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        modifier,
        view_point(canvas, scene_point),
    )


def move_mouse(canvas, scene_point) -> None:
    pos = QPointF(view_point(canvas, scene_point))
    event = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        pos,
        QPointF(canvas.viewport().mapToGlobal(pos.toPoint())),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas.viewport(), event)


def button(canvas, text, near_x):
    """The scene button with this text whose column is closest to near_x."""
    found = [b for b in canvas.buttons() if b.text == text]
    return min(found, key=lambda b: abs(b.scenePos().x() - near_x))


def press_button(qtbot, canvas, text, column):
    item = button(canvas, text, column * ci.COLUMN)
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        click(qtbot, canvas, item.scenePos())
    return blocker.args[0]


def test_network_is_built_with_the_canvas_own_buttons(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)

    # "+ layer" between the hidden layer and the output: 2-2-2-1
    edit = press_button(qtbot, canvas, "+ layer", 1.5)
    net = edit.apply(net)
    assert net.sizes == [2, 2, 2, 1]
    canvas.set_network(net)

    # "+" on the new hidden layer twice: 2-2-4-1
    for _ in range(2):
        net = press_button(qtbot, canvas, "+", 2).apply(net)
        canvas.set_network(net)
    assert net.sizes == [2, 2, 4, 1]

    # "−" on the first hidden layer removes its last neuron: 2-1-4-1
    net = press_button(qtbot, canvas, "−", 1).apply(net)
    canvas.set_network(net)
    assert net.sizes == [2, 1, 4, 1]

    # "×" on the first hidden layer removes it: 2-4-1
    net = press_button(qtbot, canvas, "×", 1).apply(net)
    canvas.set_network(net)
    assert net.sizes == [2, 4, 1]


def test_minus_button_removes_the_selected_neuron(qtbot, canvas):
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    canvas.set_network(net)
    click(qtbot, canvas, canvas.scene_point_of_neuron(0, 0))
    after = press_button(qtbot, canvas, "−", 1).apply(net)
    np.testing.assert_array_equal(after.weights[0], net.weights[0][1:])


def test_canvas_never_changes_its_network_itself(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    press_button(qtbot, canvas, "+", 1)
    assert canvas.network is net
    assert net.sizes == [2, 2, 1]


def point_along(canvas, edge, t):
    """A scene point a fraction t along an edge, from its input neuron."""
    layer, j, k = edge
    start = canvas.scene_point_of_neuron(layer - 1, k)
    end = canvas.scene_point_of_neuron(layer, j)
    return start + (end - start) * t


@pytest.mark.parametrize("edge", [(0, 0, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1)])
def test_click_on_edge_midpoint_selects_that_edge(qtbot, canvas, edge):
    canvas.set_network(Network([2, 2, 1], ["tanh", "sigmoid"]))
    with qtbot.waitSignal(canvas.edge_selected, timeout=1000) as blocker:
        click(qtbot, canvas, canvas.scene_point_of_edge(*edge))
    assert tuple(blocker.args) == edge


@pytest.mark.parametrize("edge", [(0, 1, 0), (0, 0, 1)])
def test_click_near_a_crossing_selects_the_nearest_edge(qtbot, canvas, edge):
    canvas.set_network(Network([2, 2, 1], ["tanh", "sigmoid"]))
    with qtbot.waitSignal(canvas.edge_selected, timeout=1000) as blocker:
        click(qtbot, canvas, point_along(canvas, edge, 0.3))
    assert tuple(blocker.args) == edge


def clearest_point(canvas, edge):
    """The point of an edge farthest from every other drawn edge."""
    layer, j, k = edge
    geometry = canvas._geometry[layer]
    others = ~((geometry.js == j) & (geometry.ks == k))
    arrays = (geometry.js, geometry.ks, geometry.x0, geometry.y0)
    arrays += (geometry.x1, geometry.y1)
    rest = ci.EdgeGeometry(*(a[others] for a in arrays))
    candidates = [point_along(canvas, edge, t) for t in np.linspace(0.1, 0.9, 33)]
    gaps = [ci.nearest_edge(rest, p.x(), p.y())[1] for p in candidates]
    assert max(gaps) * canvas.transform().m11() > 2.0  # pixels apart on screen
    return candidates[int(np.argmax(gaps))]


@pytest.mark.parametrize("edge", [(0, 125, 780), (0, 3, 2), (1, 0, 0), (1, 9, 127)])
def test_click_on_edge_of_a_wide_network_selects_it(qtbot, canvas, edge):
    canvas.set_network(Network([784, 128, 10], ["relu", "softmax"]))
    with qtbot.waitSignal(canvas.edge_selected, timeout=1000) as blocker:
        click(qtbot, canvas, clearest_point(canvas, edge))
    assert tuple(blocker.args) == edge


def test_neuron_and_bias_clicks(qtbot, canvas):
    canvas.set_network(xor_network())
    with qtbot.waitSignal(canvas.neuron_selected, timeout=1000) as blocker:
        click(qtbot, canvas, canvas.scene_point_of_neuron(0, 1))
    assert blocker.args == [0, 1]
    with qtbot.waitSignal(canvas.neuron_selected, timeout=1000) as blocker:
        click(qtbot, canvas, canvas.scene_point_of_neuron(-1, 0))
    assert blocker.args == [-1, 0]
    with qtbot.waitSignal(canvas.bias_selected, timeout=1000) as blocker:
        click(
            qtbot,
            canvas,
            canvas.scene_point_of_neuron(1, 0),
            Qt.KeyboardModifier.ShiftModifier,
        )
    assert blocker.args == [1, 0]
    tag = next(
        t for tags in canvas._bias_tags for t in tags if (t.layer, t.j) == (0, 1)
    )
    with qtbot.waitSignal(canvas.bias_selected, timeout=1000) as blocker:
        click(qtbot, canvas, tag.scenePos())
    assert blocker.args == [0, 1]
    assert tag.selected


def test_click_on_empty_space_clears_the_selection(qtbot, canvas):
    canvas.set_network(xor_network())
    click(qtbot, canvas, canvas.scene_point_of_edge(0, 0, 0))
    with qtbot.waitSignal(canvas.selection_cleared, timeout=1000):
        click(qtbot, canvas, QPointF(-60, 200))


def test_selected_edge_is_drawn(qtbot, canvas):
    canvas.set_network(xor_network())
    assert canvas._selected_edge_item.path().isEmpty()
    canvas.select_edge(1, 0, 1)
    path = canvas._selected_edge_item.path()
    assert path.elementCount() == 2
    assert path.pointAtPercent(0.5) == canvas.scene_point_of_edge(1, 0, 1)


def test_hover_tooltip_shows_live_weight_and_gradient(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    move_mouse(canvas, point_along(canvas, (0, 1, 0), 0.25))
    assert f"{net.weights[0][1, 0]:.6g}" in canvas.hover_text
    assert "w1,0 of layer 1" in canvas.hover_text

    gradients = (np.full((2, 2), 0.125), np.full((1, 2), 0.5))
    snapshot = Snapshot(
        step=1,
        epoch=0,
        steps_per_second=0.0,
        running=True,
        network=net,
        weight_gradients=gradients,
        bias_gradients=(np.zeros(2), np.zeros(1)),
    )
    canvas.update_snapshot(snapshot)
    assert "dC/dw = 0.125" in canvas.hover_text


def test_hover_on_neuron_shows_z_and_a_of_the_chosen_example(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    net.forward(np.array([[0.5, -1.0]]))
    canvas.set_example_activations([a[0] for a in net.a])
    move_mouse(canvas, canvas.scene_point_of_neuron(0, 1))
    assert f"z = {net.z[0][0, 1]:.4g}" in canvas.hover_text
    assert f"a = {net.a[1][0, 1]:.4g}" in canvas.hover_text
    assert "bias b1 = -0.5" in canvas.hover_text
    assert "Shift+click" in canvas.hover_text


def test_wide_network_is_drawn_collapsed_with_few_items(qtbot, canvas):
    canvas.set_network(Network([784, 128, 10], ["relu", "softmax"]))
    items = canvas.scene().items()
    assert len(items) < 200
    circles = sum(len(c) for c in canvas._neuron_items)
    assert circles == 12 + 12 + 10
    paths = [i for i in items if isinstance(i, QGraphicsPathItem)]
    assert len(paths) <= 2 * (N_BUCKETS + 1) + 4
    drawn = sum(
        item.path().elementCount() for row in canvas._bucket_items for item in row
    )
    assert drawn == 2 * (12 * 12 + 10 * 12)


def test_snapshot_updates_reuse_the_scene_items(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    before = set(map(id, canvas.scene().items()))
    changed = net.copy()
    changed.weights[0] *= -1
    canvas.update_snapshot(Snapshot(1, 0, 0.0, True, changed))
    assert set(map(id, canvas.scene().items())) == before
    assert canvas.network is changed


def segments_per_bucket(canvas, layer):
    return [item.path().elementCount() // 2 for item in canvas._bucket_items[layer]]


def test_weight_mode_puts_each_sign_in_its_colour(qtbot, canvas):
    net = Network.from_parameters(
        [np.array([[1.0, -1.0], [0.5, -0.1]]), np.array([[2.0, -2.0]])],
        [np.zeros(2), np.zeros(1)],
        ["tanh", "sigmoid"],
    )
    canvas.set_network(net)
    counts = segments_per_bucket(canvas, 0)
    positive = sum(counts[: ci.WEIGHT_LEVELS])
    negative = sum(counts[ci.WEIGHT_LEVELS :])
    assert (positive, negative) == (2, 2)
    assert counts[ci.WEIGHT_LEVELS - 1] == 1  # the largest positive, widest


def test_gradient_mode_colours_follow_the_gradients(qtbot, canvas):
    net = Network([2, 2, 1], ["tanh", "sigmoid"])
    canvas.set_network(net)
    canvas.set_edge_mode("gradient")
    top = ci.GRADIENT_LEVELS - 1

    one_large = (np.array([[1.0, 1e-6], [1e-6, 1e-6]]), np.full((1, 2), 1e-6))
    canvas.update_snapshot(Snapshot(1, 0, 0.0, True, net, one_large))
    assert segments_per_bucket(canvas, 0)[top] == 1
    assert segments_per_bucket(canvas, 0)[0] == 3
    pens = [item.pen().color().name() for item in canvas._bucket_items[0]]
    assert pens[top] == ci.gradient_color(top).name()

    all_equal = (np.full((2, 2), 0.01), np.full((1, 2), 0.01))
    canvas.update_snapshot(Snapshot(2, 0, 0.0, True, net, all_equal))
    assert segments_per_bucket(canvas, 0)[top] == 4
    assert segments_per_bucket(canvas, 1)[top] == 2

    with qtbot.waitSignal(canvas.edge_mode_changed, timeout=1000) as blocker:
        canvas.set_edge_mode("weight")
    assert blocker.args == ["weight"]
    assert canvas._bucket_items[0][0].pen().color().name() != pens[0]


def test_double_click_on_edge_types_a_weight(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    where = view_point(canvas, canvas.scene_point_of_edge(0, 1, 1))
    qtbot.mouseDClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=where)
    editor = canvas.value_editor
    assert editor.isVisible()

    editor.setText("not a number")
    editor.commit()
    assert editor.isVisible()

    editor.setText("-0.375")
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert not editor.isVisible()
    assert blocker.args[0].apply(net).weights[0][1, 1] == -0.375


def test_double_click_on_neuron_types_a_bias(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    where = view_point(canvas, canvas.scene_point_of_neuron(1, 0))
    qtbot.mouseDClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=where)
    canvas.value_editor.setText("1e-3")
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        canvas.value_editor.commit()
    assert blocker.args[0].apply(net).biases[1][0] == 1e-3


def test_delete_key_removes_the_selected_connection_and_menu_restores_it(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    click(qtbot, canvas, canvas.scene_point_of_edge(0, 0, 1))
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    removed = blocker.args[0].apply(net)
    assert removed.masks[0][0, 1] == 0

    canvas.set_network(removed)
    assert canvas._removed_items[0].path().elementCount() == 2
    where = QPointF(view_point(canvas, canvas.scene_point_of_edge(0, 0, 1)))
    menu = canvas.context_menu_at(where)
    texts = [a.text() for a in menu.actions()]
    assert "Restore connection" in texts
    restore = next(a for a in menu.actions() if a.text() == "Restore connection")
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        restore.trigger()
    assert blocker.args[0].apply(removed).masks[0][0, 1] == 1


def test_activation_menu_emits_the_change(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    menu = canvas.activation_menu(0)
    names = [a.text() for a in menu.actions()]
    assert "softmax" not in names
    assert "softmax" in [a.text() for a in canvas.activation_menu(1).actions()]
    relu = next(a for a in menu.actions() if a.text() == "relu")
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        relu.trigger()
    after = blocker.args[0].apply(net)
    assert after.activations == ["relu", "sigmoid"]
    canvas.set_network(after)
    assert "relu" in canvas._titles[1].text


def test_example_activations_fill_the_neurons(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    net.forward(np.array([[1.0, 0.0]]))
    canvas.set_example_activations([a[0] for a in net.a])
    label = canvas._value_labels[2][0][0]
    assert label.text() == f"{net.a[2][0, 0]:.2f}"
    canvas.set_example_activations(None)
    assert label.text() == ""


def test_highlighted_edges_are_drawn(qtbot, canvas):
    canvas.set_network(xor_network())
    canvas.highlight_edges([(0, 0, 0), (1, 0, 1)])
    assert canvas._highlight_item.path().elementCount() == 4
    canvas.highlight_edges([])
    assert canvas._highlight_item.path().isEmpty()


def test_zoom_and_fit(qtbot, canvas):
    canvas.set_network(xor_network())
    fitted = canvas.transform().m11()
    canvas.zoom_in()
    assert canvas.transform().m11() == pytest.approx(fitted * 1.25)
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.transform().m11() < fitted
    canvas.fit_to_window()
    assert canvas.transform().m11() == pytest.approx(fitted)


def test_export_png_and_svg(qtbot, canvas, tmp_path):
    canvas.set_network(xor_network())
    canvas.export_image(tmp_path / "net.png")
    image = QImage(str(tmp_path / "net.png"))
    assert image.width() > 200 and image.height() > 100
    canvas.export_image(tmp_path / "net.svg")
    assert "<svg" in (tmp_path / "net.svg").read_text()
    with pytest.raises(ValueError, match="png or .svg"):
        canvas.export_image(tmp_path / "net.bmp")


def test_layer_title_menu_offers_activation_and_removal(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    title = canvas._titles[1]
    menu = canvas.context_menu_at(QPointF(view_point(canvas, title.scenePos())))
    texts = [a.text() for a in menu.actions()]
    assert "Activation" in texts
    remove = next(a for a in menu.actions() if a.text() == "Remove layer")
    with qtbot.waitSignal(canvas.edit_requested, timeout=1000) as blocker:
        remove.trigger()
    assert blocker.args[0].apply(net).sizes == [2, 1]


def test_hover_on_a_button_explains_it(qtbot, canvas):
    canvas.set_network(xor_network())
    move_mouse(canvas, button(canvas, "+ layer", 100).scenePos())
    assert canvas.hover_text == "Insert a hidden layer here"


def test_drag_on_empty_space_pans_and_ctrl_wheel_zooms(qtbot, canvas):
    canvas.set_network(Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"]))
    for _ in range(4):
        canvas.zoom_in()
    bar = canvas.horizontalScrollBar()
    bar.setValue(bar.maximum() // 2)
    grid = [QPoint(x, y) for x in range(5, 400, 7) for y in range(5, 400, 7)]
    empty = next(p for p in grid if canvas.hit_at(QPointF(p)) is None)
    start = bar.value()
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    drag = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(empty + QPoint(40, 0)),
        QPointF(canvas.viewport().mapToGlobal(empty + QPoint(40, 0))),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas.viewport(), drag)
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert bar.value() == start - 40

    scale = canvas.transform().m11()
    wheel = QWheelEvent(
        QPointF(empty),
        QPointF(canvas.viewport().mapToGlobal(empty)),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), wheel)
    assert canvas.transform().m11() == pytest.approx(scale * 1.25)


def test_selection_that_no_longer_exists_is_cleared(qtbot, canvas):
    net = Network([2, 3, 1], ["tanh", "sigmoid"])
    canvas.set_network(net)
    click(qtbot, canvas, canvas.scene_point_of_edge(1, 0, 2))
    with qtbot.waitSignal(canvas.selection_cleared, timeout=1000):
        canvas.set_network(Network([2, 2, 1], ["tanh", "sigmoid"]))
    with qtbot.assertNotEmitted(canvas.edit_requested):
        qtbot.keyClick(canvas, Qt.Key.Key_Delete)

    click(qtbot, canvas, canvas.scene_point_of_edge(1, 0, 1))
    with qtbot.assertNotEmitted(canvas.selection_cleared):
        canvas.set_network(Network([2, 2, 2, 1], ["tanh", "tanh", "sigmoid"]))


def running_snapshot(net, step=1):
    return Snapshot(step=step, epoch=0, steps_per_second=0.0, running=True, network=net)


def test_with_a_pacer_running_snapshots_are_drawn_later_newest_only(qtbot, canvas):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=1.0)
    canvas.set_pacer(pacer)
    net = xor_network()
    canvas.set_network(net)
    later = [net.copy() for _ in range(3)]
    for i, version in enumerate(later):
        version.weights[0][0, 0] = 1.0 + i
        canvas.update_snapshot(running_snapshot(version, i + 1))
    assert canvas.network is net and pacer.is_waiting(canvas)
    qtbot.waitUntil(lambda: canvas.network is later[-1], timeout=1000)
    assert not pacer.is_waiting(canvas)


def test_an_edit_cancels_a_waiting_snapshot(qtbot, canvas):
    from backprop_lab.app.pacing import DrawPacer

    pacer = DrawPacer(duty=1.0)
    canvas.set_pacer(pacer)
    old, edited = xor_network(), Network([2, 3, 1], ["tanh", "sigmoid"], seed=0)
    canvas.set_network(old)
    canvas.update_snapshot(running_snapshot(old.copy()))
    canvas.set_network(edited)
    qtbot.wait(50)
    assert canvas.network is edited and not pacer.is_waiting(canvas)


def test_a_paused_snapshot_is_drawn_at_once_despite_the_pacer(qtbot, canvas):
    from backprop_lab.app.pacing import DrawPacer

    canvas.set_pacer(DrawPacer())
    net = xor_network()
    canvas.set_network(net)
    paused = net.copy()
    canvas.update_snapshot(
        Snapshot(step=2, epoch=0, steps_per_second=0.0, running=False, network=paused)
    )
    assert canvas.network is paused


def test_example_activations_refill_neurons_without_redrawing_edges(qtbot, canvas):
    net = xor_network()
    canvas.set_network(net)
    redrawn = []
    canvas._draw_edges = lambda: redrawn.append(1)
    net.forward(np.array([[0.5, -1.0]]))
    canvas.set_example_activations([a[0] for a in net.a])
    assert not redrawn
    assert canvas._neuron_items[1][0].brush().color() != QColor("white")


def test_edges_are_smooth_when_paused_and_plain_while_training(qtbot, canvas):
    from PySide6.QtGui import QPainter

    smooth = QPainter.RenderHint.Antialiasing
    net = xor_network()
    canvas.set_network(net)
    assert canvas.renderHints() & smooth
    canvas.update_snapshot(running_snapshot(net.copy()))
    assert not canvas.renderHints() & smooth
    canvas.update_snapshot(
        Snapshot(step=2, epoch=0, steps_per_second=0.0, running=False, network=net)
    )
    assert canvas.renderHints() & smooth
