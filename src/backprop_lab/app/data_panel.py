"""The data panel: a built-in 2-D set, the digits, the lesson's chain or a CSV.

The panel only describes the data as a source dict (the same dicts a
project file holds); the window turns it into a Dataset.
"""

import csv
import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backprop_lab.engine.datasets import BUILTIN_SETS

logger = logging.getLogger(__name__)

DIGITS, CHAIN, CSV = "digits", "chain", "csv"

_TITLES = {
    "circle": "Circle (2-D)",
    "xor": "XOR (2-D)",
    "gaussians": "Two Gaussians (2-D)",
    "spiral": "Spiral (2-D)",
    "plane": "Plane (2-D regression)",
    "multi_gaussian": "Several Gaussians (2-D)",
    DIGITS: "Digits (8x8 images)",
    CHAIN: "The lesson's chain (one example)",
    CSV: "CSV file",
}


def csv_columns(path: str) -> list[str]:
    """The header names of a CSV file, or column numbers when it has none."""
    with open(path, newline="", encoding="utf-8") as handle:
        first = next(csv.reader(handle), [])
    try:
        [float(cell) for cell in first]
    except ValueError:
        return [cell.strip() for cell in first]
    return [str(index) for index in range(len(first))]


def _ratio_spin() -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 0.9)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    return spin


