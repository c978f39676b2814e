"""For the 8x8 digits: what each first-layer neuron looks for.

Neuron j's incoming weights w_jk (k = 0..63) are laid out as the 8x8 image
they multiply, all on one symmetric colour scale.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout

from backprop_lab.app.views.base import (
    FOREGROUND,
    SymmetricLevels,
    View,
    color_bar,
    graphics_layout,
    peak_magnitude,
    place_image,
    set_bar_levels,
    style_plot,
)

SIDE = 8
GAP = 2
MAX_NEURONS = 64


class DigitsWeightsView(View):
    """A grid of 8x8 weight images, one per neuron of the first layer."""

    title = "Digit weights"
    draw_interval = 0.25

    def __init__(self, parent=None):
        super().__init__(parent)
        self.images: list[pg.ImageItem] = []
        self.labels: list[pg.TextItem] = []
        self.levels = SymmetricLevels()
        self.graphics = graphics_layout()
        self.plot = self.graphics.addPlot(row=0, col=0)
        style_plot(self.plot)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.setTitle(
            "incoming weights w_jk of layer 1, as 8x8 images", color=FOREGROUND
        )
        self.bar = color_bar()
        self.graphics.addItem(self.bar, row=0, col=1)
        self.note = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.note)

    @classmethod
    def applies_to(cls, dataset) -> bool:
        return dataset is not None and dataset.n_inputs == SIDE * SIDE

    def _clear(self) -> None:
        self.levels.reset()

    def _draw(self) -> None:
        network = self.snapshot.network
        if network.sizes[0] != SIDE * SIDE:
            self.note.setText("the digit weights need 64 inputs")
            return
        weights = network.weights[0]  # (n_hidden, 64)
        shown = min(len(weights), MAX_NEURONS)
        if shown != len(self.images):
            self._build_grid(shown)
        self.note.setText(
            f"first {shown} of {len(weights)} neurons" if shown < len(weights) else ""
        )
        levels = self.levels.update(peak_magnitude([weights[:shown]]))
        for image, row in zip(self.images, weights[:shown], strict=True):
            image.setImage(row.reshape(SIDE, SIDE), autoLevels=False, levels=levels)
        set_bar_levels(self.bar, levels)

    def _build_grid(self, n: int) -> None:
        """One ImageItem and number per neuron; made when the count changes."""
        for item in self.images + self.labels:
            self.plot.removeItem(item)
        columns = int(np.ceil(np.sqrt(n)))
        self.images, self.labels = [], []
        for j in range(n):
            x = (j % columns) * (SIDE + GAP)
            y = (j // columns) * (SIDE + GAP + 1)
            image = pg.ImageItem(axisOrder="row-major")
            place_image(image, (SIDE, SIDE), (x, y + 1, SIDE, SIDE))
            self.plot.addItem(image)
            label = pg.TextItem(f"j={j}", color=FOREGROUND, anchor=(0, 1))
            label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            label.setPos(x, y + 1)
            self.plot.addItem(label)
            self.images.append(image)
            self.labels.append(label)
        self.bar.setImageItem(self.images)
        rows = int(np.ceil(n / columns))
        self.plot.setRange(
            xRange=(-1, columns * (SIDE + GAP)),
            yRange=(-3, rows * (SIDE + GAP + 1)),
            padding=0,
        )
