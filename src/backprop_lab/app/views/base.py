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
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

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


def cache_picture(item) -> None:
    """Keep the item's painting as a pixmap, repainted only when it changes.

    Axes and titles change far less often than the curves and images next
    to them; cached, a new frame copies them instead of drawing them again.
    """
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def style_plot(plot: pg.PlotItem) -> None:
    """Dark axes and labels on the white background; both cached."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(FOREGROUND)
        axis.setTextPen(FOREGROUND)
        axis.enableAutoSIPrefix(False)
        cache_picture(axis)
    cache_picture(plot.titleLabel)


def set_title(plot: pg.PlotItem, text: str, **options) -> None:
    """Set the plot's title only when it changes (a new title lays out again)."""
    if getattr(plot, "_shown_title", None) != text:
        plot._shown_title = text
        plot.setTitle(text, color=FOREGROUND, **options)


def set_bar_levels(bar: pg.ColorBarItem, levels) -> None:
    """Set the colour bar's levels only when they change (its axis redraws)."""
    levels = (float(levels[0]), float(levels[1]))
    if tuple(float(v) for v in bar.levels()) != levels:
        bar.setLevels(levels)


def color_bar(values=(-1.0, 1.0)) -> pg.ColorBarItem:
    """A fixed (not draggable) diverging colour bar."""
    bar = pg.ColorBarItem(
        values=values, colorMap=DIVERGING, interactive=False, width=12
    )
    axis = bar.getAxis("right")
    axis.enableAutoSIPrefix(False)
    axis.setTextPen(FOREGROUND)
    cache_picture(axis)
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
        with _uncached(item.scene()):
            self._export(item, path, suffix)
        logger.debug("exported %s to %s", self.title, path)

    def _export(self, item, path: Path, suffix: str) -> None:
        if suffix == ".png":
            exporter = pg.exporters.ImageExporter(item)
            width = max(int(item.boundingRect().width()), 200)
            exporter.parameters()["width"] = width
            exporter.export(str(path))
        else:
            SvgPainterExporter(item).export(str(path))
            if not path.exists():
                raise OSError(f"{path.name} could not be written")

    def _lay_out(self, graphics, left=(), right=()) -> None:
        """The plot area above a bar: `left` controls, a stretch, `right` ones."""
        bar = QHBoxLayout()
        for widget in left:
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in right:
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(graphics, 1)
        layout.addLayout(bar)

    # what subclasses provide

    def _export_item(self):
        """The graphics item an export draws: the whole plot area."""
        return self.graphics.ci

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

    def __init__(self, plot: pg.PlotItem, envelope: Envelope, curves, follower=None):
        self.plot = plot
        self.envelope = envelope
        self.curves = curves
        self.follower = follower

    def draw(self) -> None:
        x_range = self.visible_x_range()
        x, y = self.envelope.points(self.n_buckets(), x_range)
        for column, curve in enumerate(self.curves):
            curve.setData(x, y[:, column])

    def n_buckets(self) -> int:
        return max(int(self.plot.vb.width()), 100)

    def visible_x_range(self):
        """None while the x axis follows the data, else the shown steps."""
        view = self.plot.vb
        if self.follower is not None:
            following = self.follower.following
        else:
            following = view.state["autoRange"][0]
        return None if following else tuple(view.viewRange()[0])


def history_curve(plot, color, name) -> pg.PlotDataItem:
    curve = plot.plot(pen=thin_pen(color), name=name, connect="finite")
    curve.setClipToView(False)
    return curve


