"""For 2-D data: the network's output over the input plane, and every neuron's.

One forward pass over a fixed grid of the plane keeps each layer's
activations; the output map shows the last layer, the small maps show each
hidden and output neuron.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from backprop_lab.app.views.base import (
    DIVERGING,
    FOREGROUND,
    PALETTE,
    SymmetricLevels,
    View,
    color_bar,
    graphics_layout,
    peak_magnitude,
    place_image,
    set_bar_levels,
    set_title,
    style_plot,
    thin_pen,
)
from backprop_lab.app.views.neuron_maps import BOUNDED, NeuronMaps
from backprop_lab.engine.activations import activate

GRID = 80


def plane_grid(X, n=GRID):
    """Points (n*n, 2) of a grid over the data's range with a margin, and bounds."""
    X = np.asarray(X, np.float64)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(low[1], high[1], n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n): row = y, column = x
    return np.column_stack([gx.ravel(), gy.ravel()]), (low, high)


def contour_segments(values, axes, level):
    """Line segments (x, y), in pairs, where values (ny, nx) cross level.

    Marching squares: each grid edge whose ends lie on both sides of the
    level is crossed at the linearly interpolated point; a cell joins its
    crossed edges two by two, going round bottom, right, top, left.
    """
    xs, ys = axes
    above = values > level
    v = values - level

    # crossings on horizontal edges (i, j)-(i, j+1) and vertical (i, j)-(i+1, j)
    h_cross = above[:, :-1] != above[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_h = v[:, :-1] / (v[:, :-1] - v[:, 1:])
        t_v = v[:-1, :] / (v[:-1, :] - v[1:, :])
    h_x = xs[:-1] + t_h * np.diff(xs)
    h_y = np.broadcast_to(ys[:, None], h_x.shape)
    v_cross = above[:-1, :] != above[1:, :]
    v_y = ys[:-1, None] + t_v * np.diff(ys)[:, None]
    v_x = np.broadcast_to(xs[None, :], v_y.shape)

    # per cell: bottom, right, top, left edges; only cells that are crossed
    crossed = np.stack(
        [h_cross[:-1], v_cross[:, 1:], h_cross[1:], v_cross[:, :-1]], axis=-1
    ).reshape(-1, 4)
    cells = np.flatnonzero(crossed.any(axis=1))
    crossed = crossed[cells]
    px = np.stack([h_x[:-1], v_x[:, 1:], h_x[1:], v_x[:, :-1]], axis=-1)
    py = np.stack([h_y[:-1], v_y[:, 1:], h_y[1:], v_y[:, :-1]], axis=-1)
    px, py = px.reshape(-1, 4)[cells], py.reshape(-1, 4)[cells]
    order = np.argsort(~crossed, axis=1, kind="stable")
    px = np.take_along_axis(px, order, axis=1)
    py = np.take_along_axis(py, order, axis=1)
    count = crossed.sum(axis=1)

    first, second = count >= 2, count == 4
    x = np.concatenate([px[first, :2], px[second, 2:]]).ravel()
    y = np.concatenate([py[first, :2], py[second, 2:]]).ravel()
    return x, y


def layer_activations(network, X, dtype=np.float32):
    """Activations a(l) of every weight layer for X: a list of (n, n_out).

    Single precision by default: the maps need colours, not digits, and
    float32 halves the time of the forward pass over the grid.
    """
    a = X.astype(dtype, copy=False)
    outputs = []
    for W, b, name in zip(network.weights, network.biases, network.activations):
        a = activate(name, a @ W.T.astype(dtype) + b.astype(dtype))
        outputs.append(a)
    return outputs


def class_colors(n_classes: int) -> np.ndarray:
    """RGB (n_classes, 3) floats in [0, 1]."""
    rgb = [
        pg.mkColor(PALETTE[i % len(PALETTE)]).getRgbF()[:3] for i in range(n_classes)
    ]
    return np.array(rgb)


class DecisionMapView(View):
    """The output over the input plane with the train and test points."""

    title = "Decision map"
    draw_interval = 0.2

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = None
        self.axes = (np.zeros(GRID), np.zeros(GRID))
        self.rect = (0.0, 0.0, 1.0, 1.0)
        self._architecture = None
        self.regression_levels = SymmetricLevels()
        self._target_levels = None
        self._build()

    @classmethod
    def applies_to(cls, dataset) -> bool:
        return dataset is not None and dataset.n_inputs == 2

    def _build(self) -> None:
        self.graphics = graphics_layout()
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setPreferredSize(300, 300)
        style_plot(self.plot)
        self.plot.setLabel("bottom", "input x1")
        self.plot.setLabel("left", "input x2")
        set_title(self.plot, "output")
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.boundary = pg.PlotDataItem(pen=thin_pen("k"), connect="pairs")
        self.plot.addItem(self.boundary)
        self.bar = color_bar(values=(0.0, 1.0))
        self.bar.setImageItem(self.image)
        self.graphics.addItem(self.bar, row=0, col=1)
        legend = self.plot.addLegend(offset=(-5, 5), labelTextColor=FOREGROUND)
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.train_points = pg.ScatterPlotItem(
            size=6, pen=thin_pen("k"), brush="#b0b0b0", name="train"
        )
        self.test_points = pg.ScatterPlotItem(
            size=6, symbol="t", pen=thin_pen("k"), brush="#b0b0b0", name="test"
        )
        self.plot.addItem(self.train_points)
        self.plot.addItem(self.test_points)
        self.neurons = NeuronMaps(self.graphics.addPlot(row=0, col=2), GRID)
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(2, 2)

        self.note = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.note)

    # data

    def _on_dataset_changed(self) -> None:
        dataset = self.dataset
        if not self.applies_to(dataset):
            self.grid = None
            self.train_points.setData([], [])
            self.test_points.setData([], [])
            return
        X_all = np.vstack([dataset.X_train, dataset.X_test])
        self.grid, (low, high) = plane_grid(X_all)
        self.axes = (
            np.linspace(low[0], high[0], GRID),
            np.linspace(low[1], high[1], GRID),
        )
        # pixel centres on the grid points: each pixel reaches half a step out
        dx, dy = (high - low) / (GRID - 1)
        self.rect = (low[0] - dx / 2, low[1] - dy / 2, GRID * dx, GRID * dy)
        place_image(self.image, (GRID, GRID), self.rect)
        self._architecture = None
        self._target_levels = None
        self.regression_levels.reset()
        self._set_points(self.train_points, dataset.X_train, dataset.Y_train)
        self._set_points(self.test_points, dataset.X_test, dataset.Y_test)
        self.plot.setRange(
            xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0
        )
        if self.snapshot is not None:
            self._draw()

    def _set_points(self, item, X, Y) -> None:
        """Class colours for classes; targets are coloured with the map's levels."""
        item.setData(X[:, 0], X[:, 1])
        if self.dataset.task == "classification":
            labels = _class_labels(Y)
            colors = class_colors(max(int(labels.max(initial=0)) + 1, 2))[labels]
            item.setBrush([pg.mkBrush(*(c * 255).astype(int)) for c in colors])

    def _color_targets(self, levels) -> None:
        """Colour regression points by their target on the map's scale."""
        low, high = levels
        for item, Y in (
            (self.train_points, self.dataset.Y_train),
            (self.test_points, self.dataset.Y_test),
        ):
            t = np.clip((np.asarray(Y, np.float64)[:, 0] - low) / (high - low), 0, 1)
            colors = DIVERGING.map(t, mode="byte")
            item.setBrush([pg.mkBrush(*c) for c in colors])

    # drawing

    def _draw(self) -> None:
        network = self.snapshot.network
        if self.grid is None or network.sizes[0] != 2:
            self.note.setText("the decision map needs data with two inputs")
            return
        self.note.setText("")
        outputs = layer_activations(network, self.grid)
        self._draw_output(outputs[-1], network.activations[-1])
        self._draw_neurons(network, outputs)

    def _draw_output(self, output: np.ndarray, activation: str) -> None:
        n = GRID
        classification = getattr(self.dataset, "task", "") == "classification"
        if output.shape[1] > 1 and classification:
            set_title(self.plot, "class of the largest output")
            self.image.setImage(self._argmax_colors(output).reshape(n, n, 3))
            self.bar.setVisible(False)
            self.boundary.setVisible(False)
            return
        title = "output" if output.shape[1] == 1 else f"output 1 of {output.shape[1]}"
        set_title(self.plot, title)
        values = output[:, 0].reshape(n, n)
        levels = self._output_levels(values, activation)
        self.image.setImage(values, autoLevels=False, levels=levels)
        set_bar_levels(self.bar, levels)
        if not classification and levels != self._target_levels:
            self._color_targets(levels)
            self._target_levels = levels
        self.bar.setVisible(True)
        self.boundary.setVisible(classification)
        if classification:
            level = 0.0 if activation == "tanh" else 0.5
            self.boundary.setData(*contour_segments(values, self.axes, level))

    def _output_levels(self, values, activation):
        if getattr(self.dataset, "task", "") == "classification":
            return BOUNDED.get(activation, (0.0, 1.0))
        if activation in BOUNDED:
            return BOUNDED[activation]
        targets = np.vstack([self.dataset.Y_train, self.dataset.Y_test])
        return self.regression_levels.update(peak_magnitude([targets, values]))

    @staticmethod
    def _argmax_colors(output):
        """Class colour of the largest output, paler where it is less sure."""
        colors = class_colors(output.shape[1])[output.argmax(axis=1)]
        confidence = output.max(axis=1) / np.maximum(output.sum(axis=1), 1e-12)
        strength = np.clip(confidence, 0.0, 1.0)[:, None] * 0.8
        blended = 1.0 - strength * (1.0 - colors)
        return (blended * 255).astype(np.uint8)

    def _draw_neurons(self, network, outputs) -> None:
        architecture = (tuple(network.sizes), tuple(network.activations))
        if architecture != self._architecture:
            self.neurons.build(network)
            self._architecture = architecture
        self.neurons.show(outputs)


def _class_labels(Y) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim == 2 and Y.shape[1] > 1:
        return Y.argmax(axis=1)
    return np.rint(Y.reshape(-1)).astype(int).clip(0)
