"""One heatmap per layer: the weights w_jk, or their gradients dC/dw_jk."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QLabel

from backprop_lab.app.views.base import (
    SymmetricLevels,
    View,
    color_bar,
    graphics_layout,
    peak_magnitude,
    set_bar_levels,
    set_title,
    style_plot,
)

ROWS = 3  # heatmaps per column; more layers take a second column


def set_index_ticks(axis: pg.AxisItem, n: int, most: int) -> None:
    """One tick per cell centre, labelled by index, up to `most` cells."""
    if n > most:
        axis.setTicks(None)
        return
    axis.setTicks([[(i + 0.5, str(i)) for i in range(n)]])


class LayerHeatmap:
    """The heatmap of one weight layer: rows are neurons j, columns inputs k."""

    def __init__(self, layout: pg.GraphicsLayout, layer: int, row: int, col: int):
        self.layer = layer
        self.plot = layout.addPlot(row=row, col=col)
        style_plot(self.plot)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.plot.addItem(self.image)
        self.bar = color_bar()
        self.bar.setImageItem(self.image)
        layout.addItem(self.bar, row=row, col=col + 1)
        self.levels = {"weights": SymmetricLevels(), "gradients": SymmetricLevels()}
        self.shape = None
        self.kind = None

    def show(self, matrix: np.ndarray, kind: str) -> None:
        """Draw matrix (n_out, n_in) with the levels kept for `kind`."""
        low, high = self.levels[kind].update(peak_magnitude([matrix]))
        self.image.setImage(matrix, autoLevels=False, levels=(low, high))
        set_bar_levels(self.bar, (low, high))
        if (matrix.shape, kind) != (self.shape, self.kind):
            self._set_title(matrix.shape, kind)
        if matrix.shape != self.shape:
            self.shape = matrix.shape
            n_out, n_in = matrix.shape
            self.plot.setRange(xRange=(0, n_in), yRange=(0, n_out), padding=0)
            set_index_ticks(self.plot.getAxis("bottom"), n_in, 16)
            set_index_ticks(self.plot.getAxis("left"), n_out, 4)

    def _set_title(self, shape, kind: str) -> None:
        self.kind = kind
        symbol = "w_jk" if kind == "weights" else "dC/dw_jk"
        n_out, n_in = shape
        title = f"layer {self.layer + 1}: {symbol}  ({n_out} x {n_in})"
        set_title(self.plot, title, size="9pt")


class WeightsView(View):
    """Heatmaps of W (n_out, n_in) per layer, or of dC/dW with the switch."""

    title = "Weights"
    draw_interval = 0.2

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heatmaps: list[LayerHeatmap] = []
        self.graphics = graphics_layout()
        self.gradient_switch = QCheckBox("show gradients dC/dW")
        self.gradient_switch.setToolTip(
            "rows: neurons j of the layer; columns: inputs k from the layer before"
        )
        self.gradient_switch.toggled.connect(self._on_gradient_toggled)
        self.note = QLabel("")
        self.readout = QLabel("")
        self._lay_out(self.graphics, [self.gradient_switch, self.note], [self.readout])
        self._mouse_proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse
        )

    @property
    def kind(self) -> str:
        return "gradients" if self.gradient_switch.isChecked() else "weights"

    def _clear(self) -> None:
        for heatmap in self.heatmaps:
            for levels in heatmap.levels.values():
                levels.reset()

    def _draw(self) -> None:
        snapshot = self.snapshot
        weights = snapshot.network.weights
        if len(weights) != len(self.heatmaps):
            self._build_heatmaps(len(weights))
        matrices = self._matrices(snapshot)
        for heatmap, matrix in zip(self.heatmaps, matrices, strict=True):
            heatmap.show(matrix, self.kind)

    def _matrices(self, snapshot):
        weights = snapshot.network.weights
        if self.kind == "weights":
            self.note.setText("")
            return weights
        gradients = snapshot.weight_gradients
        if len(gradients) == len(weights) and all(
            g.shape == w.shape for g, w in zip(gradients, weights, strict=True)
        ):
            self.note.setText(f"dC/dW of step {snapshot.step}")
            return gradients
        self.note.setText("no gradients yet: take a step")
        return [np.zeros_like(w) for w in weights]

    def _build_heatmaps(self, n_layers: int) -> None:
        """Items for a new number of layers (an edit added or removed one)."""
        self.graphics.ci.clear()
        self.heatmaps = [
            LayerHeatmap(self.graphics.ci, layer, layer % ROWS, 2 * (layer // ROWS))
            for layer in range(n_layers)
        ]

    def _on_mouse(self, event) -> None:
        position = event[0]
        for heatmap in self.heatmaps:
            view = heatmap.plot.vb
            if heatmap.shape and view.sceneBoundingRect().contains(position):
                point = view.mapSceneToView(position)
                j, k = int(np.floor(point.y())), int(np.floor(point.x()))
                self.readout.setText(self.readout_at(heatmap.layer, j, k))
                return
        self.readout.setText("")

    def readout_at(self, layer: int, j: int, k: int) -> str:
        """The shown value of w_jk (or dC/dw_jk) of a layer, as text."""
        matrix = self.heatmaps[layer].image.image
        if matrix is None or not (
            0 <= j < matrix.shape[0] and 0 <= k < matrix.shape[1]
        ):
            return ""
        symbol = "w" if self.kind == "weights" else "dC/dw"
        return f"layer {layer + 1}: {symbol}_jk at j={j}, k={k} is {matrix[j, k]:.4g}"

    def _on_gradient_toggled(self, _on: bool) -> None:
        if self.snapshot is not None:
            self._draw()
