"""The training controls: play, step, reset and the hyperparameters."""

import dataclasses
import logging

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backprop_lab.engine import ACTIVATIONS, COSTS
from backprop_lab.engine.trainer import TrainingSettings

logger = logging.getLogger(__name__)

try:
    from backprop_lab.engine.optimizers import OPTIMIZERS
except ImportError:
    OPTIMIZERS = ("sgd", "momentum", "adam")

_LABELS = {
    "sgd": "SGD",
    "momentum": "SGD with momentum",
    "adam": "Adam",
    "quadratic": "quadratic (the lesson's)",
    "cross_entropy": "cross-entropy",
    "leaky_relu": "leaky ReLU",
    "relu": "ReLU",
}


def _combo(names) -> QComboBox:
    combo = QComboBox()
    for name in names:
        combo.addItem(_LABELS.get(name, name), name)
    return combo


def _select(combo: QComboBox, name: str) -> None:
    index = combo.findData(name)
    if index >= 0:
        combo.setCurrentIndex(index)


def _spin(low, high, decimals, step) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSingleStep(step)
    spin.setKeyboardTracking(False)
    return spin


class TrainingPanel(QWidget):
    """Buttons bound to the window's actions and the training settings.

    Every change of a field emits `settings_edited` with the full settings;
    the output activation is part of the network, so it has its own signal.
    """

    # the user changed a hyperparameter or the stop condition
    settings_edited = Signal(object)
    # the user chose another activation for the output layer
    output_activation_chosen = Signal(str)

    def __init__(self, actions, parent=None):
        super().__init__(parent)
        self._settings = TrainingSettings()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_buttons(actions))
        layout.addLayout(self._build_form())
        layout.addStretch(1)
        self._connect_fields()

    def _build_buttons(self, actions) -> QGridLayout:
        grid = QGridLayout()
        for index, action in enumerate(actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            grid.addWidget(button, index // 2, index % 2)
        return grid

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.learning_rate = _spin(1e-5, 100.0, 5, 0.01)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 100_000)
        self.batch_size.setKeyboardTracking(False)
        self.optimizer = _combo(OPTIMIZERS)
        self.cost = _combo(COSTS)
        self.output_activation = _combo(ACTIVATIONS)
        self.l1 = _spin(0.0, 10.0, 5, 0.0001)
        self.l2 = _spin(0.0, 10.0, 5, 0.0001)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Cost", self.cost)
        form.addRow("Output activation", self.output_activation)
        form.addRow("L1 penalty", self.l1)
        form.addRow("L2 penalty", self.l2)
        form.addRow("Stop after", self._build_stop_steps())
        form.addRow("Stop at cost", self._build_stop_cost())
        return form

    def _build_stop_steps(self) -> QHBoxLayout:
        self.stop_steps_enabled = QCheckBox()
        self.stop_steps = QSpinBox()
        self.stop_steps.setRange(1, 1_000_000_000)
        self.stop_steps.setValue(10_000)
        self.stop_steps.setSuffix(" steps")
        self.stop_steps.setKeyboardTracking(False)
        row = QHBoxLayout()
        row.addWidget(self.stop_steps_enabled)
        row.addWidget(self.stop_steps, 1)
        return row

    def _build_stop_cost(self) -> QHBoxLayout:
        self.stop_cost_enabled = QCheckBox()
        self.stop_cost = _spin(0.0, 1e6, 6, 0.001)
        self.stop_cost.setValue(0.01)
        row = QHBoxLayout()
        row.addWidget(self.stop_cost_enabled)
        row.addWidget(self.stop_cost, 1)
        return row

    def _connect_fields(self) -> None:
        for spin in (self.learning_rate, self.l1, self.l2, self.stop_cost):
            spin.valueChanged.connect(self._on_field_changed)
        for spin in (self.batch_size, self.stop_steps):
            spin.valueChanged.connect(self._on_field_changed)
        for combo in (self.optimizer, self.cost):
            combo.currentIndexChanged.connect(self._on_field_changed)
        for box in (self.stop_steps_enabled, self.stop_cost_enabled):
            box.toggled.connect(self._on_field_changed)
        self.output_activation.currentIndexChanged.connect(self._on_output_changed)

    def _fields(self) -> list[QWidget]:
        return [
            self.learning_rate, self.batch_size, self.optimizer, self.cost,
            self.output_activation, self.l1, self.l2, self.stop_steps,
            self.stop_steps_enabled, self.stop_cost, self.stop_cost_enabled,
        ]  # fmt: skip

    def settings(self) -> TrainingSettings:
        """The settings as the fields show them."""
        steps = self.stop_steps.value() if self.stop_steps_enabled.isChecked() else None
        target = self.stop_cost.value() if self.stop_cost_enabled.isChecked() else None
        return dataclasses.replace(
            self._settings,
            learning_rate=self.learning_rate.value(),
            batch_size=self.batch_size.value(),
            optimizer=self.optimizer.currentData(),
            cost=self.cost.currentData(),
            l1=self.l1.value(),
            l2=self.l2.value(),
            max_steps=steps,
            target_cost=target,
        )

    def set_settings(self, settings: TrainingSettings) -> None:
        """Show `settings` without emitting settings_edited."""
        self._settings = settings
        blocked = [field.blockSignals(True) for field in self._fields()]
        try:
            self.learning_rate.setValue(settings.learning_rate)
            self.batch_size.setValue(settings.batch_size)
            _select(self.optimizer, settings.optimizer)
            _select(self.cost, settings.cost)
            self.l1.setValue(settings.l1)
            self.l2.setValue(settings.l2)
            self.stop_steps_enabled.setChecked(settings.max_steps is not None)
            if settings.max_steps is not None:
                self.stop_steps.setValue(settings.max_steps)
            self.stop_cost_enabled.setChecked(settings.target_cost is not None)
            if settings.target_cost is not None:
                self.stop_cost.setValue(settings.target_cost)
        finally:
            for field, was in zip(self._fields(), blocked, strict=True):
                field.blockSignals(was)

    def set_output_activation(self, name: str) -> None:
        was = self.output_activation.blockSignals(True)
        _select(self.output_activation, name)
        self.output_activation.blockSignals(was)

    @Slot()
    def _on_field_changed(self) -> None:
        self.settings_edited.emit(self.settings())

    @Slot()
    def _on_output_changed(self) -> None:
        self.output_activation_chosen.emit(self.output_activation.currentData())
