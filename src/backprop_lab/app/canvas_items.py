"""Geometry, colours and small scene items of the network canvas.

Scene units: one unit is one pixel at zoom 1. Column c holds neuron layer c
(0 = input); weight layer l joins column l to column l + 1.
"""

import struct
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QByteArray, QDataStream, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

# layers wider than this are drawn collapsed: the first and last few neurons
COLLAPSE_ABOVE = 32
SHOWN_AT_ENDS = 6
RADIUS = 13.0
ROW = 46.0
COLUMN = 200.0

POSITIVE = QColor("#e66100")  # orange: weight or bias above zero
NEGATIVE = QColor("#1f6fb4")  # blue: below zero
WEIGHT_LEVELS = 6  # width buckets per sign
GRADIENT_LEVELS = 8  # colour buckets of log |dC/dw|
GRADIENT_DECADES = 4.0  # the log scale spans this many powers of ten
GRADIENT_ANCHORS = ("#cdc6da", "#a38cc4", "#7b3f9e", "#c0245c", "#6b0016")
SELECTION = QColor("#111111")
HIGHLIGHT = QColor(46, 160, 67, 150)


@dataclass(frozen=True)
class Column:
    """Where the neurons of one layer are drawn."""

    layer: int  # neuron layer 0..L; weight layer layer - 1 feeds it
    size: int
    x: float
    shown: np.ndarray  # indices of the drawn neurons
    y: np.ndarray  # their y positions
    ellipsis_y: float | None  # centre of the "..." of a collapsed layer

    @property
    def collapsed(self) -> bool:
        return self.ellipsis_y is not None

    def slot_of(self, j: int) -> int | None:
        """Position of neuron j among the drawn ones, or None when hidden."""
        found = np.flatnonzero(self.shown == j)
        return int(found[0]) if found.size else None


def layout_columns(sizes) -> list[Column]:
    """One column per layer, each centred on y = 0."""
    columns = []
    for layer, size in enumerate(sizes):
        if size > COLLAPSE_ABOVE:
            ends = np.arange(SHOWN_AT_ENDS)
            shown = np.concatenate([ends, size - SHOWN_AT_ENDS + ends])
            slots = np.concatenate([ends, ends + SHOWN_AT_ENDS + 2])
            n_slots = 2 * SHOWN_AT_ENDS + 2
        else:
            shown = np.arange(size)
            slots = shown
            n_slots = size
        offset = (n_slots - 1) / 2.0
        y = (slots - offset) * ROW
        ellipsis_y = (
            (SHOWN_AT_ENDS + 0.5 - offset) * ROW if size > COLLAPSE_ABOVE else None
        )
        columns.append(Column(layer, size, layer * COLUMN, shown, y, ellipsis_y))
    return columns


