"""Fixtures for driving the real main window."""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox


class Dialogs:
    """Stands in for the modal dialogs: records them and answers them."""

    def __init__(self):
        self.errors: list[str] = []
        self.questions: list[str] = []
        self.answer = QMessageBox.StandardButton.Discard
        self.open_path = ""
        self.save_path = ""

    def critical(self, parent, title, text, *args, **kwargs):
        self.errors.append(text)
        return QMessageBox.StandardButton.Ok

    def question(self, parent, title, text, *args, **kwargs):
        self.questions.append(text)
        return self.answer

    def get_open(self, *args, **kwargs):
        return str(self.open_path), ""

    def get_save(self, *args, **kwargs):
        return str(self.save_path), ""


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    fake = Dialogs()
    monkeypatch.setattr(QMessageBox, "critical", fake.critical)
    monkeypatch.setattr(QMessageBox, "question", fake.question)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake.get_open)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake.get_save)
    return fake


@pytest.fixture
def store(tmp_path) -> QSettings:
    """Settings in a temporary file, never the user's own."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, store, dialogs):
    """Build main windows; each is closed at the end and its worker checked."""
    from backprop_lab.app.main_window import MainWindow

    made = []

    def make(project_path=None, settings=store):
        window = MainWindow(project_path=project_path, store=settings)
        qtbot.addWidget(window, before_close_func=_discard_changes)
        window.show()
        qtbot.waitUntil(lambda: window.session.snapshot is not None, timeout=3000)
        made.append(window)
        return window

    yield make
    for window in made:
        _discard_changes(window)
        window.close()
        assert window.session.thread.wait(1000), "the training worker kept running"


@pytest.fixture
def window(make_window):
    return make_window()


def _discard_changes(window) -> None:
    window.mark_saved()
