"""What every live view shares: the view protocol, colours, levels, export.

Views live on the GUI thread. `update_snapshot` always records what the
snapshot adds to a history (cheap), but redraws only while the view is
visible; a hidden view redraws from its last snapshot when it is shown.
Given a DrawPacer, a view draws the snapshots of a running training through
it, at most once per `draw_interval`; a paused or single-step snapshot is
drawn at once.
"""

import logging
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QRect, QRectF, QSize, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from backprop_lab.app.views.history import Envelope

logger = logging.getLogger(__name__)

# below zero blue, zero white, above zero orange: the canvas's colours
NEGATIVE = "#1f6fb4"
POSITIVE = "#e66100"
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, "#f7f7f7", POSITIVE])

# one colour per class (points, argmax maps) and per layer (curves); classes
# 0 and 1 take the ends of the diverging map, so points match a binary map
PALETTE = (
    NEGATIVE,
    POSITIVE,
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

BACKGROUND = "w"
FOREGROUND = "#303030"


def palette_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def thin_pen(color):
    """A cosmetic 1-pixel pen."""
    pen = pg.mkPen(color, width=1)
    pen.setCosmetic(True)
    return pen


class TimedGraphics(pg.GraphicsLayoutWidget):
    """A graphics area that reports how long each painting took."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # called with the seconds each paintEvent took, or None
        self.on_painted = None

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        if self.on_painted is not None:
            self.on_painted(time.perf_counter() - started)


def graphics_layout() -> TimedGraphics:
    """A white graphics area for a view."""
    widget = TimedGraphics()
    widget.setBackground(BACKGROUND)
    widget.ci.setContentsMargins(4, 4, 4, 4)
    return widget


def style_plot(plot: pg.PlotItem) -> None:
    """Dark axes and labels on the white background."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(FOREGROUND)
        axis.setTextPen(FOREGROUND)
        axis.enableAutoSIPrefix(False)


def color_bar(values=(-1.0, 1.0)) -> pg.ColorBarItem:
    """A fixed (not draggable) diverging colour bar."""
    bar = pg.ColorBarItem(
        values=values, colorMap=DIVERGING, interactive=False, width=12
    )
    axis = bar.getAxis("right")
    axis.enableAutoSIPrefix(False)
    axis.setTextPen(FOREGROUND)
    return bar


def place_image(image: pg.ImageItem, shape, rect) -> None:
    """Give the image a blank picture of `shape` stretched over rect (x, y, w, h).

    Later setImage calls of the same shape keep the placement.
    """
    image.setImage(np.zeros(shape), autoLevels=False, levels=(0.0, 1.0))
    image.setRect(QRectF(*(float(v) for v in rect)))


class SymmetricLevels:
    """Colour levels (-s, s) that follow max|values| with hysteresis.

    s grows at once when values leave the range (with headroom) and shrinks
    only when they use less than a third of it, so colours do not jump with
    every frame.
    """

    HEADROOM = 1.25
    SHRINK_BELOW = 1 / 3

    def __init__(self, floor=1e-12):
        self.floor = floor
        self.scale = None

    def reset(self) -> None:
        self.scale = None

    def update(self, peak: float) -> tuple[float, float]:
        peak = float(peak) if np.isfinite(peak) else 0.0
        peak = max(peak, self.floor)
        if (
            self.scale is None
            or peak > self.scale
            or peak < self.scale * self.SHRINK_BELOW
        ):
            self.scale = peak * self.HEADROOM
        return -self.scale, self.scale


def peak_magnitude(arrays) -> float:
    """max |value| over arrays, ignoring non-finite values; 0 for none."""
    peak = 0.0
    for array in arrays:
        if not array.size:
            continue
        largest = float(np.abs(array).max())
        if not np.isfinite(largest):
            finite = np.abs(array[np.isfinite(array)])
            largest = float(finite.max()) if finite.size else 0.0
        peak = max(peak, largest)
    return peak


class SvgPainterExporter(pg.exporters.Exporter):
    """Paints an item into an SVG file through QSvgGenerator.

    Used instead of pyqtgraph's SVGExporter, which (in 0.14) cannot parse
    the closed paths Qt 6 writes and raises on every plot. Items are put in
    export mode first, so scatter points and text are drawn as vectors.
    """

    Name = "SVG through QSvgGenerator"

    def parameters(self):
        return None

    def export(self, fileName=None, toBytes=False, copy=False):
        source = self.getSourceRect()
        width = max(int(source.width()), 1)
        height = max(int(source.height()), 1)
        generator = QSvgGenerator()
        generator.setFileName(str(fileName))
        generator.setSize(QSize(width, height))
        generator.setViewBox(QRect(0, 0, width, height))
        generator.setResolution(self._screen_dpi())
        painter = QPainter(generator)
        try:
            self.setExportMode(
                True,
                {
                    "antialias": True,
                    "background": pg.mkColor(BACKGROUND),
                    "painter": painter,
                    "resolutionScale": 1.0,
                },
            )
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self.getScene().render(painter, QRectF(0, 0, width, height), source)
        finally:
            self.setExportMode(False)
            painter.end()

    def _screen_dpi(self) -> int:
        views = self.getScene().views()
        return views[0].logicalDpiX() if views else 96


class View(QWidget):
    """Base of the live views: one snapshot in, redraw when visible."""

    title = "view"
    # while training, the view draws at most once per this many seconds
    draw_interval = 0.1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(260, 180)
        self.snapshot = None
        self.dataset = None
        self._stale = False
        self.pacer = None

    @classmethod
    def applies_to(cls, dataset) -> bool:
        """True when the view has something to show for this data."""
        return True

    def sizeHint(self) -> QSize:
        return QSize(520, 340)

    def set_pacer(self, pacer) -> None:
        """Draw running snapshots through `pacer` (a DrawPacer), or None."""
        if self.pacer is not None:
            self.pacer.cancel(self)
        self.pacer = pacer
        graphics = getattr(self, "graphics", None)
        if isinstance(graphics, TimedGraphics):
            graphics.on_painted = None if pacer is None else pacer.add_paint

    def reset(self) -> None:
        """Forget the history and the last snapshot."""
        self.snapshot = None
        self._stale = False
        if self.pacer is not None:
            self.pacer.cancel(self)
        self._clear()

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self._on_dataset_changed()

    def update_snapshot(self, snapshot) -> None:
        """Record the snapshot; redraw now, through the pacer, or when shown."""
        if snapshot.history_reset:
            self._clear()
        self.snapshot = snapshot
        try:
            self._record(snapshot)
        except ValueError:
            logger.warning("%s skipped a malformed history", self.title, exc_info=True)
        self._stale = True
        if not self.isVisible():
            return
        if self.pacer is not None and snapshot.running:
            self.pacer.request(self, self._draw_stale, self.draw_interval)
            return
        self._draw_stale()
        if self.pacer is not None:
            self.pacer.drawn(self)

    def _draw_stale(self) -> None:
        """Draw the last snapshot if it has not been drawn and can be seen."""
        if self._stale and self.snapshot is not None and self.isVisible():
            self._stale = False
            self._draw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._draw_stale()

    def export_image(self, path) -> None:
        """Write what the view shows to a .png or .svg file."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(f"{path.name}: an image must end in .png or .svg")
        item = self._export_item()
        if suffix == ".png":
            exporter = pg.exporters.ImageExporter(item)
            width = max(int(item.boundingRect().width()), 200)
            exporter.parameters()["width"] = width
            exporter.export(str(path))
        else:
            SvgPainterExporter(item).export(str(path))
            if not path.exists():
                raise OSError(f"{path.name} could not be written")
        logger.debug("exported %s to %s", self.title, path)

    # what subclasses provide

    def _export_item(self):
        raise NotImplementedError

    def _clear(self) -> None:
        """Empty histories and items (reset, or a snapshot's history_reset)."""

    def _on_dataset_changed(self) -> None:
        """Show the new data (points, ranges)."""

    def _record(self, snapshot) -> None:
        """Keep what the snapshot adds to a history; runs even when hidden."""

    def _draw(self) -> None:
        """Draw self.snapshot into the items."""
        raise NotImplementedError


class HistoryCurves:
    """Curves fed from an Envelope, redrawn at about 2 points per pixel."""

    def __init__(self, plot: pg.PlotItem, envelope: Envelope, curves):
        self.plot = plot
        self.envelope = envelope
        self.curves = curves
        self.clipped = False

    def draw(self) -> None:
        x_range = self.visible_x_range()
        self.clipped = x_range is not None
        x, y = self.envelope.points(self.n_buckets(), x_range)
        for column, curve in enumerate(self.curves):
            curve.setData(x, y[:, column])

    def n_buckets(self) -> int:
        return max(int(self.plot.vb.width()), 100)

    def visible_x_range(self):
        """None while the x axis follows the data, else the shown steps."""
        view = self.plot.vb
        if view.state["autoRange"][0]:
            return None
        return tuple(view.viewRange()[0])


def history_curve(plot, color, name) -> pg.PlotDataItem:
    curve = plot.plot(pen=thin_pen(color), name=name, connect="finite")
    curve.setClipToView(False)
    return curve


def watch_view(plot: pg.PlotItem, curves, redraw) -> None:
    """Redraw when the user pans, zooms, resizes or returns to the whole run.

    curves: the HistoryCurves of the plot; while the x axis follows the data,
    a range change caused by new data needs no second drawing.
    """

    def on_range_changed(*_):
        if not plot.vb.state["autoRange"][0]:
            redraw()
        elif any(c.clipped for c in curves):
            # after the view box has finished following the clipped data
            QTimer.singleShot(0, redraw)

    plot.vb.sigXRangeChanged.connect(on_range_changed)
    plot.vb.sigResized.connect(lambda *_: redraw())