class RangeFollower:
    """Keeps a plot's ranges around its growing data, changing them seldom.

    pyqtgraph's auto range moves the axes on every new point, so their ticks
    are laid out and drawn again with every frame. Here the step axis gets
    headroom and the value axis a margin, and a range changes only when the
    data leave it or fill too little of it. Panning or zooming stops the
    following; the plot's auto range button ("A", or View All) resumes it.
    """

    X_HEADROOM = 0.25
    Y_MARGIN = 0.08
    SHRINK_BELOW = 0.5

    def __init__(self, plot: pg.PlotItem, follow_y: bool = True):
        self.plot = plot
        self.follow_y = follow_y
        self.following = True
        self._setting = False
        self.resumed = None  # called after following resumes
        plot.vb.disableAutoRange()
        plot.vb.sigStateChanged.connect(self._on_state_changed)

    def fit(self, force: bool = False) -> None:
        """Move the ranges if the data left them (or always, when forced)."""
        if not self.following:
            return
        bounds = _data_bounds(self.plot)
        shown = self.plot.vb.viewRange()
        x = _grown(bounds[0], shown[0], force, _x_range, self.SHRINK_BELOW)
        y = None
        if self.follow_y:
            y = _grown(bounds[1], shown[1], force, _y_range, self.SHRINK_BELOW)
        if x is None and y is None:
            return
        self._setting = True
        try:
            self.plot.vb.setRange(xRange=x, yRange=y, padding=0)
        finally:
            self._setting = False

    def user_moved(self) -> None:
        """The user panned or zoomed: stop following."""
        if not self._setting:
            self.following = False

    def _on_state_changed(self, *_) -> None:
        if self._setting or not self.plot.vb.state["autoRange"][0]:
            return
        # the auto range button or View All: follow again, our way
        self._setting = True
        try:
            self.plot.vb.disableAutoRange()
        finally:
            self._setting = False
        self.following = True
        self.fit(force=True)
        if self.resumed is not None:
            self.resumed()


def _data_bounds(plot: pg.PlotItem):
    """[(x0, x1) or None, (y0, y1) or None] of the shown curves, in view units."""
    bounds = []
    for axis in (0, 1):
        lows, highs = [], []
        for item in plot.listDataItems():
            if not item.isVisible():
                continue
            low, high = item.dataBounds(axis)
            if low is not None and high is not None:
                lows.append(low)
                highs.append(high)
        bounds.append((min(lows), max(highs)) if lows else None)
    return bounds


def _x_range(low, high):
    span = max(high - low, 1.0)
    return low, low + span * (1.0 + RangeFollower.X_HEADROOM)


def _y_range(low, high):
    span = high - low
    margin = span * RangeFollower.Y_MARGIN if span > 0 else max(abs(high), 1.0) * 0.1
    return low - margin, high + margin


def _grown(bounds, shown, force, target, shrink_below):
    """A new (low, high) for data `bounds` against the `shown` range, or None."""
    if bounds is None or not np.all(np.isfinite(bounds)):
        return None
    low, high = float(bounds[0]), float(bounds[1])
    inside = shown[0] <= low and high <= shown[1]
    wide = (high - low) >= shrink_below * (shown[1] - shown[0])
    if inside and wide and not force:
        return None
    return target(low, high)


def watch_view(plot: pg.PlotItem, curves, redraw) -> RangeFollower:
    """Follow the data; redraw on pan, zoom, resize or the return to following.

    curves: the HistoryCurves of the plot; they get the follower, which
    decides whether they draw the whole run or the shown steps.
    """
    follower = RangeFollower(plot)
    for history in curves:
        history.follower = follower
    follower.resumed = redraw

    def on_range_changed(*_):
        if follower._setting:
            return
        follower.user_moved()
        redraw()

    plot.vb.sigXRangeChanged.connect(on_range_changed)
    plot.vb.sigYRangeChanged.connect(on_range_changed)
    plot.vb.sigResized.connect(lambda *_: redraw())
    return follower


@contextmanager
def _uncached(scene):
    """Items paint themselves (not a screen pixmap) while exporting."""
    no_cache = QGraphicsItem.CacheMode.NoCache
    cached = [item for item in scene.items() if item.cacheMode() != no_cache]
    for item in cached:
        item.setCacheMode(no_cache)
    try:
        yield
    finally:
        for item in cached:
            cache_picture(item)
