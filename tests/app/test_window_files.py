"""The File menu: save, open, recent, examples, export, import, unsaved changes."""

import numpy as np
from PySide6.QtWidgets import QMessageBox
from window_helpers import wait_for_steps

from backprop_lab.app import commands
from backprop_lab.files.project import load_project

Button = QMessageBox.StandardButton


def train_a_little(qtbot, window, steps=50):
    window.play_action.trigger()
    wait_for_steps(qtbot, window, steps)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: not window.session.snapshot.running)


def same_parameters(a, b) -> bool:
    pairs = zip([*a.weights, *a.biases], [*b.weights, *b.biases], strict=True)
    return a.sizes == b.sizes and all(np.array_equal(x, y) for x, y in pairs)


def test_a_bad_project_file_says_why_and_keeps_the_current_one(
    window, dialogs, tmp_path
):
    bad = tmp_path / "broken.bplab"
    bad.write_text("{ this is not json", encoding="utf-8")
    before, title = window.session.network, window.windowTitle()
    dialogs.open_path = bad
    window.files.open_action.trigger()
    assert len(dialogs.errors) == 1 and "broken.bplab" in dialogs.errors[0]
    assert window.session.network is before
    assert window.windowTitle() == title


def test_a_project_whose_data_is_missing_is_refused(window, dialogs, tmp_path):
    project = window.files.current_project("lost")
    project.data = {"kind": "csv", "path": str(tmp_path / "gone.csv"),
                    "inputs": ["x"], "targets": ["y"]}  # fmt: skip
    path = tmp_path / "lost.bplab"
    from backprop_lab.files.project import save_project

    save_project(project, path)
    before = window.session.network
    assert not window.files.open_path(path)
    assert dialogs.errors and "gone.csv" in dialogs.errors[-1]
    assert window.session.network is before


def test_save_as_and_open_round_trip_the_weights_exactly(
    qtbot, window, dialogs, tmp_path
):
    train_a_little(qtbot, window)
    trained = window.session.network
    dialogs.save_path = tmp_path / "mine"
    window.files.save_as_action.trigger()
    saved = tmp_path / "mine.bplab"
    assert saved.exists() and not window.isWindowModified()
    assert window.windowTitle().startswith("mine")
    assert same_parameters(load_project(saved).network, trained)

    window.request_edit(commands.add_neuron_edit(0))
    assert window.isWindowModified()
    dialogs.open_path = saved
    window.files.open_action.trigger()
    assert len(dialogs.questions) == 1
    assert same_parameters(window.session.network, trained)
    assert not window.isWindowModified()
    assert window.undo_stack.count() == 0


def test_the_history_is_saved_and_comes_back(qtbot, window, dialogs, tmp_path):
    train_a_little(qtbot, window, 120)
    steps = window.session.history.steps.copy()
    path = tmp_path / "history.bplab"
    assert window.files.write(path)
    assert np.array_equal(load_project(path).history.steps, steps)
    window.reset_action.trigger()
    qtbot.waitUntil(lambda: window.session.snapshot.step == 0)
    window.files.open_path(path)
    qtbot.waitUntil(lambda: len(window.session.history) == len(steps))
    assert window.session.snapshot.step == steps[-1]


def test_save_reuses_the_path_and_clears_the_marker(qtbot, window, dialogs, tmp_path):
    path = tmp_path / "again.bplab"
    window.files.write(path)
    window.request_edit(commands.remove_neuron_edit(0, 0))
    assert window.isWindowModified()
    window.files.save_action.trigger()
    assert not window.isWindowModified()
    assert load_project(path).network.sizes == [2, 1, 1]


def test_cancel_keeps_the_window_open_with_its_changes(window, dialogs):
    window.request_edit(commands.remove_neuron_edit(0, 0))
    dialogs.answer = Button.Cancel
    window.close()
    assert window.isVisible() and dialogs.questions
    assert window.session.thread.isRunning()


def test_answering_save_writes_the_project_before_closing(window, dialogs, tmp_path):
    window.request_edit(commands.remove_neuron_edit(0, 0))
    dialogs.answer = Button.Save
    dialogs.save_path = tmp_path / "kept.bplab"
    window.close()
    assert not window.isVisible()
    assert load_project(tmp_path / "kept.bplab").network.sizes == [2, 1, 1]


def test_new_asks_first_then_starts_an_untitled_project(window, dialogs):
    window.request_edit(commands.remove_neuron_edit(0, 0))
    window.files.new_action.trigger()
    assert dialogs.questions
    assert window.windowTitle().startswith("untitled")
    assert window.undo_stack.count() == 0


