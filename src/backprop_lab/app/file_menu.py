"""The File menu: projects, examples, exports and imported weights.

Every file problem ends in one message naming the file and the problem; the
project in the window stays as it was.
"""

import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from backprop_lab.app.edit_request import Edit
from backprop_lab.engine import Network
from backprop_lab.engine.datasets import DataError, make_dataset
from backprop_lab.engine.trainer import CostHistory, TrainingSettings
from backprop_lab.files.examples import example_paths
from backprop_lab.files.export import (
    ExportError,
    export_history_csv,
    export_json,
    export_npz,
    export_onnx,
    import_npz_weights,
)
from backprop_lab.files.project import (
    FILE_SUFFIX,
    Project,
    ProjectError,
    load_project,
    save_project,
)

logger = logging.getLogger(__name__)

MAX_RECENT = 8
DEFAULT_EXAMPLE = "xor"
PROJECT_FILTER = f"Backprop Lab projects (*{FILE_SUFFIX});;All files (*)"

# File > Export entries: label, suffix, file filter
EXPORTS = (
    ("npz", "Weights as NPZ...", ".npz", "NumPy archives (*.npz)"),
    ("json", "Weights as JSON...", ".json", "JSON files (*.json)"),
    ("onnx", "Network as ONNX...", ".onnx", "ONNX models (*.onnx)"),
    ("csv", "Cost history as CSV...", ".csv", "CSV files (*.csv)"),
    ("png", "Canvas as PNG...", ".png", "PNG images (*.png)"),
    ("svg", "Canvas as SVG...", ".svg", "SVG images (*.svg)"),
)


def fallback_project() -> Project:
    """XOR on a 2-3-1 network, for when no example file can be read."""
    network = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    settings = TrainingSettings(learning_rate=0.5, batch_size=4)
    data = {"kind": "builtin", "name": "xor", "n_points": 200, "noise": 0.1,
            "test_ratio": 0.5, "seed": 0}  # fmt: skip
    return Project(network=network, settings=settings, data=data, name="untitled")


def last_settings(store: QSettings, output_activation: str):
    """The training settings of the last session, or None."""
    text = store.value("training/settings")
    if not text:
        return None
    try:
        settings = TrainingSettings.from_dict(json.loads(str(text)))
        settings.validate(output_activation)
    except (ValueError, TypeError) as error:
        logger.warning("the last training settings are not usable: %s", error)
        return None
    return settings


def initial_project(store: QSettings) -> tuple[Project, object]:
    """The project the window opens with and its dataset: an example."""
    path = example_paths().get(DEFAULT_EXAMPLE)
    project = None
    if path is not None:
        try:
            project = load_project(path)
            project.name = DEFAULT_EXAMPLE
            project.history = None
        except ProjectError as error:
            logger.warning("%s", error)
    if project is None:
        project = fallback_project()
    settings = last_settings(store, project.network.activations[-1])
    if settings is not None:
        project.settings = settings
    return project, make_dataset(project.data)


def history_of(buffer) -> CostHistory | None:
    """The GUI's history buffer as the engine's CostHistory (None if empty)."""
    if len(buffer) == 0:
        return None
    return CostHistory.from_arrays(
        buffer.steps, buffer.train, buffer.test_steps, buffer.test, buffer.grad_norms
    )


def replace_parameters_edit(text: str, target: Network) -> Edit:
    """An Edit giving the network the weights, biases and masks of `target`."""

    def apply(net: Network) -> Network:
        if net.sizes != target.sizes:
            raise ValueError(
                f"the network is now {net!r}; the weights are for {target!r}"
            )
        return target.copy()

    return Edit(
        text, apply, lambda before: replace_parameters_edit(text, before.copy())
    )


