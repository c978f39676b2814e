"""The main window driven as a user would: train, edit, undo, views, closing."""

import numpy as np
from window_helpers import finite, wait_for_steps

from backprop_lab.app import commands


def recent_cost(window, n=50) -> float:
    costs = window.session.history.train
    return float(costs[-n:].mean()) if len(costs) >= n else np.inf


def test_the_window_opens_with_xor_ready_to_train(window):
    network, dataset = window.session.network, window.session.dataset
    assert network.sizes[0] == dataset.n_inputs == 2
    assert network.sizes[-1] == dataset.n_outputs == 1
    assert window.windowTitle().startswith("xor")
    assert not window.isWindowModified()
    assert window.play_action.text() == "Play"


def test_play_trains_xor_until_the_cost_falls(qtbot, window):
    start = window.session.network.cost(
        window.session.dataset.X_train,
        window.session.dataset.Y_train,
        window.session.settings.cost,
    )
    window.play_action.trigger()
    assert window.play_action.text() == "Pause"
    qtbot.waitUntil(lambda: recent_cost(window) < 0.5 * start, timeout=20000)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: not window.session.snapshot.running, timeout=2000)
    step = window.session.snapshot.step
    assert window.status_labels["step"].text() == f"step {step}"
    assert window.isWindowModified()


def test_step_runs_one_step_and_shows_it_in_the_status_bar(qtbot, window):
    window.step_action.trigger()
    snapshot = wait_for_steps(qtbot, window, 1)
    assert snapshot.step == 1 and not snapshot.running
    qtbot.waitUntil(lambda: window.status_labels["step"].text() == "step 1")


def test_an_edit_while_training_keeps_the_trained_weights(qtbot, window):
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 300)
    before = window.session.network
    assert window.request_edit(commands.add_neuron_edit(0))
    after = window.session.network
    assert after.sizes == [2, 3, 1]
    assert np.array_equal(after.weights[0][:2], before.weights[0])
    step = window.session.snapshot.step
    qtbot.waitUntil(
        lambda: (
            window.session.snapshot.step > step + 100
            and window.session.snapshot.network.sizes == [2, 3, 1]
        ),
        timeout=5000,
    )
    assert window.session.running and finite(window.session.network)


def test_undo_and_redo_an_edit_from_the_edit_menu(qtbot, window):
    window.request_edit(commands.remove_neuron_edit(0, 1))
    assert window.session.network.sizes == [2, 1, 1]
    assert window.undo_action.isEnabled() and window.isWindowModified()
    window.undo_action.trigger()
    assert window.session.network.sizes == [2, 2, 1]
    window.redo_action.trigger()
    assert window.session.network.sizes == [2, 1, 1]
    qtbot.waitUntil(lambda: window.session.snapshot.network.sizes == [2, 1, 1])


def test_a_refused_edit_says_why_and_changes_nothing(window):
    before = window.session.network
    assert not window.request_edit(commands.remove_layer_edit(1))
    assert window.session.network is before
    assert window.banner.text()
    assert window.undo_stack.count() == 0


def test_every_view_can_be_shown_and_gets_snapshots(qtbot, window):
    window.play_action.trigger()
    for view, dock in zip(window.views, window.view_docks, strict=True):
        if not view.applies_to(window.session.dataset):
            continue
        dock.show()
        dock.raise_()
        seen = window.session.snapshot.step
        qtbot.waitUntil(
            lambda v=view, s=seen: v.snapshot is not None and v.snapshot.step > s,
            timeout=3000,
        )


def test_hidden_views_catch_up_on_the_whole_history_when_shown(qtbot, window):
    dock, view = window.view_docks[0], window.views[0]
    dock.hide()
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 500)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: not window.session.snapshot.running)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: view.snapshot is not None)
    assert view.snapshot.step == window.session.snapshot.step
    # every step recorded while hidden, and drawn once shown
    np.testing.assert_array_equal(view.train.x, window.session.history.steps)
    qtbot.waitUntil(lambda: len(view.train_curve.getData()[0]) > 0)
    assert view.train_curve.getData()[0][-1] == window.session.snapshot.step