def test_saved_projects_appear_under_open_recent(window, dialogs, tmp_path):
    window.files.write(tmp_path / "one.bplab")
    window.files.write(tmp_path / "two.bplab")
    texts = [a.text() for a in window.files.recent_menu.actions()]
    assert texts[:2] == [str(tmp_path / "two.bplab"), str(tmp_path / "one.bplab")]
    window.files.recent_menu.actions()[1].trigger()
    assert window.windowTitle().startswith("one")


def test_every_example_opens_from_the_examples_menu(window, dialogs):
    sizes = {}
    for action in window.files.examples_menu.actions():
        action.trigger()
        sizes[action.text()] = window.session.network.sizes
        assert window.files.path is None
    assert sizes["chain"] == [1, 1, 1, 1]
    assert sizes["xor"] == [2, 2, 1]
    assert sizes["spiral"] == [2, 8, 8, 1]
    assert sizes["digits"] == [64, 16, 16, 10]
    assert not dialogs.errors


def test_every_export_writes_its_file(qtbot, window, dialogs, tmp_path):
    train_a_little(qtbot, window, 20)
    for kind in ("npz", "json", "onnx", "csv", "png", "svg"):
        dialogs.save_path = tmp_path / f"out.{kind}"
        window.files.export_actions[kind].trigger()
        assert (tmp_path / f"out.{kind}").stat().st_size > 0, kind
    assert not dialogs.errors


def test_each_shown_view_exports_as_png_and_svg(qtbot, window, dialogs, tmp_path):
    train_a_little(qtbot, window, 20)
    pairs = zip(window.views, window.view_docks, window.files.view_export_actions)
    shown = [(view, action) for view, dock, action in pairs if dock.isVisible()]
    assert shown
    for index, (view, action) in enumerate(shown):
        for suffix in ("png", "svg"):
            dialogs.save_path = tmp_path / f"view{index}.{suffix}"
            action.trigger()
            data = dialogs.save_path.read_bytes()
            if suffix == "png":
                assert data.startswith(b"\x89PNG"), view.title
            else:
                assert b"<svg" in data[:1000], view.title
    assert not dialogs.errors


def test_imported_weights_replace_the_network_and_can_be_undone(
    qtbot, window, dialogs, tmp_path
):
    exported = window.session.network
    window.files.export("npz", tmp_path / "w.npz")
    train_a_little(qtbot, window)
    trained = window.session.network
    dialogs.open_path = tmp_path / "w.npz"
    window.files.import_action.trigger()
    assert same_parameters(window.session.network, exported)
    window.undo_action.trigger()
    assert same_parameters(window.session.network, trained)


def test_weights_of_another_shape_are_refused(window, dialogs, tmp_path):
    from backprop_lab.engine import Network
    from backprop_lab.files.export import export_npz

    export_npz(Network([2, 5, 1], ["tanh", "sigmoid"]), tmp_path / "other.npz")
    before = window.session.network
    assert not window.files.import_weights(tmp_path / "other.npz")
    assert dialogs.errors and window.session.network is before


def test_a_project_named_on_the_command_line_opens(make_window, dialogs, tmp_path):
    first = make_window()
    first.files.open_example(first.files.examples["spiral"])
    first.files.write(tmp_path / "given.bplab")
    second = make_window(project_path=tmp_path / "given.bplab")
    assert second.windowTitle().startswith("given")
    assert second.session.network.sizes == [2, 8, 8, 1]


def test_a_bad_project_on_the_command_line_leaves_the_example(
    make_window, dialogs, tmp_path
):
    (tmp_path / "empty.bplab").write_bytes(b"")
    window = make_window(project_path=tmp_path / "empty.bplab")
    assert dialogs.errors and "empty.bplab" in dialogs.errors[0]
    assert window.windowTitle().startswith("xor")


def test_csv_data_with_chosen_columns(window, dialogs, tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.uniform(-1, 1, (40, 3))
    path = tmp_path / "points.csv"
    lines = ["a,b,c,y"] + [f"{a},{b},{c},{a + b - c}" for a, b, c in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    panel = window.data_panel
    panel.kind.setCurrentIndex(panel.kind.findData("csv"))
    panel.csv_path.setText(str(path))
    panel.csv_path.editingFinished.emit()
    assert [i.text() for i in panel.csv_inputs.selectedItems()] == ["a", "b", "c"]
    assert [i.text() for i in panel.csv_targets.selectedItems()] == ["y"]
    panel.apply_button.click()
    assert not dialogs.errors
    assert window.session.network.sizes[0] == 3
    assert window.session.dataset.task == "regression"
