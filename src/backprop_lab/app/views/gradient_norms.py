"""The size of each layer's gradient against step.

In a deep sigmoid network the early layers' curves lie orders of magnitude
below the last layer's: the gradient vanishes on its way back.
"""

import logging

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QLabel

from backprop_lab.app.views.base import (
    FOREGROUND,
    HistoryCurves,
    View,
    graphics_layout,
    history_curve,
    palette_color,
    style_plot,
    watch_view,
)
from backprop_lab.app.views.history import Envelope

logger = logging.getLogger(__name__)


class GradientNormView(View):
    """Frobenius norm of dC/dW (and dC/db) of every layer, per step."""

    title = "Gradient norms"
    draw_interval = 1 / 15

    def __init__(self, parent=None):
        super().__init__(parent)
        self.norms = Envelope(1)
        self.curves: list[pg.PlotDataItem] = []
        self.graphics = graphics_layout()
        self.plot = self.graphics.addPlot()
        style_plot(self.plot)
        self.plot.setLabel("left", "|dC/dW| (log scale)")
        self.plot.setLabel("bottom", "step")
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor=FOREGROUND)
        self.history = HistoryCurves(self.plot, self.norms, [])
        self.follow = watch_view(self.plot, (self.history,), self._draw)

        self.log_switch = QCheckBox("log scale")
        self.log_switch.setChecked(True)
        self.log_switch.toggled.connect(self._on_log_toggled)
        self.note = QLabel("")
        self._on_log_toggled(True)
        self._lay_out(self.graphics, [self.log_switch], [self.note])

    def _clear(self) -> None:
        self.norms.clear()
        for curve in self.curves:
            curve.setData([], [])
        self.note.setText("")

    def _record(self, snapshot) -> None:
        norms = snapshot.new_grad_norms
        if not len(snapshot.new_steps) or norms.ndim != 2 or not norms.shape[1]:
            return
        if norms.shape[1] != len(self.curves):
            self._set_layer_count(norms.shape[1])
        self.norms.append(snapshot.new_steps, norms)

    def _set_layer_count(self, n_layers: int) -> None:
        """New curves for a new number of layers; earlier norms are dropped."""
        if len(self.norms):
            logger.debug("gradient norms restart for %d layers", n_layers)
            self.note.setText(f"restarted at {n_layers} layers")
        self.norms = Envelope(n_layers)
        self.history.envelope = self.norms
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.legend.clear()
        self.curves = [
            history_curve(self.plot, palette_color(layer), f"layer {layer + 1}")
            for layer in range(n_layers)
        ]
        self.history.curves = self.curves

    def _draw(self) -> None:
        self.history.draw()
        self.follow.fit()

    def _on_log_toggled(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        label = "|dC/dW| (log scale)" if on else "|dC/dW|"
        self.plot.setLabel("left", label)