# one element of QPainterPath's stream format: type (0 move, 1 line), x, y
_PATH_ELEMENT = np.dtype([("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
_PATH_END = struct.pack(">ii", 0, 0)


@dataclass(frozen=True)
class EdgeGeometry:
    """The drawn edges of one weight layer, as flat arrays (n_edges,)."""

    js: np.ndarray  # neuron j of the layer's output
    ks: np.ndarray  # neuron k of its input
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def elements(self) -> np.ndarray:
        """(n_edges, 2) path elements: move to the start, line to the end."""
        cached = self.__dict__.get("_elements")
        if cached is None:
            cached = np.empty((len(self.js), 2), _PATH_ELEMENT)
            cached["type"] = (0, 1)
            cached["x"] = np.stack([self.x0, self.x1], axis=1)
            cached["y"] = np.stack([self.y0, self.y1], axis=1)
            object.__setattr__(self, "_elements", cached)
        return cached

    def __len__(self) -> int:
        return len(self.js)


def edge_geometry(left: Column, right: Column) -> EdgeGeometry:
    """Every edge between the drawn neurons of two neighbouring columns."""
    n_in, n_out = len(left.shown), len(right.shown)
    js = np.repeat(right.shown, n_in)
    ks = np.tile(left.shown, n_out)
    y0 = np.tile(left.y, n_out)
    y1 = np.repeat(right.y, n_in)
    x0 = np.full(len(js), left.x + RADIUS)
    x1 = np.full(len(js), right.x - RADIUS)
    return EdgeGeometry(js, ks, x0, y0, x1, y1)


def segments_path(geometry: EdgeGeometry, chosen) -> QPainterPath:
    """One path holding the chosen edges (a boolean or index array).

    Built from the arrays in one go through QPainterPath's binary stream
    format rather than a Python loop of lineTo calls.
    """
    elements = geometry.elements[chosen]
    path = QPainterPath()
    if len(elements) == 0:
        return path
    # count, the (type, x, y) elements, the current subpath's start, fill rule
    data = b"".join(
        (struct.pack(">i", 2 * len(elements)), elements.tobytes(), _PATH_END)
    )
    QDataStream(QByteArray(data)) >> path
    return path


def nearest_edge(geometry: EdgeGeometry, px: float, py: float):
    """(index, distance) of the edge closest to the point, or (None, inf)."""
    if len(geometry) == 0:
        return None, np.inf
    dx = geometry.x1 - geometry.x0
    dy = geometry.y1 - geometry.y0
    length2 = dx * dx + dy * dy
    t = ((px - geometry.x0) * dx + (py - geometry.y0) * dy) / length2
    t = np.clip(t, 0.0, 1.0)
    distance = np.hypot(geometry.x0 + t * dx - px, geometry.y0 + t * dy - py)
    index = int(np.argmin(distance))
    return index, float(distance[index])


def weight_buckets(weights, present) -> np.ndarray:
    """Bucket of each edge: sign * WEIGHT_LEVELS + width level; -1 if removed."""
    size = np.abs(weights)
    largest = size[present].max() if present.any() else 0.0
    if largest > 0:
        level = size / largest * (WEIGHT_LEVELS - 1)
        level = np.rint(level).astype(np.int64)
    else:
        level = np.zeros(len(weights), np.int64)
    buckets = level + WEIGHT_LEVELS * (weights < 0)
    buckets[~present] = -1
    return buckets


def gradient_top(gradient_sizes) -> float | None:
    """log10 of the largest |dC/dw| among arrays, or None if all are zero."""
    largest = max((float(g.max()) for g in gradient_sizes if g.size), default=0.0)
    return float(np.log10(largest)) if largest > 0 else None


def gradient_buckets(gradient_size, present, top) -> np.ndarray:
    """Level 0..GRADIENT_LEVELS-1 of log10 |dC/dw| below `top`; -1 if removed."""
    if top is None:
        levels = np.zeros(len(gradient_size), np.int64)
    else:
        with np.errstate(divide="ignore"):
            logs = np.log10(gradient_size)
        scaled = (logs - (top - GRADIENT_DECADES)) / GRADIENT_DECADES
        levels = np.floor(scaled * GRADIENT_LEVELS)
        levels = np.clip(np.nan_to_num(levels, neginf=0), 0, GRADIENT_LEVELS - 1)
        levels = levels.astype(np.int64)
    levels[~present] = -1
    return levels


def weight_pen(bucket: int) -> QPen:
    """Opaque colours: blending translucent wide lines is slow to paint."""
    level = bucket % WEIGHT_LEVELS
    base = NEGATIVE if bucket >= WEIGHT_LEVELS else POSITIVE
    strength = 0.3 + 0.7 * level / (WEIGHT_LEVELS - 1)
    return _cosmetic_pen(_toward_white(base, 1.0 - strength), 0.6 + 0.8 * level)


def _toward_white(color: QColor, amount: float) -> QColor:
    """`color` mixed with white; amount 0 keeps it, 1 gives white."""
    return QColor.fromRgbF(
        color.redF() + (1 - color.redF()) * amount,
        color.greenF() + (1 - color.greenF()) * amount,
        color.blueF() + (1 - color.blueF()) * amount,
    )


def gradient_color(level: float) -> QColor:
    """Colour of the log gradient scale at level 0..GRADIENT_LEVELS-1."""
    position = level / (GRADIENT_LEVELS - 1) * (len(GRADIENT_ANCHORS) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(GRADIENT_ANCHORS) - 1)
    mix = position - low
    a, b = QColor(GRADIENT_ANCHORS[low]), QColor(GRADIENT_ANCHORS[high])
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * mix,
        a.greenF() + (b.greenF() - a.greenF()) * mix,
        a.blueF() + (b.blueF() - a.blueF()) * mix,
    )


def gradient_pen(level: int) -> QPen:
    return _cosmetic_pen(gradient_color(level), 0.8 + 0.55 * level)


def removed_pen() -> QPen:
    pen = _cosmetic_pen(QColor(170, 170, 170), 1.0)
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def _cosmetic_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


def signed_tint(value: float, scale: float) -> QColor:
    """A light orange or blue, stronger for larger |value| / scale."""
    strength = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    base = POSITIVE if value >= 0 else NEGATIVE
    return _toward_white(base, 1.0 - 0.75 * strength)


def activation_fill(value: float, scale: float) -> QColor:
    """Grey for a >= 0 (darker = larger), purple for a < 0."""
    strength = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    if value >= 0:
        grey = 1.0 - 0.85 * strength
        return QColor.fromRgbF(grey, grey, grey)
    return QColor.fromRgbF(1 - 0.55 * strength, 1 - 0.8 * strength, 1 - 0.45 * strength)


def small_font(points: float = 7.5, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


class ButtonItem(QGraphicsItem):
    """A small rounded button drawn in the scene; the canvas calls `action`."""

    def __init__(self, text, tooltip, action, width=None, enabled=True):
        super().__init__()
        self.text = text
        self.tooltip = tooltip
        self.action = action
        self.enabled = enabled
        self.font = small_font(8.5, bold=True)
        self.width = width or self._text_width(text)
        self.height = 18.0
        self.hovered = False

    def boundingRect(self) -> QRectF:
        return QRectF(-self.width / 2, -self.height / 2, self.width, self.height)

    def paint(self, painter, _option, _widget=None) -> None:
        fill = QColor("#d8e6f5") if self.hovered else QColor("#f3f3f3")
        painter.setPen(QPen(QColor("#8a8a8a"), 1.0))
        painter.setBrush(fill if self.enabled else QColor("#fafafa"))
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        painter.setFont(self.font)
        painter.setPen(QColor("#222222") if self.enabled else QColor("#bbbbbb"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, self.text)

    def _text_width(self, text: str) -> float:
        return QFontMetricsF(self.font).horizontalAdvance(text) + 14

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            self.width = self._text_width(text)
            self.update()


class BiasTag(QGraphicsItem):
    """The bias of one neuron: its value on a tint of its sign; clickable."""

    def __init__(self, layer: int, j: int):
        super().__init__()
        self.layer = layer
        self.j = j
        self.value = 0.0
        self.scale = 1.0
        self.selected = False
        self.font = small_font(7.0)
        self.setZValue(3)

    def boundingRect(self) -> QRectF:
        return QRectF(-22, -7, 44, 14)

    def set_value(self, value: float, scale: float) -> None:
        if value != self.value or scale != self.scale:
            self.value, self.scale = value, scale
            self.update()

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def paint(self, painter, _option, _widget=None) -> None:
        rect = self.boundingRect().adjusted(1, 1, -1, -1)
        width = 2.0 if self.selected else 0.8
        painter.setPen(QPen(SELECTION if self.selected else QColor("#999999"), width))
        painter.setBrush(signed_tint(self.value, self.scale))
        painter.drawRoundedRect(rect, 4, 4)
        painter.setFont(self.font)
        painter.setPen(QColor("#222222"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, format_number(self.value))


def format_number(value: float) -> str:
    """Short signed text for a parameter: +0.123, -1.5e-04."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:+.3g}"
    return f"{value:+.1e}"