def test_divergence_on_spiral_pauses_and_says_what_to_try(qtbot, window):
    window.files.open_example(window.files.examples["spiral"])
    window.training_panel.learning_rate.setValue(10.0)
    assert window.session.settings.learning_rate == 10.0
    window.play_action.trigger()
    qtbot.waitUntil(lambda: "Training paused" in window.banner.text(), timeout=5000)
    assert "learning rate" in window.banner.text()
    assert "learning rate" in window.statusBar().currentMessage()
    assert not window.session.running
    assert window.play_action.text() == "Play"
    assert finite(window.session.network)


def test_settings_change_while_training(qtbot, window):
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 50)
    window.training_panel.batch_size.setValue(3)
    window.training_panel.optimizer.setCurrentIndex(0)
    assert window.session.settings.batch_size == 3
    qtbot.waitUntil(
        lambda: len(window.session.snapshot.batch_indices) == 3, timeout=5000
    )
    assert window.session.running


def test_a_cost_that_does_not_fit_the_output_is_refused(window):
    panel = window.training_panel
    panel.output_activation.setCurrentIndex(panel.output_activation.findData("tanh"))
    assert window.session.network.activations[-1] == "sigmoid"
    assert panel.output_activation.currentData() == "sigmoid"
    assert "cross-entropy" in window.banner.text()


def test_the_output_activation_is_an_undoable_edit(window):
    window.training_panel.cost.setCurrentIndex(0)
    assert window.session.settings.cost == "quadratic"
    panel = window.training_panel
    panel.output_activation.setCurrentIndex(panel.output_activation.findData("tanh"))
    assert window.session.network.activations[-1] == "tanh"
    window.undo_action.trigger()
    assert window.session.network.activations[-1] == "sigmoid"
    assert panel.output_activation.currentData() == "sigmoid"


def test_digits_make_the_input_and_output_layers_follow(qtbot, window):
    panel = window.data_panel
    panel.kind.setCurrentIndex(panel.kind.findData("digits"))
    panel.apply_button.click()
    assert window.session.network.sizes[0] == 64
    assert window.session.network.sizes[-1] == 10
    window.play_action.trigger()
    snapshot = wait_for_steps(qtbot, window, 20)
    assert snapshot.network.sizes[0] == 64
    assert "64 inputs" in panel.summary.text()


def test_regenerate_draws_new_points(window):
    before = window.session.dataset.X_train.copy()
    window.data_panel.regenerate_button.click()
    assert not np.array_equal(window.session.dataset.X_train, before)


def test_the_lessons_chain_trains(qtbot, window):
    panel = window.data_panel
    panel.kind.setCurrentIndex(panel.kind.findData("chain"))
    panel.apply_button.click()
    assert window.session.network.sizes[0] == 1
    assert window.session.network.sizes[-1] == 1


def test_a_stop_after_steps_pauses_training_there(qtbot, window):
    panel = window.training_panel
    panel.stop_steps.setValue(150)
    panel.stop_steps_enabled.setChecked(True)
    assert window.session.settings.max_steps == 150
    window.play_action.trigger()
    qtbot.waitUntil(lambda: "Training paused" in window.banner.text(), timeout=5000)
    assert window.session.snapshot.step == 150
    assert "150 steps" in window.banner.text()
    assert not window.session.running


def test_menus_carry_the_standard_shortcuts(window):
    def keys(action):
        return [s.toString() for s in action.shortcuts()]

    assert keys(window.play_action) == ["Space"]
    assert "Ctrl+Z" in keys(window.undo_action)
    assert "Ctrl+Shift+Z" in keys(window.redo_action)
    files = window.files
    assert keys(files.new_action) == ["Ctrl+N"]
    assert keys(files.open_action) == ["Ctrl+O"]
    assert keys(files.save_action) == ["Ctrl+S"]
    assert keys(files.save_as_action) == ["Ctrl+Shift+S"]
    assert keys(files.quit_action) == ["Ctrl+Q"]


def test_the_view_menu_toggles_docks_and_the_edge_mode(window, monkeypatch):
    modes = []
    monkeypatch.setattr(window.canvas, "set_edge_mode", modes.append)
    window.edge_mode_actions["gradient"].trigger()
    assert modes == ["gradient"]
    action = window.data_dock.toggleViewAction()
    action.trigger()
    assert not window.data_dock.isVisible()
    action.trigger()
    assert window.data_dock.isVisible()
