"""The network canvas: neurons, edges and biases, drawn and edited by hand.

Edges of one weight layer are drawn as a few path items, one per colour and
width bucket, rebuilt from NumPy arrays; hovering and clicking find the
nearest edge geometrically. The canvas never changes its network: every edit
leaves as an `Edit` through `edit_requested`, and the session hands the new
network back through `set_network`. All methods run on the GUI thread.
"""

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QBrush,
    QColor,
    QCursor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLineEdit,
    QMenu,
    QToolTip,
)

from backprop_lab.app import canvas_items as ci
from backprop_lab.app import commands
from backprop_lab.engine import ACTIVATIONS, HIDDEN_ACTIVATIONS

logger = logging.getLogger(__name__)

HIT_PIXELS = 5.0  # an edge within this many screen pixels is under the mouse
ZOOM_STEP = 1.25
ZOOM_RANGE = (0.05, 8.0)
N_BUCKETS = 2 * ci.WEIGHT_LEVELS  # path items per weight layer
# while training, the canvas redraws at most once per this many seconds
DRAW_INTERVAL = 0.1
HEADER_GAP = 58.0  # from the top neuron to the layer's title


@dataclass(frozen=True)
class Hit:
    """What lies under the mouse: an edge, a neuron, a bias, or a button."""

    kind: str  # "edge" | "neuron" | "bias" | "button"
    layer: int = 0  # weight layer; -1 for an input neuron
    j: int = 0
    k: int = 0
    button: object = None


class ValueEditor(QLineEdit):
    """A one-line box on the canvas for typing a weight or a bias."""

    def __init__(self, parent):
        super().__init__(parent)
        self.on_commit = None
        self.setFixedWidth(110)
        self.hide()

    def open(self, pos, value: float, tooltip: str, on_commit) -> None:
        self.on_commit = on_commit
        self.setText(f"{value:.6g}")
        self.setToolTip(tooltip)
        self.setStyleSheet("")
        self.move(int(pos.x()), int(pos.y()))
        self.show()
        self.raise_()
        self.selectAll()
        self.setFocus()

    def value(self) -> float | None:
        """The typed number, or None when the text is not a finite number."""
        try:
            number = float(self.text().strip().replace(",", "."))
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
        elif event.key() == Qt.Key.Key_Escape:
            self.hide()
        else:
            super().keyPressEvent(event)

    def commit(self) -> None:
        number = self.value()
        if number is None:
            self.setStyleSheet("border: 2px solid #c0245c;")
            self.setToolTip("Type a number, such as -0.5 or 1e-3")
            QToolTip.showText(
                self.mapToGlobal(self.rect().bottomLeft()), self.toolTip()
            )
            return
        self.hide()
        if self.on_commit is not None:
            self.on_commit(number)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.hide()


