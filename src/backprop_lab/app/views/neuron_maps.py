"""Small maps of every neuron's activation over the input plane.

All maps are tiles of one RGBA mosaic in one ImageItem: one row of tiles per
layer, one tile per neuron. Drawing them as a single picture keeps a repaint
cheap however many neurons there are. Labels are made when the architecture
changes; each update only recolours the mosaic.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from backprop_lab.app.views.base import (
    DIVERGING,
    FOREGROUND,
    SymmetricLevels,
    peak_magnitude,
)

MAX_PER_LAYER = 12  # wider layers show their first neurons
COLUMNS = 4  # tiles per row; a wider layer wraps
GAP = 6  # between tiles, in mosaic pixels
HEADER = 34  # above each layer's tiles, for its name
LABEL_FILL = pg.mkBrush(255, 255, 255, 170)
BOUNDED = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# colour indices 0..254 run along the diverging map; 255 is the see-through gap
GAP_INDEX = 255
LOOKUP = np.vstack(
    [DIVERGING.getLookupTable(nPts=255, alpha=True), [[255, 255, 255, 0]]]
).astype(np.uint8)


class NeuronMaps:
    """The mosaic of neuron maps of a network over a grid of side n."""

    def __init__(self, plot: pg.PlotItem, side: int):
        self.plot = plot
        self.side = side
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setAspectLocked(True)
        plot.setTitle("every neuron's activation a", color=FOREGROUND, size="9pt")
        self.image = pg.ImageItem(axisOrder="row-major", lut=LOOKUP)
        self.image.setLevels((0, 255))
        plot.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        self.shown: list[int] = []
        self.activations: list[str] = []
        self.levels: list[SymmetricLevels] = []
        self.origins: list[list[tuple[int, int]]] = []
        self.height = 0
        self.values: list[np.ndarray] = []
        self.mosaic = np.full((1, 1), GAP_INDEX, np.uint8)
        self.places: list[np.ndarray] = []

    def build(self, network) -> None:
        """Labels, tile places and an empty mosaic for this network's layers."""
        self.activations = list(network.activations)
        self.shown = [min(n, MAX_PER_LAYER) for n in network.sizes[1:]]
        self.levels = [SymmetricLevels() for _ in self.shown]
        self.origins = self._place_tiles()
        height = self.height
        width = COLUMNS * (self.side + GAP)
        self.mosaic = np.full((height, width), GAP_INDEX, np.uint8)
        self.places = [self._tile_places(origins, width) for origins in self.origins]
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels = []
        for layer, size in enumerate(network.sizes[1:]):
            self._label_layer(layer, size)
        self._set_mosaic()
        self.plot.setRange(xRange=(0, width), yRange=(0, height), padding=0)

    def _place_tiles(self):
        """Bottom-left corner (x, y) of every tile, layer 1 at the top.

        Depths are measured down from the top of the mosaic, whose rows count
        upwards (y up, as in the output map).
        """
        step = self.side + GAP
        depths, depth = [], 0
        for shown in self.shown:
            depth += HEADER
            depths.append(
                [
                    ((j % COLUMNS) * step, depth + (j // COLUMNS) * step + self.side)
                    for j in range(shown)
                ]
            )
            depth += -(-shown // COLUMNS) * step
        self.height = depth
        return [[(x, depth - d) for x, d in tiles] for tiles in depths]

    def _tile_places(self, origins, width) -> np.ndarray:
        """Flat mosaic index of pixel (row r, column c) of tile j: (n, n, shown)."""
        n = self.side
        x = np.array([x for x, _ in origins])
        y = np.array([y for _, y in origins])
        rows = np.arange(n)[:, None, None] + y[None, None, :]
        columns = np.arange(n)[None, :, None] + x[None, None, :]
        return rows * width + columns

    def _set_mosaic(self) -> None:
        self.image.setImage(self.mosaic, autoLevels=False, levels=(0, 255))

    def _label_layer(self, layer: int, size: int) -> None:
        shown = self.shown[layer]
        name = f"layer {layer + 1} ({self.activations[layer]})"
        if shown < size:
            name += f", first {shown} of {size}"
        x, y = self.origins[layer][0]
        self._add_label(name, x, y + self.side + HEADER - 4, anchor=(0, 0))
        for j, (x, y) in enumerate(self.origins[layer]):
            self._add_label(str(j), x, y + self.side, anchor=(0, 0), fill=True)

    def _add_label(self, text, x, y, anchor, fill=False) -> None:
        label = pg.TextItem(
            text, color=FOREGROUND, anchor=anchor, fill=LABEL_FILL if fill else None
        )
        label.setFont(_small_font())
        label.setPos(x, y)
        label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.addItem(label)
        self.labels.append(label)

    def show(self, outputs) -> None:
        """Colour every tile from outputs[layer] (n*n, n_out) activations."""
        n = self.side
        flat = self.mosaic.reshape(-1)
        self.values = []
        for layer, shown in enumerate(self.shown):
            values = outputs[layer][:, :shown].reshape(n, n, shown)
            self.values.append(values)
            levels = self.layer_levels(layer, values)
            flat[self.places[layer]] = color_index(values, levels)
        self._set_mosaic()

    def layer_levels(self, layer: int, values) -> tuple[float, float]:
        """Fixed levels for bounded activations, else symmetric with hysteresis."""
        bounded = BOUNDED.get(self.activations[layer])
        if bounded is not None:
            return bounded
        return self.levels[layer].update(peak_magnitude([values]))

    def tile_indices(self, layer: int, j: int) -> np.ndarray:
        """The (n, n) colour indices of neuron j's tile in layer `layer`."""
        x, y = self.origins[layer][j]
        return self.mosaic[y : y + self.side, x : x + self.side]


def color_index(values, levels) -> np.ndarray:
    """Indices 0..254 into LOOKUP for values under levels (low, high)."""
    low, high = levels
    t = (np.asarray(values, np.float32) - low) * np.float32(254.0 / (high - low))
    np.clip(t, 0, 254, out=t)
    return (t + 0.5).astype(np.uint8)


def _small_font():
    font = pg.QtGui.QFont()
    font.setPointSize(7)
    return font
