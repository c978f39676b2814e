"""The window's life: closing while training, worker errors, saved layout."""

import gc
import logging
import time

import numpy as np
import pytest
from window_helpers import wait_for_steps

from backprop_lab.app.pacing import MAX_HOLD, hold_for


def test_closing_while_training_stops_the_worker_within_a_second(qtbot, window):
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 100)
    window.mark_saved()
    with qtbot.captureExceptions() as exceptions:
        window.close()
    assert window.session.thread.isFinished()
    assert not exceptions


def test_closing_gives_no_thread_warning(qtbot, make_window, qtlog):
    window = make_window()
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 100)
    window.mark_saved()
    window.close()
    assert window.session.thread.isFinished()
    del window
    gc.collect()
    messages = [record.message for record in qtlog.records]
    assert not [m for m in messages if "Destroyed while thread" in m]


def test_a_worker_error_is_logged_and_shown(qtbot, window, caplog):
    def broken(net):
        raise RuntimeError("a broken edit")

    with caplog.at_level(logging.ERROR):
        window.session._post("edit", broken)
        qtbot.waitUntil(lambda: "a broken edit" in window.banner.text())
    assert any("Traceback" in r.getMessage() for r in caplog.records)


def test_the_layout_and_settings_come_back_at_next_launch(qtbot, make_window, store):
    first = make_window()
    first.training_panel.learning_rate.setValue(0.123)
    first.data_dock.hide()
    first.mark_saved()
    first.close()
    second = make_window(settings=store)
    assert second.session.settings.learning_rate == pytest.approx(0.123)
    assert not second.data_dock.isVisible()


def test_a_slow_gui_gets_one_snapshot_with_every_step(qtbot, window):
    received = []
    window.session.snapshot_ready.connect(received.append)
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 10)
    seen = len(window.session.history)
    received.clear()
    time.sleep(0.5)  # the GUI thread is busy: the worker keeps only the newest
    qtbot.wait(30)
    # a queue would deliver the ~18 snapshots of that half second; latest-wins
    # delivers the newest one, and perhaps one more made during the wait
    assert len(received) <= 3
    steps = window.session.history.steps
    assert np.array_equal(steps, np.arange(1, len(steps) + 1))
    assert len(steps) > seen


def test_help_shows_the_inspectors_text(window):
    window.show_help()
    assert window._help.toPlainText()
    window._help.close()


def test_pacing_holds_snapshots_for_the_time_drawing_took():
    assert hold_for(0.03) == pytest.approx(0.07)
    assert hold_for(10.0) == MAX_HOLD


def test_a_held_session_merges_every_step_into_the_next_snapshot(qtbot, window):
    window.play_action.trigger()
    wait_for_steps(qtbot, window, 10)
    received = []
    window.session.snapshot_ready.connect(received.append)
    window.session.hold(0.4)
    qtbot.wait(300)
    assert not received
    qtbot.waitUntil(lambda: len(received) >= 1, timeout=2000)
    steps = window.session.history.steps
    assert np.array_equal(steps, np.arange(1, len(steps) + 1))


def test_run_opens_the_window_and_stops_its_worker_at_the_end(
    qtbot, tmp_path, dialogs, monkeypatch
):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from backprop_lab.app import main
    from backprop_lab.app.main_window import MainWindow

    native, user = QSettings.Format.NativeFormat, QSettings.Scope.UserScope
    QSettings.setPath(native, user, str(tmp_path))
    shown = []

    def exec_briefly(app):
        windows = QApplication.topLevelWidgets()
        shown.extend(w for w in windows if isinstance(w, MainWindow) and w.isVisible())
        qtbot.wait(500)
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_briefly)
    assert main.run() == 0
    assert shown and all(w.session.thread.isFinished() for w in shown)
    for window in shown:
        qtbot.addWidget(window)
        window.mark_saved()
        window.close()


def test_a_window_that_fails_to_build_stops_its_worker(qtbot, store, monkeypatch):
    from backprop_lab.app.main_window import MainWindow

    def broken(self):
        raise RuntimeError("no menus today")

    made = []
    monkeypatch.setattr(MainWindow, "_build_menus", broken)
    monkeypatch.setattr(
        "backprop_lab.app.main_window.TrainingSession.stop",
        _recording_stop(made),
    )
    with pytest.raises(RuntimeError, match="no menus today"):
        MainWindow(store=store)
    assert made == [True]


def _recording_stop(made):
    from backprop_lab.app.session import TrainingSession

    original = TrainingSession.stop

    def stop(self, timeout_ms=1000):
        finished = original(self, timeout_ms)
        made.append(finished and self.thread.isFinished())
        return finished

    return stop
