"""Train and test cost against step, with accuracy for classification."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel

from backprop_lab.app.views.base import (
    FOREGROUND,
    HistoryCurves,
    View,
    graphics_layout,
    history_curve,
    palette_color,
    style_plot,
    thin_pen,
    watch_view,
)
from backprop_lab.app.views.history import BlockMeans, Envelope

TRAIN_COLOR = palette_color(0)
TEST_COLOR = palette_color(3)
# the single steps' train cost, drawn faint behind the mean of blocks of steps
STEP_COLOR = "#a9c6e8"
MEAN_OF_STEPS = 25


class CostView(View):
    """Cost against step (train every step, test every few), log switch."""

    title = "Cost"
    draw_interval = 1 / 30

    def __init__(self, parent=None):
        super().__init__(parent)
        self.train = Envelope(1)
        self.train_mean = Envelope(1)
        self._blocks = BlockMeans(MEAN_OF_STEPS)
        self.test = Envelope(1)
        self.accuracy = Envelope(2)
        self._build()

    def _build(self) -> None:
        self.graphics = graphics_layout()
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.accuracy_plot = self.graphics.addPlot(row=1, col=0)
        self._build_cost_plot()
        self._build_accuracy_plot()
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)

        self.log_switch = QCheckBox("log scale")
        self.log_switch.toggled.connect(self._on_log_toggled)
        self.readout = QLabel("")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._lay_out(self.graphics, [self.log_switch], [self.readout])

        self._mouse_proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse
        )

    def _build_cost_plot(self) -> None:
        plot = self.plot
        style_plot(plot)
        plot.setLabel("left", "cost")
        plot.setLabel("bottom", "step")
        plot.addLegend(offset=(-10, 10), labelTextColor=FOREGROUND)
        self.train_curve = history_curve(plot, STEP_COLOR, "train, each step")
        self.train_mean_curve = history_curve(
            plot, TRAIN_COLOR, f"train, mean of {MEAN_OF_STEPS} steps"
        )
        self.test_curve = history_curve(plot, TEST_COLOR, "test")
        self.cursor = pg.InfiniteLine(angle=90, pen=thin_pen("#909090"))
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.train_curves = HistoryCurves(plot, self.train, [self.train_curve])
        self.train_mean_curves = HistoryCurves(
            plot, self.train_mean, [self.train_mean_curve]
        )
        self.test_curves = HistoryCurves(plot, self.test, [self.test_curve])
        self.follow = watch_view(
            plot,
            (self.train_curves, self.train_mean_curves, self.test_curves),
            self._draw_costs,
        )

    def _build_accuracy_plot(self) -> None:
        plot = self.accuracy_plot
        style_plot(plot)
        plot.setLabel("left", "accuracy")
        plot.setXLink(self.plot)
        plot.setYRange(0, 1, padding=0.02)
        plot.setMouseEnabled(x=True, y=False)
        plot.hideAxis("bottom")  # linked to the cost plot's step axis
        plot.getAxis("left").setTicks([[(0.0, "0%"), (0.5, "50%"), (1.0, "100%")]])
        self.train_accuracy_curve = history_curve(plot, TRAIN_COLOR, "train")
        self.test_accuracy_curve = history_curve(plot, TEST_COLOR, "test")
        self.accuracy_curves = HistoryCurves(
            plot,
            self.accuracy,
            [self.train_accuracy_curve, self.test_accuracy_curve],
            self.follow,
        )
        plot.setVisible(False)

    # the view protocol

    def _clear(self) -> None:
        for envelope in (self.train, self.train_mean, self.test, self.accuracy):
            envelope.clear()
        self._blocks.clear()
        for curve in self._curves():
            curve.setData([], [])
        self.readout.setText("")

    def _curves(self):
        return (
            self.train_curve,
            self.train_mean_curve,
            self.test_curve,
            self.train_accuracy_curve,
            self.test_accuracy_curve,
        )

    def _on_dataset_changed(self) -> None:
        classification = getattr(self.dataset, "task", None) == "classification"
        self.accuracy_plot.setVisible(classification)

    def _record(self, snapshot) -> None:
        self.train.append(snapshot.new_steps, snapshot.new_train_costs)
        steps, means = self._blocks.push(snapshot.new_steps, snapshot.new_train_costs)
        if len(steps):
            self.train_mean.append(steps, means[:, None])
        self.test.append(snapshot.new_test_steps, snapshot.new_test_costs)
        if snapshot.train_accuracy is not None and len(snapshot.new_steps):
            accuracy = (snapshot.train_accuracy, _or_nan(snapshot.test_accuracy))
            self.accuracy.append([snapshot.step], [accuracy])

    def _draw(self) -> None:
        self._draw_costs()
        if len(self.accuracy):
            self.accuracy_plot.setVisible(True)
            self.accuracy_curves.draw()

    def _draw_costs(self) -> None:
        self.train_curves.draw()
        self.train_mean_curves.draw()
        self.test_curves.draw()
        self.follow.fit()

    # user actions

    def _on_log_toggled(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self.plot.setLabel("left", "cost (log scale)" if on else "cost")

    def _on_mouse(self, event) -> None:
        position = event[0]
        if not self.plot.sceneBoundingRect().contains(position):
            self.cursor.setVisible(False)
            return
        step = self.plot.vb.mapSceneToView(position).x()
        text = self.readout_at(step)
        self.cursor.setVisible(bool(text))
        if text:
            self.cursor.setValue(self._nearest(self.train, step)[0])
        self.readout.setText(text)

    def readout_at(self, step: float) -> str:
        """The train and test cost (and accuracy) at the step nearest `step`."""
        if not len(self.train):
            return ""
        at, train = self._nearest(self.train, step)
        parts = [f"step {at:.0f}", f"train cost {train[0]:.4g}"]
        if len(self.test):
            test_at, test = self._nearest(self.test, step)
            parts.append(f"test cost {test[0]:.4g} (step {test_at:.0f})")
        if len(self.accuracy):
            _, accuracy = self._nearest(self.accuracy, step)
            parts.append(f"train accuracy {accuracy[0]:.1%}")
            if np.isfinite(accuracy[1]):
                parts.append(f"test accuracy {accuracy[1]:.1%}")
        return "   ".join(parts)

    @staticmethod
    def _nearest(envelope: Envelope, step: float):
        x = envelope.x
        i = int(np.clip(np.searchsorted(x, step), 1, len(x) - 1)) if len(x) > 1 else 0
        if i and abs(x[i - 1] - step) <= abs(x[i] - step):
            i -= 1
        return x[i], envelope.y[i]


def _or_nan(value):
    return np.nan if value is None else value