class ProjectFiles(QObject):
    """New, Open, Save, Save As, recent files, examples, export and import."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.project_name = "untitled"
        self.data_source: dict = {}
        self.examples = {
            name: path for name, path in example_paths().items() if path.exists()
        }

    @property
    def session(self):
        return self.window.session

    # --- menu -------------------------------------------------------------------

    def _add(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def build_menu(self, menu: QMenu) -> None:
        keys = QKeySequence.StandardKey
        self.new_action = self._add(menu, "&New", self.new_project, keys.New)
        self.open_action = self._add(menu, "&Open...", self.open_dialog, keys.Open)
        self.recent_menu = menu.addMenu("Open &Recent")
        self.examples_menu = menu.addMenu("&Examples")
        for name, path in self.examples.items():
            self._add(
                self.examples_menu, name, lambda _=False, p=path: self.open_example(p)
            )
        menu.addSeparator()
        self.save_action = self._add(menu, "&Save", self.save, keys.Save)
        self.save_as_action = self._add(
            menu, "Save &As...", self.save_as, "Ctrl+Shift+S"
        )
        menu.addSeparator()
        export_menu = menu.addMenu("E&xport")
        self.export_actions = {}
        for kind, label, _suffix, _filter in EXPORTS:
            action = self._add(
                export_menu, label, lambda _=False, k=kind: self.export(k)
            )
            self.export_actions[kind] = action
        export_menu.addSeparator()
        self.view_export_actions = [
            self._add(
                export_menu,
                f"{view.title} view as image...",
                lambda _=False, v=view: self.export_view(v),
            )
            for view in self.window.views
        ]
        self.import_action = self._add(
            menu, "&Import weights from NPZ...", self.import_weights_dialog
        )
        menu.addSeparator()
        self.quit_action = self._add(menu, "&Quit", self.window.close, keys.Quit)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self._fill_recent_menu()

    def recent_paths(self) -> list[str]:
        value = self.window.store.value("files/recent") or "[]"
        try:
            paths = json.loads(str(value))
        except ValueError:
            return []
        return [str(p) for p in paths if isinstance(p, str)]

    def _remember(self, path: Path) -> None:
        paths = [str(path)] + [p for p in self.recent_paths() if p != str(path)]
        self.window.store.setValue("files/recent", json.dumps(paths[:MAX_RECENT]))
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_paths()
        for path in paths:
            self._add(self.recent_menu, path, lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(paths))

    # --- showing a project ------------------------------------------------------

    def show_project(self, project: Project, dataset, path: Path | None) -> None:
        """Make the window show a project already given to the session."""
        window = self.window
        self.path = Path(path) if path is not None else None
        self.project_name = project.name or "untitled"
        self.data_source = dict(project.data)
        base = self.path.parent if self.path else None
        window.data_panel.set_source(self.data_source, base)
        window._on_dataset_changed(dataset)
        window.training_panel.set_settings(project.settings)
        window.training_panel.set_output_activation(project.network.activations[-1])
        window.banner.hide()
        window.undo_stack.clear()
        window.mark_saved()

    def _load(self, project: Project, path: Path | None) -> bool:
        """Give the session a loaded project; False (and a message) if refused."""
        base = path.parent if path is not None else None
        try:
            dataset = make_dataset(project.data, base_dir=base)
            self.session.load(
                project.network, dataset, project.settings, project.history
            )
        except (DataError, ValueError) as error:
            name = path.name if path is not None else project.name
            self.window.show_error("Cannot open the project", f"{name}: {error}")
            return False
        self.show_project(project, dataset, path)
        return True

    # --- File menu actions --------------------------------------------------------

    @Slot()
    def new_project(self) -> bool:
        if not self.maybe_save():
            return False
        return self._load(fallback_project(), None)

    @Slot()
    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open a project", self._folder(), PROJECT_FILTER
        )
        return bool(path) and self.open_path(path, ask=False)

    def open_path(self, path, ask: bool = True) -> bool:
        """Open a project file; on any problem say so and keep the current one."""
        if ask and not self.maybe_save():
            return False
        path = Path(path)
        try:
            project = load_project(path)
        except ProjectError as error:
            logger.warning("%s", error)
            self.window.show_error("Cannot open the project", str(error))
            return False
        project.name = project.name or path.stem
        if not self._load(project, path):
            return False
        self._remember(path)
        return True

    def open_example(self, path) -> bool:
        """Open a shipped example as a new, unsaved project."""
        if not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except ProjectError as error:
            self.window.show_error("Cannot open the example", str(error))
            return False
        project.name = Path(path).stem
        return self._load(project, None)

    @Slot()
    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.write(self.path)

    @Slot()
    def save_as(self) -> bool:
        suggestion = str(Path(self._folder()) / f"{self.project_name}{FILE_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save the project", suggestion, PROJECT_FILTER
        )
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(FILE_SUFFIX)
        return self.write(path)

    def current_project(self, name: str) -> Project:
        session = self.session
        return Project(
            network=session.network.copy(),
            settings=session.settings,
            data=dict(self.data_source),
            history=history_of(session.history),
            name=name,
        )

    def write(self, path: Path) -> bool:
        """Save the project to `path`; False (and a message) if it failed."""
        project = self.current_project(path.stem)
        try:
            save_project(project, path)
        except (ProjectError, OSError) as error:
            logger.warning("saving %s failed: %s", path, error)
            self.window.show_error("Cannot save the project", str(error))
            return False
        self.path = path
        self.project_name = project.name
        self.window.mark_saved()
        self._remember(path)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.window.is_modified():
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"{self.project_name} has unsaved changes. Save them first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def _folder(self) -> str:
        return str(self.path.parent) if self.path is not None else str(Path.home())

    # --- data ---------------------------------------------------------------------

    @Slot(object)
    def use_data_source(self, source: dict) -> bool:
        """Load the data the data panel describes and train on it."""
        base = self.path.parent if self.path else None
        try:
            dataset = make_dataset(source, base_dir=base)
        except (DataError, ValueError, OSError) as error:
            self.window.show_error("Cannot use this data", str(error))
            return False
        before = list(self.session.network.sizes)
        self.session.set_dataset(dataset)
        if self.session.network.sizes != before:
            self.window.undo_stack.clear()
        self.data_source = dict(source)
        self.window._mark_changed()
        return True

    # --- export and import ----------------------------------------------------------

    def export(self, kind: str, path=None) -> bool:
        """Write the network, the history or the canvas as `kind`."""
        _kind, label, suffix, file_filter = next(e for e in EXPORTS if e[0] == kind)
        name = f"{self.project_name}{suffix}"
        return self._export_to(
            label, name, file_filter, lambda p: self._write_export(kind, p), path
        )

    def export_view(self, view, path=None) -> bool:
        """Write what one view shows as a PNG or SVG image."""
        slug = view.title.lower().replace(" ", "-")
        return self._export_to(
            f"{view.title} view as image",
            f"{self.project_name}-{slug}.png",
            "PNG images (*.png);;SVG images (*.svg)",
            view.export_image,
            path,
        )

    def _export_to(self, label, name, file_filter, write, path=None) -> bool:
        """Ask for a path unless given, write, and say how it went."""
        if path is None:
            suggestion = str(Path(self._folder()) / name)
            path, _ = QFileDialog.getSaveFileName(
                self.window, label.rstrip("."), suggestion, file_filter
            )
            if not path:
                return False
        try:
            write(Path(path))
        except (ExportError, ValueError, OSError) as error:
            logger.warning("export to %s failed: %s", path, error)
            self.window.show_error("Cannot export", str(error))
            return False
        self.window.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def _write_export(self, kind: str, path: Path) -> None:
        network, cost = self.session.network, self.session.settings.cost
        if kind == "npz":
            export_npz(network, path, cost=cost)
        elif kind == "json":
            export_json(network, path, cost=cost)
        elif kind == "onnx":
            export_onnx(network, path)
        elif kind == "csv":
            history = history_of(self.session.history)
            if history is None:
                raise ExportError(f"{path.name}: there is no cost history yet")
            export_history_csv(history, path)
        else:
            self.window.canvas.export_image(path.with_suffix(f".{kind}"))

    @Slot()
    def import_weights_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import weights", self._folder(), EXPORTS[0][3]
        )
        return bool(path) and self.import_weights(path)

    def import_weights(self, path) -> bool:
        """Replace the weights by those of an NPZ; an undoable edit."""
        try:
            imported = import_npz_weights(self.session.network, path)
        except (ExportError, ValueError, OSError) as error:
            self.window.show_error("Cannot import the weights", str(error))
            return False
        edit = replace_parameters_edit(
            f"Import weights from {Path(path).name}", imported
        )
        return self.window.request_edit(edit)