class NetworkCanvas(QGraphicsView):
    """Draws a Network and turns mouse and keyboard gestures into Edits."""

    # an edit the user asked for; the canvas's network is unchanged until
    # set_network is called with the result
    edit_requested = Signal(object)
    # the user clicked an edge: weight layer, j (output neuron), k (input neuron)
    edge_selected = Signal(int, int, int)
    # the user clicked a bias tag, or Shift/Alt-clicked a neuron
    bias_selected = Signal(int, int)
    # the user clicked a neuron; layer -1 is the input
    neuron_selected = Signal(int, int)
    # the user clicked empty space or pressed Escape
    selection_cleared = Signal()
    # the edge colouring changed, from the canvas's menu or set_edge_mode
    edge_mode_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QBrush(QColor("white")))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.network = None
        self.edge_mode = "weight"
        self.hover_text = ""
        self._weight_gradients = None
        self._bias_gradients = None
        self._example = None
        self._selection: Hit | None = None
        self._highlight: list = []
        self._hovered: Hit | None = None
        self._pan_from = None
        self._auto_fit = True
        self._columns: list = []
        self._geometry: list = []
        self._editor = ValueEditor(self.viewport())
        self.pacer = None
        self._pending = None

    # ---- public interface -------------------------------------------------

    def set_pacer(self, pacer) -> None:
        """Draw running snapshots through `pacer` (a DrawPacer), or None."""
        if self.pacer is not None:
            self.pacer.cancel(self)
        self.pacer = pacer

    def set_network(self, net) -> None:
        """Show `net`; scene items are rebuilt only if the sizes changed."""
        self._pending = None
        if self.pacer is not None:
            self.pacer.cancel(self)
        self._set_smooth(True)
        self._show_network(net)

    def _show_network(self, net) -> None:
        old = self.network
        self.network = net
        if not self._gradients_fit(net):
            self._weight_gradients = self._bias_gradients = None
        if old is None or list(old.sizes) != list(net.sizes):
            self._rebuild()
        else:
            self._refresh()

    def update_snapshot(self, snapshot) -> None:
        """New weights, biases and last-step gradients; cheap, items reused.

        With a pacer, a running snapshot is drawn through it, at most once
        per DRAW_INTERVAL; only the newest waiting snapshot is drawn.
        """
        if self.pacer is not None and snapshot.running:
            self._pending = snapshot
            self.pacer.request(self, self._draw_pending, DRAW_INTERVAL)
            return
        self._pending = None
        self._apply_snapshot(snapshot)
        if self.pacer is not None:
            self.pacer.drawn(self)

    def _draw_pending(self) -> None:
        snapshot, self._pending = self._pending, None
        if snapshot is not None:
            self._apply_snapshot(snapshot)

    def _apply_snapshot(self, snapshot) -> None:
        # while training, edges are drawn without antialiasing (about half
        # the painting time); a paused network is drawn smooth again
        self._set_smooth(not snapshot.running)
        self._weight_gradients = tuple(snapshot.weight_gradients) or None
        self._bias_gradients = tuple(snapshot.bias_gradients) or None
        self._show_network(snapshot.network)

    def _set_smooth(self, smooth: bool) -> None:
        hint = QPainter.RenderHint.Antialiasing
        if bool(self.renderHints() & hint) != smooth:
            self.setRenderHint(hint, smooth)

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        if self.pacer is not None:
            self.pacer.add_paint(time.perf_counter() - started)

    def set_edge_mode(self, mode: str) -> None:
        """Colour edges by "weight" or by the last step's |dC/dw| ("gradient")."""
        if mode not in ("weight", "gradient"):
            raise ValueError(f"edge mode must be 'weight' or 'gradient', not {mode!r}")
        if mode != self.edge_mode:
            self.edge_mode = mode
            self._apply_bucket_pens()
            self._refresh()
            self.edge_mode_changed.emit(mode)

    def set_example_activations(self, activations) -> None:
        """Fill neurons by their activation a for one example, or None to clear.

        activations: one array per neuron layer 0..L (0 = input), shape (n,).
        """
        if activations is not None:
            activations = [np.asarray(a, dtype=float).ravel() for a in activations]
        self._example = activations
        if self.network is not None and self._columns:
            self._draw_neuron_fills()

    def highlight_edges(self, edges) -> None:
        """Draw these (layer, j, k) edges highlighted, e.g. the largest paths."""
        self._highlight = [tuple(int(i) for i in edge) for edge in edges or ()]
        self._draw_highlight()

    def select_edge(self, layer: int, j: int, k: int) -> None:
        """Show edge (layer, j, k) as selected without emitting a signal."""
        self._set_selection(Hit("edge", layer, j, k))

    def select_neuron(self, layer: int, j: int) -> None:
        """Show neuron j of weight layer `layer` (-1 = input) as selected."""
        self._set_selection(Hit("neuron", layer, j))

    def select_bias(self, layer: int, j: int) -> None:
        self._set_selection(Hit("bias", layer, j))

    def clear_selection(self) -> None:
        self._set_selection(None)

    def fit_to_window(self) -> None:
        self._auto_fit = True
        rect = self.scene().sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.6:
                self.resetTransform()
                self.scale(1.6, 1.6)

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP)

    def export_image(self, path) -> None:
        """Write the whole network as a PNG or SVG picture."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            self._export_png(path)
        elif suffix == ".svg":
            self._export_svg(path)
        else:
            raise ValueError(f"{path.name}: export the canvas as .png or .svg")

    def hit_at(self, pos) -> Hit | None:
        """The edge, neuron, bias tag or button at viewport position `pos`."""
        if self.network is None:
            return None
        for item in self.items(pos.toPoint()):
            if isinstance(item, ci.ButtonItem):
                return Hit("button", button=item)
            if isinstance(item, ci.BiasTag):
                return Hit("bias", item.layer, item.j)
        point = self.mapToScene(pos.toPoint())
        return self._neuron_at(point) or self._edge_at(point)

    def scene_point_of_edge(self, layer: int, j: int, k: int) -> QPointF | None:
        """Scene midpoint of a drawn edge, or None when it is collapsed away."""
        ends = self._edge_ends(layer, j, k)
        if ends is None:
            return None
        return (ends[0] + ends[1]) / 2

    def scene_point_of_neuron(self, layer: int, j: int) -> QPointF | None:
        column = self._columns[layer + 1]
        slot = column.slot_of(j)
        return None if slot is None else QPointF(column.x, column.y[slot])

    def buttons(self) -> list:
        """The scene's buttons, for menus, tests and accessibility."""
        return [i for i in self.scene().items() if isinstance(i, ci.ButtonItem)]

    # ---- building the scene -----------------------------------------------

    def _rebuild(self) -> None:
        scene = self.scene()
        self._editor.hide()
        self._hovered = None
        scene.clear()
        net = self.network
        if self._selection is not None and not self._fits(self._selection):
            self._selection = None
            self.selection_cleared.emit()
        self._columns = ci.layout_columns(net.sizes)
        self._geometry = [
            ci.edge_geometry(a, b)
            for a, b in zip(self._columns[:-1], self._columns[1:], strict=True)
        ]
        self._top = min(float(c.y.min()) for c in self._columns) - HEADER_GAP
        self._bottom = max(float(c.y.max()) for c in self._columns) + 30
        self._build_edges()
        self._build_neurons()
        self._build_headers()
        self._legend = QGraphicsSimpleTextItem()
        self._legend.setFont(ci.small_font(8))
        self._legend.setBrush(QColor("#444444"))
        self._legend.setPos(-ci.RADIUS, self._bottom + 16)
        scene.addItem(self._legend)
        self._apply_bucket_pens()
        self._refresh()
        self._update_scene_rect()
        if self._auto_fit:
            self.fit_to_window()

    def _build_edges(self) -> None:
        scene = self.scene()
        self._bucket_items = []
        self._removed_items = []
        for geometry, right in zip(self._geometry, self._columns[1:], strict=True):
            items = [QGraphicsPathItem() for _ in range(N_BUCKETS)]
            for item in items:
                item.setZValue(-2)
                scene.addItem(item)
            self._bucket_items.append(items)
            removed = QGraphicsPathItem()
            removed.setPen(ci.removed_pen())
            removed.setZValue(-2)
            scene.addItem(removed)
            self._removed_items.append(removed)
            self._add_bundles(geometry, right)
        self._highlight_item = self._path_item(ci.HIGHLIGHT, 7.0, z=-1.5)
        self._selected_edge_item = self._path_item(ci.SELECTION, 3.0, z=-1)

    def _path_item(self, color, width, z) -> QGraphicsPathItem:
        pen = QPen(color, width)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        item = QGraphicsPathItem()
        item.setPen(pen)
        item.setZValue(z)
        self.scene().addItem(item)
        return item

    def _add_bundles(self, geometry, right) -> None:
        """Faint fans toward the "..." of collapsed layers: edges not drawn."""
        left = self._columns[right.layer - 1]
        path = QPainterPath()
        for near, far in ((left, right), (right, left)):
            if not near.collapsed:
                continue
            x0 = near.x + (ci.RADIUS if near is left else -ci.RADIUS)
            x1 = far.x - (ci.RADIUS if far is right else -ci.RADIUS)
            for y in far.y:
                path.moveTo(x0, near.ellipsis_y)
                path.lineTo(x1, float(y))
        if not path.isEmpty():
            pen = QPen(QColor("#ececec"), 1.0)  # opaque and solid: quick to paint
            pen.setCosmetic(True)
            self.scene().addPath(path, pen).setZValue(-3)

    def _build_neurons(self) -> None:
        scene = self.scene()
        self._neuron_items = []
        self._value_labels = []
        self._bias_tags = []
        r = ci.RADIUS
        for column in self._columns:
            circles, labels, tags = [], [], []
            for j, y in zip(column.shown, column.y, strict=True):
                circle = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
                circle.setPos(column.x, float(y))
                circle.setPen(QPen(QColor("#555555"), 1.2))
                circle.setZValue(2)
                scene.addItem(circle)
                circles.append(circle)
                label = QGraphicsSimpleTextItem()
                label.setFont(ci.small_font(6.5))
                label.setZValue(4)
                scene.addItem(label)
                labels.append((label, column.x, float(y)))
                if column.layer > 0:
                    tag = ci.BiasTag(column.layer - 1, int(j))
                    tag.setPos(column.x, float(y) - r - 8)
                    scene.addItem(tag)
                    tags.append(tag)
            self._neuron_items.append(circles)
            self._value_labels.append(labels)
            self._bias_tags.append(tags)
            if column.collapsed:
                self._add_ellipsis(column)
        self._selected_neuron_item = QGraphicsEllipseItem(
            -r - 4, -r - 4, 2 * r + 8, 2 * r + 8
        )
        self._selected_neuron_item.setPen(QPen(ci.SELECTION, 2.5))
        self._selected_neuron_item.setZValue(5)
        self._selected_neuron_item.hide()
        scene.addItem(self._selected_neuron_item)

    def _add_ellipsis(self, column) -> None:
        hidden = column.size - len(column.shown)
        text = QGraphicsSimpleTextItem(f"⋮\n{hidden} more")
        text.setFont(ci.small_font(8))
        text.setBrush(QColor("#555555"))
        box = text.boundingRect()
        text.setPos(column.x - box.width() / 2, column.ellipsis_y - box.height() / 2)
        text.setZValue(2)
        self.scene().addItem(text)
        backing = text.sceneBoundingRect().adjusted(-3, -2, 3, 2)
        rect = self.scene().addRect(backing, QPen(Qt.PenStyle.NoPen), QColor("white"))
        rect.setZValue(1.5)

    def _build_headers(self) -> None:
        """Titles, activation choosers and the buttons that edit layers.

        Row one: the layer's name and activation (click to choose another).
        Row two: "−  size  +  ×" on hidden layers, the size elsewhere. Below
        the neurons, a "+ layer" button between every two columns.
        """
        self._titles = []
        last = len(self._columns) - 1
        for column in self._columns:
            layer = column.layer - 1
            if column.layer == 0:
                title = self._add_button(
                    "input", "The input layer follows the data", None
                )
            else:
                title = self._add_button(
                    "",
                    "Click to choose this layer's activation function",
                    lambda pos, layer=layer: self._show_activation_menu(layer, pos),
                )
            title.setPos(column.x, self._top - 24)
            title.layer = layer
            self._titles.append(title)
            self._add_size_label(column)
            if 0 < column.layer < last:
                self._add_layer_buttons(column)
        for column in self._columns[:-1]:
            self._add_insert_button(column)

    def _add_size_label(self, column) -> None:
        label = QGraphicsSimpleTextItem(str(column.size))
        label.setFont(ci.small_font(8.5, bold=True))
        label.setBrush(QColor("#333333"))
        box = label.boundingRect()
        label.setPos(column.x - box.width() / 2, self._top - box.height() / 2)
        label.setToolTip("neurons in this layer")
        self.scene().addItem(label)

    def _add_button(self, text, tooltip, action, enabled=True) -> ci.ButtonItem:
        button = ci.ButtonItem(text, tooltip, action, enabled=enabled)
        button.setZValue(6)
        self.scene().addItem(button)
        return button

    def _add_layer_buttons(self, column) -> None:
        layer = column.layer - 1
        specs = [
            (
                -30,
                "−",
                "Remove the selected neuron of this layer, or its last neuron",
                self._remove_neuron,
                column.size > 1,
            ),
            (30, "+", "Add a neuron to this layer", self._add_neuron, True),
            (58, "×", "Remove this hidden layer", self._remove_layer, True),
        ]
        for offset, text, tip, handler, enabled in specs:
            button = self._add_button(
                text, tip, lambda _pos, h=handler: h(layer), enabled=enabled
            )
            button.width = 20
            button.setPos(column.x + offset, self._top)

    def _add_insert_button(self, column) -> None:
        index = column.layer
        button = self._add_button(
            "+ layer",
            "Insert a hidden layer here",
            lambda _pos: self._insert_layer(index),
        )
        button.setPos(column.x + ci.COLUMN / 2, self._bottom - 6)

    def _update_scene_rect(self) -> None:
        rect = self.scene().itemsBoundingRect()
        self.scene().setSceneRect(rect.adjusted(-30, -20, 30, 20))

    # ---- refreshing numbers -----------------------------------------------

    def _refresh(self) -> None:
        if self.network is None or not self._columns:
            return
        self._draw_edges()
        self._draw_biases()
        self._draw_neuron_fills()
        self._draw_titles()
        self._draw_highlight()
        self._draw_selection()
        self._draw_legend()
        if self._hovered is not None:
            self._set_hover(self._hovered, show=QToolTip.isVisible())

    def _edge_values(self, layer):
        """Weights, masks and gradient sizes of the drawn edges of one layer."""
        geometry = self._geometry[layer]
        weights = self.network.weights[layer][geometry.js, geometry.ks]
        present = self.network.masks[layer][geometry.js, geometry.ks] != 0
        grads = None
        if self._weight_gradients is not None:
            grads = np.abs(self._weight_gradients[layer][geometry.js, geometry.ks])
        return weights, present, grads

    def _draw_edges(self) -> None:
        values = [self._edge_values(layer) for layer in range(len(self._geometry))]
        top = None
        if self.edge_mode == "gradient":
            top = ci.gradient_top(
                [g[present] for _w, present, g in values if g is not None]
            )
        for layer, (weights, present, grads) in enumerate(values):
            if self.edge_mode == "weight":
                buckets = ci.weight_buckets(weights, present)
            else:
                sizes = grads if grads is not None else np.zeros(len(weights))
                buckets = ci.gradient_buckets(sizes, present, top)
            geometry = self._geometry[layer]
            for bucket, item in enumerate(self._bucket_items[layer]):
                _set_segments(item, geometry, buckets == bucket)
            _set_segments(self._removed_items[layer], geometry, ~present)
        self._gradient_top = top

    def _apply_bucket_pens(self) -> None:
        """Pens of the bucket items; stronger buckets are stacked on top."""
        if self.edge_mode == "weight":
            pens = [ci.weight_pen(b) for b in range(N_BUCKETS)]
            levels = [b % ci.WEIGHT_LEVELS for b in range(N_BUCKETS)]
        else:
            levels = [min(b, ci.GRADIENT_LEVELS - 1) for b in range(N_BUCKETS)]
            pens = [ci.gradient_pen(level) for level in levels]
        for items in getattr(self, "_bucket_items", []):
            for item, pen, level in zip(items, pens, levels, strict=True):
                item.setPen(pen)
                item.setZValue(-2 + 0.01 * level)

    def _draw_biases(self) -> None:
        for column, tags in zip(self._columns[1:], self._bias_tags[1:], strict=True):
            biases = self.network.biases[column.layer - 1]
            scale = float(np.abs(biases).max()) or 1.0
            for tag, j in zip(tags, column.shown, strict=True):
                tag.set_value(float(biases[j]), scale)

    def _draw_neuron_fills(self) -> None:
        example = self._example
        if example is not None and [len(a) for a in example] != list(
            self.network.sizes
        ):
            logger.debug("example activations do not fit the network; ignored")
            example = None
        for column, circles, labels in zip(
            self._columns, self._neuron_items, self._value_labels, strict=True
        ):
            values = None if example is None else example[column.layer][column.shown]
            scale = 1.0
            if values is not None and values.size:
                scale = max(1.0, float(np.abs(values).max()))
            for slot, (circle, (label, x, y)) in enumerate(zip(circles, labels)):
                if values is None:
                    circle.setBrush(QColor("white"))
                    label.setText("")
                    continue
                value = float(values[slot])
                fill = ci.activation_fill(value, scale)
                circle.setBrush(fill)
                label.setText(f"{value:.2f}")
                dark = fill.lightnessF() < 0.5
                label.setBrush(QColor("white" if dark else "#222222"))
                box = label.boundingRect()
                label.setPos(x - box.width() / 2, y - box.height() / 2)

    def _draw_titles(self) -> None:
        last = len(self._columns) - 1
        for column, title in zip(self._columns[1:], self._titles[1:], strict=True):
            name = self.network.activations[column.layer - 1]
            role = "output" if column.layer == last else f"layer {column.layer}"
            title.set_text(f"{role} · {name} ▾")

    def _draw_legend(self) -> None:
        if self.edge_mode == "weight":
            text = (
                "edges: orange w > 0, blue w < 0, width |w| (per layer)\n"
                "dashed: removed connections; tags above the neurons: biases b"
            )
        elif self._gradient_top is None:
            text = "edges by last step's |dC/dw|: no step taken yet"
        else:
            low = self._gradient_top - ci.GRADIENT_DECADES
            text = (
                "edges by the last step's |dC/dw|, log scale:\n"
                f"pale 1e{low:.1f} or less, dark red 1e{self._gradient_top:.1f}"
            )
        if self._example is not None:
            text += (
                "\nneurons: activation a for the chosen example, grey > 0, purple < 0"
            )
        if text != self._legend.text():
            self._legend.setText(text)
            legend = self._legend.sceneBoundingRect()
            if not self.scene().sceneRect().contains(legend):
                self._update_scene_rect()

    def _draw_highlight(self) -> None:
        if not self._columns:
            return
        path = QPainterPath()
        for layer, j, k in self._highlight:
            ends = self._edge_ends(layer, j, k)
            if ends is not None:
                path.moveTo(ends[0])
                path.lineTo(ends[1])
        self._highlight_item.setPath(path)

    # ---- selection and hover ----------------------------------------------

    def _set_selection(self, hit: Hit | None) -> None:
        self._selection = hit
        if self._columns:
            self._draw_selection()

    def _draw_selection(self) -> None:
        hit = self._selection
        path = QPainterPath()
        if hit is not None and hit.kind == "edge":
            ends = self._edge_ends(hit.layer, hit.j, hit.k)
            if ends is not None:
                path.moveTo(ends[0])
                path.lineTo(ends[1])
        self._selected_edge_item.setPath(path)
        point = None
        if hit is not None and hit.kind == "neuron":
            point = self._neuron_point(hit.layer, hit.j)
        self._selected_neuron_item.setVisible(point is not None)
        if point is not None:
            self._selected_neuron_item.setPos(point)
        for tags in self._bias_tags:
            for tag in tags:
                tag.set_selected(
                    hit is not None
                    and hit.kind == "bias"
                    and (tag.layer, tag.j) == (hit.layer, hit.j)
                )

    def _fits(self, hit: Hit) -> bool:
        """Whether a selected edge, neuron or bias exists in the network."""
        sizes = self.network.sizes
        if not -1 <= hit.layer < len(sizes) - 1 or hit.j >= sizes[hit.layer + 1]:
            return False
        return hit.kind != "edge" or (hit.layer >= 0 and hit.k < sizes[hit.layer])

    def _neuron_point(self, layer, j) -> QPointF | None:
        if not -1 <= layer < len(self._geometry):
            return None
        return self.scene_point_of_neuron(layer, j)

    def _edge_ends(self, layer, j, k):
        if not 0 <= layer < len(self._geometry):
            return None
        start = self._neuron_point(layer - 1, k)
        end = self._neuron_point(layer, j)
        if start is None or end is None:
            return None
        return start + QPointF(ci.RADIUS, 0), end - QPointF(ci.RADIUS, 0)

    def _neuron_at(self, point) -> Hit | None:
        for column in self._columns:
            if abs(point.x() - column.x) > ci.RADIUS + 2:
                continue
            distance = np.hypot(column.y - point.y(), column.x - point.x())
            slot = int(np.argmin(distance))
            if distance[slot] <= ci.RADIUS + 2:
                return Hit("neuron", column.layer - 1, int(column.shown[slot]))
        return None

    def _edge_at(self, point) -> Hit | None:
        tolerance = HIT_PIXELS / max(self.transform().m11(), 1e-6)
        for layer, geometry in enumerate(self._geometry):
            if len(geometry) == 0:
                continue
            if (
                not geometry.x0[0] - tolerance
                <= point.x()
                <= geometry.x1[0] + tolerance
            ):
                continue
            index, distance = ci.nearest_edge(geometry, point.x(), point.y())
            if distance <= tolerance:
                return Hit(
                    "edge", layer, int(geometry.js[index]), int(geometry.ks[index])
                )
        return None

    def describe(self, hit: Hit) -> str:
        """Live numbers of what is under the mouse, as tooltip text."""
        if hit.kind == "button":
            return hit.button.tooltip
        if hit.kind == "edge":
            return self._describe_edge(hit.layer, hit.j, hit.k)
        return self._describe_neuron(hit.layer, hit.j)

    def _describe_edge(self, layer, j, k) -> str:
        net = self.network
        lines = [
            f"weight w{j},{k} of layer {layer + 1} = {net.weights[layer][j, k]:.6g}"
        ]
        lines.append(
            f"from neuron {k} of layer {layer} to neuron {j} of layer {layer + 1}"
        )
        if net.masks[layer][j, k] == 0:
            lines.append("removed connection (right-click > Restore connection)")
        elif self._weight_gradients is not None:
            grad = self._weight_gradients[layer][j, k]
            lines.append(f"dC/dw = {grad:.4g} (last step)")
        lines.append("click: select · double-click: type a weight · Delete: remove")
        return "\n".join(lines)

    def _describe_neuron(self, layer, j) -> str:
        net = self.network
        if layer < 0:
            lines = [f"input neuron {j}"]
        else:
            name = net.activations[layer]
            lines = [f"neuron {j} of layer {layer + 1} ({name})"]
            lines.append(f"bias b{j} = {net.biases[layer][j]:.6g}")
            if self._bias_gradients is not None:
                lines.append(
                    f"dC/db = {self._bias_gradients[layer][j]:.4g} (last step)"
                )
        example = self._example
        if example is not None and [len(a) for a in example] == list(net.sizes):
            a = example[layer + 1][j]
            if layer >= 0:
                z = float(net.weights[layer][j] @ example[layer] + net.biases[layer][j])
                lines.append(f"chosen example: z = {z:.4g}, a = {a:.4g}")
            else:
                lines.append(f"chosen example: a = x{j} = {a:.4g}")
        if layer >= 0:
            lines.append(
                "click: select · Shift+click or click the tag: select the bias"
                " · double-click: type the bias"
            )
        return "\n".join(lines)

    def _set_hover(self, hit: Hit | None, show: bool = True, global_pos=None) -> None:
        if self._hovered is not None and self._hovered.kind == "button":
            self._hovered.button.hovered = False
            self._hovered.button.update()
        self._hovered = hit
        self.hover_text = "" if hit is None else self.describe(hit)
        if hit is not None and hit.kind == "button":
            hit.button.hovered = True
            hit.button.update()
        if not show:
            return
        if self.hover_text:
            where = global_pos if global_pos is not None else QCursor.pos()
            QToolTip.showText(where, self.hover_text, self.viewport())
        else:
            QToolTip.hideText()

    # ---- mouse and keyboard -----------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        hit = self.hit_at(event.position())
        modifiers = event.modifiers()
        wants_bias = modifiers & (
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier
        )
        if hit is None:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            if self._selection is not None:
                self._set_selection(None)
                self.selection_cleared.emit()
        elif hit.kind == "button":
            if hit.button.enabled and hit.button.action is not None:
                hit.button.action(event.globalPosition().toPoint())
        elif hit.kind == "neuron" and wants_bias and hit.layer >= 0:
            self._select(Hit("bias", hit.layer, hit.j))
        else:
            self._select(hit)
        event.accept()

    def _select(self, hit: Hit) -> None:
        self._set_selection(hit)
        if hit.kind == "edge":
            self.edge_selected.emit(hit.layer, hit.j, hit.k)
        elif hit.kind == "bias":
            self.bias_selected.emit(hit.layer, hit.j)
        else:
            self.neuron_selected.emit(hit.layer, hit.j)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._auto_fit = False
            bar_x, bar_y = self.horizontalScrollBar(), self.verticalScrollBar()
            bar_x.setValue(bar_x.value() - int(delta.x()))
            bar_y.setValue(bar_y.value() - int(delta.y()))
            return
        hit = self.hit_at(event.position())
        if hit != self._hovered or hit is not None:
            self._set_hover(hit, global_pos=event.globalPosition().toPoint())

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
        super().mouseReleaseEvent(event)
        event.accept()

    def leaveEvent(self, event) -> None:
        self._set_hover(None, show=False)
        super().leaveEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        hit = self.hit_at(event.position())
        if (
            hit is None
            or hit.kind == "button"
            or (hit.kind == "neuron" and hit.layer < 0)
        ):
            return
        self._open_editor(hit, event.position())

    def _open_editor(self, hit: Hit, pos) -> None:
        net = self.network
        if hit.kind == "edge":
            if net.masks[hit.layer][hit.j, hit.k] == 0:
                return
            value = float(net.weights[hit.layer][hit.j, hit.k])
            tip = f"weight w{hit.j},{hit.k} of layer {hit.layer + 1}; Enter to set"

            def commit(number):
                self.edit_requested.emit(
                    commands.set_weight_edit(hit.layer, hit.j, hit.k, number)
                )
        else:
            value = float(net.biases[hit.layer][hit.j])
            tip = f"bias b{hit.j} of layer {hit.layer + 1}; Enter to set"

            def commit(number):
                self.edit_requested.emit(
                    commands.set_bias_edit(hit.layer, hit.j, number)
                )

        self._editor.open(pos, value, tip, commit)

    @property
    def value_editor(self) -> ValueEditor:
        return self._editor

    def keyPressEvent(self, event) -> None:
        key = event.key()
        control = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self._delete_selection()
        elif key == Qt.Key.Key_Escape and self._selection is not None:
            self._set_selection(None)
            self.selection_cleared.emit()
        elif control and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif control and key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif control and key == Qt.Key.Key_0:
            self.fit_to_window()
        else:
            super().keyPressEvent(event)

    def _delete_selection(self) -> None:
        hit = self._selection
        if hit is None:
            return
        if hit.kind == "edge" and self.network.masks[hit.layer][hit.j, hit.k] != 0:
            self.edit_requested.emit(
                commands.remove_connection_edit(hit.layer, hit.j, hit.k)
            )
        elif hit.kind == "neuron" and 0 <= hit.layer < len(self._geometry) - 1:
            self.edit_requested.emit(commands.remove_neuron_edit(hit.layer, hit.j))

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_window()

    def _zoom(self, factor: float) -> None:
        current = self.transform().m11()
        low, high = ZOOM_RANGE
        factor = min(max(current * factor, low), high) / current
        self._auto_fit = False
        self.scale(factor, factor)

    # ---- menus ------------------------------------------------------------

    def contextMenuEvent(self, event) -> None:
        menu = self.context_menu_at(QPointF(event.pos()))
        menu.exec(event.globalPos())

    def context_menu_at(self, pos) -> QMenu:
        """The menu for what lies at viewport position `pos`."""
        hit = self.hit_at(pos)
        menu = QMenu(self)
        if hit is not None and hit.kind == "edge":
            self._select(hit)
            self._add_edge_actions(menu, hit)
        elif hit is not None and hit.kind in ("neuron", "bias") and hit.layer >= 0:
            self._select(hit)
            self._add_neuron_actions(menu, hit, pos)
        elif hit is not None and getattr(hit.button, "layer", -1) >= 0:
            self._add_layer_actions(menu, hit.button.layer)
        if not menu.isEmpty():
            menu.addSeparator()
        self._add_view_actions(menu)
        return menu

    def _add_layer_actions(self, menu, layer: int) -> None:
        activations = self._activation_menu(layer, menu)
        activations.setTitle("Activation")
        menu.addMenu(activations)
        if layer < len(self._geometry) - 1:
            self._add_edit_action(
                menu, "Remove layer", commands.remove_layer_edit(layer)
            )

    def _add_edge_actions(self, menu, hit) -> None:
        layer, j, k = hit.layer, hit.j, hit.k
        if self.network.masks[layer][j, k] == 0:
            edit = commands.restore_connection_edit(layer, j, k, 0.0)
            self._add_edit_action(menu, "Restore connection", edit)
            return
        self._add_edit_action(
            menu, "Remove connection", commands.remove_connection_edit(layer, j, k)
        )
        point = self.mapFromScene(self.scene_point_of_edge(layer, j, k) or QPointF())
        menu.addAction("Type a weight…").triggered.connect(
            lambda: self._open_editor(hit, QPointF(point))
        )

    def _add_neuron_actions(self, menu, hit, pos) -> None:
        menu.addAction("Type a bias…").triggered.connect(
            lambda: self._open_editor(Hit("bias", hit.layer, hit.j), pos)
        )
        hidden = hit.layer < len(self._geometry) - 1
        if hidden and self.network.sizes[hit.layer + 1] > 1:
            edit = commands.remove_neuron_edit(hit.layer, hit.j)
            self._add_edit_action(menu, "Remove neuron", edit)
        activations = self._activation_menu(hit.layer, menu)
        activations.setTitle("Activation")
        menu.addMenu(activations)

    def _add_edit_action(self, menu, text, edit) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda: self.edit_requested.emit(edit))
        return action

    def _add_view_actions(self, menu) -> None:
        group = QActionGroup(menu)
        for mode, text in (
            ("weight", "Edges by weight"),
            ("gradient", "Edges by |dC/dw|"),
        ):
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(self.edge_mode == mode)
            action.setActionGroup(group)
            action.triggered.connect(lambda _c=False, m=mode: self.set_edge_mode(m))
        menu.addAction("Fit to window").triggered.connect(self.fit_to_window)

    def _activation_menu(self, layer: int, parent=None) -> QMenu:
        """A menu of the activation functions allowed in weight layer `layer`."""
        menu = QMenu(parent or self)
        output = layer == len(self._geometry) - 1
        current = self.network.activations[layer]
        for name in ACTIVATIONS if output else HIDDEN_ACTIVATIONS:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == current)
            if name != current:
                edit = commands.set_activation_edit(layer, name)
                action.triggered.connect(
                    lambda _c=False, e=edit: self.edit_requested.emit(e)
                )
        return menu

    def _show_activation_menu(self, layer: int, global_pos) -> None:
        self.activation_menu(layer).popup(global_pos)

    def activation_menu(self, layer: int) -> QMenu:
        """The activation chooser opened from the layer's title."""
        return self._activation_menu(layer)

    # ---- layer and neuron buttons -----------------------------------------

    def _add_neuron(self, layer: int) -> None:
        self.edit_requested.emit(commands.add_neuron_edit(layer))

    def _remove_neuron(self, layer: int) -> None:
        hit = self._selection
        if hit is not None and hit.kind in ("neuron", "bias") and hit.layer == layer:
            j = hit.j
        else:
            j = self.network.sizes[layer + 1] - 1
        if self.network.sizes[layer + 1] > 1:
            self.edit_requested.emit(commands.remove_neuron_edit(layer, j))

    def _remove_layer(self, layer: int) -> None:
        self.edit_requested.emit(commands.remove_layer_edit(layer))

    def _insert_layer(self, index: int) -> None:
        """Insert a hidden layer between neuron layers index and index + 1."""
        sizes = self.network.sizes
        size = int(min(8, max(2, min(sizes[index], sizes[index + 1]))))
        hidden = self.network.activations[:-1]
        nearest = hidden[min(index, len(hidden) - 1)] if hidden else "tanh"
        self.edit_requested.emit(commands.insert_layer_edit(index, size, nearest))

    # ---- export -----------------------------------------------------------

    def _export_png(self, path: Path) -> None:
        source = self.scene().sceneRect()
        scale = 2.0
        size = QSize(int(source.width() * scale), int(source.height() * scale))
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.scene().render(painter, QRectF(image.rect()), source)
        painter.end()
        if not image.save(str(path)):
            raise OSError(f"could not write the picture {path}")

    def _export_svg(self, path: Path) -> None:
        from PySide6.QtSvg import QSvgGenerator

        source = self.scene().sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(source.size().toSize())
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        generator.setTitle("Backprop Lab network")
        painter = QPainter(generator)
        self.scene().render(
            painter, QRectF(0, 0, source.width(), source.height()), source
        )
        painter.end()
        if not path.exists() or path.stat().st_size == 0:
            raise OSError(f"could not write the picture {path}")

    def _gradients_fit(self, net) -> bool:
        grads = self._weight_gradients
        if grads is None:
            return True
        return len(grads) == net.n_layers and all(
            g.shape == w.shape for g, w in zip(grads, net.weights, strict=True)
        )


def _set_segments(item, geometry, chosen) -> None:
    """Give a path item the chosen edges; an item that stays empty is skipped."""
    if not chosen.any() and item.path().isEmpty():
        return
    item.setPath(ci.segments_path(geometry, chosen))