class DataPanel(QWidget):
    """Choose the data; `source_chosen(dict)` asks the window to load it."""

    # the user asked for this data source (a project file's `data` dict)
    source_chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._seed = 0
        self.kind = QComboBox()
        for name in (*BUILTIN_SETS, DIGITS, CHAIN, CSV):
            self.kind.addItem(_TITLES.get(name, name), name)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_builtin_page())
        self.pages.addWidget(self._build_digits_page())
        self.pages.addWidget(QLabel("x = 1.0, y = 0.0: one example, one path."))
        self.pages.addWidget(self._build_csv_page())
        self.apply_button = QPushButton("Use this data")
        self.regenerate_button = QPushButton("Regenerate")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.regenerate_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.kind)
        layout.addWidget(self.pages)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        self.kind.activated.connect(self._on_kind_activated)
        self.apply_button.clicked.connect(self._on_apply)
        self.regenerate_button.clicked.connect(self._on_regenerate)
        self._on_kind_changed()

    def _build_builtin_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.n_points = QSpinBox()
        self.n_points.setRange(4, 100_000)
        self.n_points.setValue(200)
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 2.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(0.1)
        self.test_ratio = _ratio_spin()
        self.test_ratio.setValue(0.5)
        form.addRow("Points", self.n_points)
        form.addRow("Noise", self.noise)
        form.addRow("Test share", self.test_ratio)
        return page

    def _build_digits_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.digits_test_ratio = _ratio_spin()
        self.digits_test_ratio.setValue(0.3)
        form.addRow("Test share", self.digits_test_ratio)
        return page

    def _build_csv_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.csv_path = QLineEdit()
        self.csv_path.setPlaceholderText("path of a CSV file")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._on_browse)
        row = QHBoxLayout()
        row.addWidget(self.csv_path, 1)
        row.addWidget(browse)
        self.csv_inputs = QListWidget()
        self.csv_targets = QListWidget()
        for columns in (self.csv_inputs, self.csv_targets):
            columns.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
            columns.setMaximumHeight(110)
        self.csv_task = QComboBox()
        self.csv_task.addItems(["regression", "classification"])
        self.csv_test_ratio = _ratio_spin()
        self.csv_test_ratio.setValue(0.3)
        form.addRow("File", row)
        form.addRow("Input columns", self.csv_inputs)
        form.addRow("Target columns", self.csv_targets)
        form.addRow("Task", self.csv_task)
        form.addRow("Test share", self.csv_test_ratio)
        self.csv_path.editingFinished.connect(self._on_csv_path)
        return page

    # --- reading the fields -------------------------------------------------

    def current_kind(self) -> str:
        return self.kind.currentData()

    def source(self) -> dict:
        """The source dict the fields describe."""
        kind = self.current_kind()
        if kind == DIGITS:
            ratio = self.digits_test_ratio.value()
            return {"kind": DIGITS, "test_ratio": ratio, "seed": self._seed}
        if kind == CHAIN:
            return {"kind": CHAIN}
        if kind == CSV:
            return self._csv_source()
        return {
            "kind": "builtin",
            "name": kind,
            "n_points": self.n_points.value(),
            "noise": round(self.noise.value(), 6),
            "test_ratio": round(self.test_ratio.value(), 6),
            "seed": self._seed,
        }

    def _csv_source(self) -> dict:
        def chosen(columns: QListWidget) -> list[str]:
            return [item.text() for item in columns.selectedItems()]

        return {
            "kind": CSV,
            "path": self.csv_path.text().strip(),
            "inputs": chosen(self.csv_inputs),
            "targets": chosen(self.csv_targets),
            "task": self.csv_task.currentText(),
            "test_ratio": round(self.csv_test_ratio.value(), 6),
            "seed": self._seed,
        }

    def set_source(self, source: dict, base_dir: Path | None = None) -> None:
        """Show `source` (from a project) without emitting source_chosen."""
        kind = source.get("kind")
        name = source.get("name") if kind == "builtin" else kind
        blocked = self.kind.blockSignals(True)
        index = self.kind.findData(name)
        self.kind.setCurrentIndex(max(index, 0))
        self.kind.blockSignals(blocked)
        self._seed = int(source.get("seed", 0))
        if kind == "builtin":
            self.n_points.setValue(int(source.get("n_points", 200)))
            self.noise.setValue(float(source.get("noise", 0.1)))
            self.test_ratio.setValue(float(source.get("test_ratio", 0.5)))
        elif kind == DIGITS:
            self.digits_test_ratio.setValue(float(source.get("test_ratio", 0.3)))
        elif kind == CSV:
            self._show_csv(source, base_dir)
        self._on_kind_changed()

    def _show_csv(self, source: dict, base_dir: Path | None) -> None:
        path = Path(source.get("path", ""))
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        self.csv_path.setText(str(path))
        self._fill_columns()
        for columns, names in (
            (self.csv_inputs, source.get("inputs", [])),
            (self.csv_targets, source.get("targets", [])),
        ):
            wanted = {str(name) for name in names}
            for row in range(columns.count()):
                item = columns.item(row)
                item.setSelected(item.text() in wanted)
        self.csv_task.setCurrentText(source.get("task", "regression"))
        self.csv_test_ratio.setValue(float(source.get("test_ratio", 0.3)))

    def show_summary(self, dataset) -> None:
        self.summary.setText(
            f"{len(dataset.X_train)} training and {len(dataset.X_test)} test "
            f"examples; {dataset.n_inputs} inputs, {dataset.n_outputs} outputs "
            f"({dataset.task})."
        )

    # --- slots ----------------------------------------------------------------

    @Slot()
    def _on_kind_changed(self) -> None:
        kind = self.current_kind()
        page = {DIGITS: 1, CHAIN: 2, CSV: 3}.get(kind, 0)
        self.pages.setCurrentIndex(page)
        self.regenerate_button.setEnabled(kind not in (CHAIN, CSV))

    @Slot()
    def _on_kind_activated(self) -> None:
        if self.current_kind() != CSV:
            self.source_chosen.emit(self.source())

    @Slot()
    def _on_apply(self) -> None:
        self.source_chosen.emit(self.source())

    @Slot()
    def _on_regenerate(self) -> None:
        self._seed += 1
        self.source_chosen.emit(self.source())

    @Slot()
    def _on_browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a CSV file", "", "CSV files (*.csv);;All files (*)"
        )
        if path:
            self.csv_path.setText(path)
            self._on_csv_path()

    @Slot()
    def _on_csv_path(self) -> None:
        self._fill_columns()
        count = self.csv_inputs.count()
        for row in range(count):
            last = row == count - 1
            self.csv_inputs.item(row).setSelected(not last)
            self.csv_targets.item(row).setSelected(last)

    def _fill_columns(self) -> None:
        path = self.csv_path.text().strip()
        try:
            names = csv_columns(path) if path else []
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            self.summary.setText(f"{path} cannot be read: {error}")
            names = []
        for columns in (self.csv_inputs, self.csv_targets):
            columns.clear()
            columns.addItems(names)
