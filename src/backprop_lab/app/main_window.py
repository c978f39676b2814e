"""The main window: the canvas in the middle, controls and views in docks."""

import json
import logging
import time

from PySide6.QtCore import QSettings, QSize, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backprop_lab import __version__
from backprop_lab.app.canvas import NetworkCanvas
from backprop_lab.app.commands import EditCommand, set_activation_edit
from backprop_lab.app.data_panel import DataPanel
from backprop_lab.app.edit_request import Edit
from backprop_lab.app.file_menu import ProjectFiles, initial_project
from backprop_lab.app.inspector import HELP_HTML, InspectorWidget
from backprop_lab.app.pacing import DrawPacer, hold_for
from backprop_lab.app.session import TrainingSession
from backprop_lab.app.snapshot import Snapshot
from backprop_lab.app.training_panel import TrainingPanel
from backprop_lab.app.views import ALL_VIEWS
from backprop_lab.engine import costs

logger = logging.getLogger(__name__)

APP_NAME = "Backprop Lab"
# while training, the inspector's live numbers are redrawn at most this often
INSPECTOR_INTERVAL = 0.2
ORGANIZATION = "BackpropLab"


def default_store() -> QSettings:
    return QSettings(ORGANIZATION, APP_NAME)


class Banner(QFrame):
    """A message across the top of the canvas, closed by the user or by play."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet(
            "#banner { background: #fff3cd; border-bottom: 1px solid #d8b24a; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("x")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class SizeFence(QWidget):
    """Holds one widget whose size hints change often (text of live numbers).

    Changes of the held widget's size hints stop here instead of making the
    whole window lay out its docks again on every snapshot.
    """

    def __init__(self, child: QWidget, parent=None):
        super().__init__(parent)
        self.child = child
        child.setParent(self)
        self._hint = child.sizeHint()
        self._minimum = child.minimumSizeHint()

    def sizeHint(self):
        return self._hint

    def minimumSizeHint(self):
        return self._minimum

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.child.setGeometry(self.rect())


class MainWindow(QMainWindow):
    """The canvas, docks for training, data, inspector and views, and menus.

    Everything here runs on the GUI thread; training runs in the session's
    worker thread.
    """

    def __init__(self, project_path=None, store: QSettings | None = None):
        super().__init__()
        self.store = store if store is not None else default_store()
        self.undo_stack = QUndoStack(self)
        self.view_docks: list[QDockWidget] = []
        self._hidden_for_data: set[int] = set()  # views the data has no use for
        self._other_changes = False
        self._saved_step = 0
        self._cost: float | None = None
        self._closed = False
        project, dataset = initial_project(self.store)
        self.session = TrainingSession(
            project.network, dataset, project.settings, parent=self
        )
        self.files = ProjectFiles(self)
        try:
            self._build(project, dataset)
        except BaseException:
            self.session.stop()  # never leave a running thread behind
            raise
        if project_path is not None:
            self.files.open_path(project_path, ask=False)

    # --- building -------------------------------------------------------------

    def _build(self, project, dataset) -> None:
        # while training, the canvas, views and inspector draw through it
        self.pacer = DrawPacer(parent=self)
        self.setAnimated(False)  # docks move at once; no animation per relayout
        # the side panels run the full height; the views sit under the canvas
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(
            Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self._build_central()
        self._build_actions()
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._connect_session()
        self.files.show_project(project, dataset, path=None)
        self._restore_state()

    def _build_central(self) -> None:
        self.banner = Banner()
        self.canvas = NetworkCanvas()
        self.canvas.set_pacer(self.pacer)
        self.canvas.edit_requested.connect(self.request_edit)
        self.canvas.set_network(self.session.network)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

    def _action(self, text, slot, shortcut=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        session = self.session
        self.play_action = self._action("Play", self.toggle_training, "Space")
        self.step_action = self._action("Step", lambda: session.step_once(), "F10")
        self.reset_action = self._action("Reset", self.reset_training, "Ctrl+R")
        self.reinit_action = self._action(
            "New random weights", self.reinitialize, "Ctrl+Shift+R"
        )
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(
            [
                QKeySequence("Ctrl+Shift+Z"),
                *QKeySequence.keyBindings(QKeySequence.StandardKey.Redo),
            ]
        )
        self.fit_action = self._canvas_action(
            "Fit to window", "fit_to_window", "Ctrl+0"
        )
        self.zoom_in_action = self._canvas_action("Zoom in", "zoom_in", "Ctrl++")
        self.zoom_out_action = self._canvas_action("Zoom out", "zoom_out", "Ctrl+-")
        self._build_edge_mode_actions()

    def _canvas_action(self, text, method, shortcut) -> QAction:
        return self._action(text, lambda: getattr(self.canvas, method)(), shortcut)

    def _build_edge_mode_actions(self) -> None:
        group = QActionGroup(self)
        self.edge_mode_actions = {}
        for mode, text, key in (
            ("weight", "Edges by weight", "Ctrl+1"),
            ("gradient", "Edges by gradient |dC/dw|", "Ctrl+2"),
        ):
            action = QAction(text, self, checkable=True)
            action.setShortcut(QKeySequence(key))
            action.setData(mode)
            group.addAction(action)
            self.edge_mode_actions[mode] = action
        self.edge_mode_actions["weight"].setChecked(True)
        group.triggered.connect(self._on_edge_mode)
        self.canvas.edge_mode_changed.connect(self._on_canvas_edge_mode)

    def _dock(self, title, widget, area=None, fenced=False) -> QDockWidget:
        """A dock holding `widget`, added to `area` unless that is None."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(SizeFence(widget) if fenced else widget)
        if area is not None:
            self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        actions = [self.play_action, self.step_action, self.reset_action]
        self.training_panel = TrainingPanel([*actions, self.reinit_action])
        self.training_dock = self._dock("Training", self.training_panel, left)
        self.data_panel = DataPanel()
        self.data_dock = self._dock("Data", self.data_panel, left)
        self.training_panel.settings_edited.connect(self._on_settings_edited)
        self.training_panel.output_activation_chosen.connect(self._on_output_chosen)
        self.data_panel.source_chosen.connect(self.files.use_data_source)
        self._build_inspector()
        self._build_view_docks()

    def _build_inspector(self) -> None:
        self.inspector = InspectorWidget()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.inspector_dock = self._dock("Inspector", self.inspector, right, True)
        self.inspector.edit_requested.connect(self.request_edit)
        self.inspector.neuron_requested.connect(self._on_neuron_requested)
        self.inspector_dock.visibilityChanged.connect(self._on_inspector_shown)
        self.inspector.highlight_requested.connect(self.canvas.highlight_edges)
        self.canvas.edge_selected.connect(self.inspector.select_edge)
        self.canvas.bias_selected.connect(self.inspector.select_bias)
        self.canvas.neuron_selected.connect(self.inspector.select_neuron)
        self.canvas.selection_cleared.connect(self.inspector.clear_selection)
        self.inspector.edge_requested.connect(self._on_edge_requested)
        self.inspector.example_activations_changed.connect(
            self.canvas.set_example_activations
        )

    def _build_view_docks(self) -> None:
        self.views = []
        for view_class in ALL_VIEWS:
            view = view_class()
            view.set_pacer(self.pacer)
            dock = self._dock(view.title, view, fenced=True)
            dock.setObjectName(f"view-{view_class.__name__}")
            self.views.append(view)
            self.view_docks.append(dock)
        self._arrange_view_docks()

    def _view_groups(self) -> tuple[list, list]:
        """Two groups of tabs side by side: curves, and pictures of weights."""
        curves = [d for d, v in zip(self.view_docks, self.views) if _is_curve(v)]
        pictures = [d for d in self.view_docks if d not in curves]
        return curves, pictures

    def _arrange_view_docks(self) -> None:
        """Place the first dock of each group; the others join at first show.

        Tabifying before the window is shown leaves a stray tab bar on top of
        the views, so `_tabify_view_docks` runs from the first showEvent.
        """
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for group in self._view_groups():
            if group:
                self.addDockWidget(bottom, group[0], Qt.Orientation.Horizontal)

    def _tabify_view_docks(self) -> None:
        for group in self._view_groups():
            for dock in group[1:]:
                self.tabifyDockWidget(group[0], dock)
            if group:
                group[0].raise_()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.files.build_menu(bar.addMenu("&File"))
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        training = bar.addMenu("&Training")
        training.addActions(
            [self.play_action, self.step_action, self.reset_action, self.reinit_action]
        )
        self._build_view_menu(bar.addMenu("&View"))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(
            self._action("How backprop works here", self.show_help, "F1")
        )
        help_menu.addAction(self._action("About Backprop Lab", self.show_about))

    def _build_view_menu(self, menu) -> None:
        panels = [self.training_dock, self.data_dock, self.inspector_dock]
        for dock in panels + self.view_docks:
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        menu.addActions([self.fit_action, self.zoom_in_action, self.zoom_out_action])
        menu.addSeparator()
        menu.addActions(list(self.edge_mode_actions.values()))

    def _build_status_bar(self) -> None:
        self.status_labels = {}
        for key in ("step", "epoch", "cost", "rate"):
            label = QLabel("0")
            # a fixed size: new numbers never make the window lay out again
            label.setFixedSize(120, label.sizeHint().height())
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self._show_counters(0, 0, None, 0.0)

    def _connect_session(self) -> None:
        session = self.session
        session.snapshot_ready.connect(self._on_snapshot)
        session.network_changed.connect(self._on_network_changed)
        session.dataset_changed.connect(self._on_dataset_changed)
        session.settings_changed.connect(self._on_settings_changed)
        session.error_occurred.connect(self._on_worker_error)
        session.running_changed.connect(self._on_running_changed)
        self.undo_stack.cleanChanged.connect(self.update_title)
        self.undo_stack.indexChanged.connect(self.update_title)

    # --- state saved between launches -----------------------------------------

    def _restore_state(self) -> None:
        geometry = self.store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(self._first_size())
        state = self.store.value("window/state")
        self._first_layout = state is None or not self.restoreState(state)
        self._hide_views_that_do_not_apply()

    def _first_size(self) -> QSize:
        """At least 1280 x 820, and most of a larger screen."""
        size = QSize(1280, 820)
        screen = self.screen()
        if screen is not None:
            room = screen.availableGeometry().size()
            size = size.expandedTo(
                QSize(room.width() * 92 // 100, room.height() * 92 // 100)
            )
        return size

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._first_layout:
            self._first_layout = False
            self._tabify_view_docks()
            self._size_docks()

    def _size_docks(self) -> None:
        """The first layout: side panels of a readable width, views tall enough."""
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks(
            [self.training_dock, self.inspector_dock], [340, 380], horizontal
        )
        if self.view_docks:
            self.resizeDocks(self.view_docks[:1], [int(self.height() * 0.4)], vertical)

    def save_state(self) -> None:
        self.store.setValue("window/geometry", self.saveGeometry())
        self.store.setValue("window/state", self.saveState())
        settings = json.dumps(self.session.settings.to_dict())
        self.store.setValue("training/settings", settings)
        self.store.sync()

    # --- editing ----------------------------------------------------------------

    @Slot(object)
    def request_edit(self, edit: Edit) -> bool:
        """Dry-run `edit` on a copy; push it on the undo stack if allowed."""
        try:
            edited = edit.apply(self.session.network.copy())
            costs.check_cost(self.session.settings.cost, edited.activations[-1])
        except ValueError as error:
            self.show_refusal(f"{edit.text}: {error}")
            return False
        command = EditCommand(edit, self.session)
        self.undo_stack.push(command)
        if command.error:
            self.show_refusal(f"{edit.text}: {command.error}")
            return False
        return True

    def show_refusal(self, text: str) -> None:
        logger.info("refused: %s", text)
        self.statusBar().showMessage(text, 8000)
        self.banner.show_message(text)

    # --- training ----------------------------------------------------------------

    @Slot()
    def toggle_training(self) -> None:
        if not self.session.running:
            self.banner.hide()
        self.session.toggle()

    @Slot()
    def reset_training(self) -> None:
        self.session.reset()
        self._mark_changed()

    @Slot()
    def reinitialize(self) -> None:
        self.session.reinitialize()
        self._mark_changed()

    @Slot(object)
    def _on_settings_edited(self, settings) -> None:
        try:
            self.session.set_settings(settings)
        except ValueError as error:
            self.show_refusal(str(error))
            self.training_panel.set_settings(self.session.settings)
            return
        self._mark_changed()

    @Slot(str)
    def _on_output_chosen(self, name: str) -> None:
        layer = self.session.network.n_layers - 1
        if not self.request_edit(set_activation_edit(layer, name)):
            self.training_panel.set_output_activation(
                self.session.network.activations[-1]
            )

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        started = time.perf_counter()
        self.canvas.update_snapshot(snapshot)
        for view in self.views:
            # a hidden view only records the history; it draws when shown
            view.update_snapshot(snapshot)
        self._update_panels(snapshot)
        self._pace(time.perf_counter() - started)

    def _pace(self, busy: float) -> None:
        """Hold the next snapshot by the time the last took.

        Drawing and painting are paced apart, by self.pacer.
        """
        self.session.hold(hold_for(busy))

    def _update_panels(self, snapshot: Snapshot) -> None:
        if _shown(self.inspector_dock):
            if snapshot.running:
                self.pacer.request(
                    self.inspector,
                    lambda: self._update_shown_inspector(snapshot),
                    INSPECTOR_INTERVAL,
                )
            else:
                self.pacer.drawn(self.inspector)
                self._update_inspector(snapshot.network, snapshot)
        if len(snapshot.new_train_costs):
            self._cost = float(snapshot.new_train_costs[-1])
        self._show_counters(
            snapshot.step, snapshot.epoch, self._cost, snapshot.steps_per_second
        )
        if snapshot.message:
            self._show_stop_message(snapshot.message)
        if snapshot.step != self._saved_step:
            self.update_title()

    def _update_shown_inspector(self, snapshot: Snapshot) -> None:
        if _shown(self.inspector_dock):
            self._update_inspector(snapshot.network, snapshot)

    def _show_stop_message(self, message: str) -> None:
        self.banner.show_message(f"Training paused: {message}")
        self.statusBar().showMessage(f"Training paused: {message}", 15000)

    def _show_counters(self, step, epoch, cost, rate) -> None:
        labels = self.status_labels
        labels["step"].setText(f"step {step}")
        labels["epoch"].setText(f"epoch {epoch}")
        labels["cost"].setText("cost -" if cost is None else f"cost {cost:.5g}")
        labels["rate"].setText(f"{rate:,.0f} steps/s")

    def _update_inspector(self, network, snapshot: Snapshot | None = None) -> None:
        """Explain the batch of the last step, or the first batch before any."""
        dataset, settings = self.session.dataset, self.session.settings
        snapshot = snapshot or self.session.snapshot
        rows = slice(0, max(1, settings.batch_size))
        if snapshot is not None and len(snapshot.batch_indices):
            if snapshot.batch_indices.max() < len(dataset.X_train):
                rows = snapshot.batch_indices
        self.inspector.set_context(
            network,
            dataset.X_train[rows],
            dataset.Y_train[rows],
            settings.cost,
            settings=settings,
            step=None if snapshot is None else snapshot.step,
        )

    @Slot(object)
    def _on_network_changed(self, network) -> None:
        self.canvas.set_network(network)
        self._update_inspector(network)
        self.training_panel.set_output_activation(network.activations[-1])
        self.update_title()

    @Slot(object)
    def _on_dataset_changed(self, dataset) -> None:
        for view in self.views:
            view.reset()
            view.set_dataset(dataset)
        self._hide_views_that_do_not_apply()
        self.data_panel.show_summary(dataset)
        self._cost = None

    def _hide_views_that_do_not_apply(self) -> None:
        """Hide views with nothing to show; bring back those hidden for that."""
        dataset = self.session.dataset
        for index, (view, dock) in enumerate(zip(self.views, self.view_docks)):
            applies = view.applies_to(dataset)
            dock.toggleViewAction().setEnabled(applies)
            if not applies and dock.isVisibleTo(self):
                self._hidden_for_data.add(index)
                dock.hide()
            elif applies and index in self._hidden_for_data:
                self._hidden_for_data.discard(index)
                dock.show()

    @Slot(object)
    def _on_settings_changed(self, settings) -> None:
        self.training_panel.set_settings(settings)

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        self.play_action.setText("Pause" if running else "Play")

    @Slot(str)
    def _on_worker_error(self, text: str) -> None:
        last = text.strip().splitlines()[-1] if text.strip() else "unknown error"
        self.banner.show_message(f"Training stopped by an error: {last}")
        self.statusBar().showMessage(f"Training stopped by an error: {last}", 15000)

    def _on_inspector_shown(self, shown: bool) -> None:
        if shown:
            self._update_inspector(self.session.network)

    def _on_neuron_requested(self, layer: int, j: int) -> None:
        self.canvas.select_neuron(layer, j)
        self.inspector.select_neuron(layer, j)

    def _on_edge_requested(self, layer: int, j: int, k: int) -> None:
        self.canvas.select_edge(layer, j, k)
        self.inspector.select_edge(layer, j, k)

    def _on_edge_mode(self, action: QAction) -> None:
        self.canvas.set_edge_mode(action.data())

    def _on_canvas_edge_mode(self, mode: str) -> None:
        self.edge_mode_actions[mode].setChecked(True)

    # --- unsaved changes and the title ---------------------------------------

    def _mark_changed(self) -> None:
        self._other_changes = True
        self.update_title()

    def is_modified(self) -> bool:
        snapshot = self.session.snapshot
        trained = snapshot is not None and snapshot.step != self._saved_step
        return self._other_changes or not self.undo_stack.isClean() or trained

    def mark_saved(self) -> None:
        snapshot = self.session.snapshot
        self._saved_step = snapshot.step if snapshot is not None else 0
        self._other_changes = False
        self.undo_stack.setClean()
        self.update_title()

    @Slot()
    def update_title(self, *_) -> None:
        title = f"{self.files.project_name}[*] - {APP_NAME}"
        if title != self.windowTitle():
            self.setWindowTitle(title)
        modified = self.is_modified()
        if modified != self.isWindowModified():
            self.setWindowModified(modified)

    # --- help -----------------------------------------------------------------

    @Slot()
    def show_help(self) -> None:
        browser = QTextBrowser()
        browser.setHtml(HELP_HTML)
        browser.setOpenExternalLinks(True)
        browser.setWindowTitle("How backprop works here")
        browser.resize(640, 720)
        browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._help = browser
        browser.show()

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<p>A desktop simulator of the "
            "calculus of backpropagation: draw a network, train it, and watch "
            "every weight's gradient.</p>",
        )

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    # --- closing -------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if not self._closed and not self.files.maybe_save():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> bool:
        """Stop the worker (waits at most a second) and remember the layout."""
        if self._closed:
            return self.session.thread.isFinished()
        self._closed = True
        self.save_state()
        return self.session.stop(1000)


def _shown(dock: QDockWidget) -> bool:
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def _is_curve(view) -> bool:
    return type(view).__name__ in ("CostView", "GradientNormView")
