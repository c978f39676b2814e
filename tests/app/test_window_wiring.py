"""The window joins the inspector, the canvas and the training batch."""

import numpy as np
from window_helpers import wait_for_steps


def test_the_inspector_explains_the_batch_of_the_last_step(qtbot, window):
    window.inspector_dock.show()
    window.step_action.trigger()
    wait_for_steps(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.inspector._context is not None, timeout=3000)
    rows = window.session.snapshot.batch_indices
    assert len(rows) == window.session.settings.batch_size
    context = window.inspector._context
    assert np.array_equal(context.X, window.session.dataset.X_train[rows])
    assert np.array_equal(context.Y, window.session.dataset.Y_train[rows])


def test_a_ranking_row_selects_its_edge_on_canvas_and_inspector(qtbot, window):
    window.inspector_dock.show()
    window.step_action.trigger()
    wait_for_steps(qtbot, window, 1)
    ranking = window.inspector.ranking
    ranking.set_context(window.inspector._context)
    top = ranking.ranked()[0]
    ranking.table.cellClicked.emit(0, 0)
    selected = window.inspector.selection
    assert (selected.kind, selected.layer, selected.j, selected.k) == (
        "edge",
        top.layer,
        top.j,
        top.k,
    )
    hit = window.canvas._selection
    assert (hit.kind, hit.layer, hit.j, hit.k) == ("edge", top.layer, top.j, top.k)


def test_the_chosen_example_fills_the_canvas_neurons(qtbot, window):
    window.inspector_dock.show()
    window.step_action.trigger()
    wait_for_steps(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.inspector._context is not None, timeout=3000)
    window.inspector.set_example(1)
    context = window.inspector._context
    expected = context.network.predict(context.X[1:2])[0]
    shown = window.canvas._example
    assert shown is not None and len(shown) == len(window.session.network.sizes)
    assert np.allclose(shown[-1], expected)
    assert np.allclose(shown[0], context.X[1])


def test_switching_edge_mode_on_the_canvas_checks_the_menu_item(window):
    window.canvas.set_edge_mode("gradient")
    assert window.edge_mode_actions["gradient"].isChecked()
    window.edge_mode_actions["weight"].trigger()
    assert window.canvas.edge_mode == "weight"


def _visible_tab_groups(window):
    from PySide6.QtWidgets import QTabBar

    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window]
    return sorted(
        tuple(bar.tabText(i) for i in range(bar.count()))
        for bar in bars
        if bar.isVisible()
    )


def test_views_sit_in_two_tab_groups_with_no_stray_tab_bar(make_window, store):
    expected = [("Cost", "Gradient norms"), ("Weights", "Decision map")]
    first = make_window()
    assert _visible_tab_groups(first) == expected
    first.save_state()
    first.close()
    second = make_window()
    assert _visible_tab_groups(second) == expected


def _press(qtbot, canvas, text, near_x):
    from PySide6.QtCore import Qt

    item = min(
        (b for b in canvas.buttons() if b.text == text),
        key=lambda b: abs(b.scenePos().x() - near_x),
    )
    where = canvas.mapFromScene(item.scenePos())
    qtbot.mouseClick(
        canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), where
    )


def test_a_network_built_with_canvas_buttons_trains_xor(qtbot, window):
    from backprop_lab.app import canvas_items as ci

    canvas, session = window.canvas, window.session
    hidden = session.network.sizes[1]
    _press(qtbot, canvas, "+", ci.COLUMN)  # one more neuron in hidden layer 1
    assert session.network.sizes == [2, hidden + 1, 1]
    _press(qtbot, canvas, "+ layer", 1.5 * ci.COLUMN)  # a second hidden layer
    assert len(session.network.sizes) == 4
    assert window.undo_stack.count() == 2
    data = session.dataset
    start = session.network.cost(data.X_train, data.Y_train, session.settings.cost)
    window.play_action.trigger()
    qtbot.waitUntil(
        lambda: (
            session.snapshot.network.sizes == session.network.sizes
            and session.snapshot.step > 200
        ),
        timeout=10000,
    )

    def trained() -> bool:
        net = session.network
        return net.cost(data.X_train, data.Y_train, session.settings.cost) < start / 2

    qtbot.waitUntil(trained, timeout=20000)
    window.play_action.trigger()
