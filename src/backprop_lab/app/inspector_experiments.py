"""The inspector's experiment pages: gradient check, nudge, ranking, wishes.

Each page reads the inspector's `Context` (a private copy of the network and
the batch the last step used) and its `Selection`; all on the GUI thread.
"""

import logging
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from backprop_lab.app import commands
from backprop_lab.app.inspector_tables import fill_row, fit_height, make_table
from backprop_lab.app.inspector_text import (
    b_sym,
    d_sym,
    fmt,
    plain_w,
    w_sym,
)
from backprop_lab.engine import explain

logger = logging.getLogger(__name__)

# relative errors below this mean backprop and finite differences agree
AGREEMENT = 1e-5

# the slider spans this many nudge steps either way
SLIDER_STEPS = 100
SLIDER_STEP = 0.005

RANKED = 10


@dataclass(frozen=True)
class Context:
    """What the numbers are computed from: a private network and one batch."""

    network: object
    X: np.ndarray
    Y: np.ndarray
    cost: str
    settings: object = None
    step: int | None = None
    n_total: int = 0
    # the one backward pass of `network` on (X, Y) that every page reads
    grads: object = None


@dataclass(frozen=True)
class Selection:
    """kind: "edge", "bias" or "neuron"; layer is a weight layer (-1 = input)."""

    kind: str
    layer: int
    j: int
    k: int | None = None

    @property
    def is_parameter(self) -> bool:
        return self.kind in ("edge", "bias")

    def symbol(self) -> str:
        if self.kind == "edge":
            return w_sym(self.layer, self.j, self.k)
        return b_sym(self.layer, self.j)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.RichText)
    return label


def _result_label(name: str) -> QLabel:
    label = _note("")
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def _weight_k(selection: Selection):
    return selection.k if selection.kind == "edge" else None


class CheckPanel(QWidget):
    """Backprop against central finite differences, on request."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._context: Context | None = None
        self._selection: Selection | None = None
        self.check_one = QPushButton("Check the selected parameter")
        self.check_one.setObjectName("check_parameter")
        self.check_one.clicked.connect(self.run_parameter_check)
        self.one_result = _result_label("parameter_result")
        self.check_all = QPushButton("Check the whole network")
        self.check_all.setObjectName("check_network")
        self.check_all.clicked.connect(self.run_network_check)
        self.table = make_table(
            "check_table", ("layer", "weights", "biases", "checked")
        )
        self.verdict = _result_label("check_verdict")
        self._lay_out()
        self._update_buttons()

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                "Backprop's gradient against finite differences: nudge a "
                "parameter by ±ε (ε = 10⁻⁶), measure the cost, and divide "
                "(C(w + ε) − C(w − ε)) / 2ε. The relative error is "
                "|backprop − numeric| / max(|backprop|, |numeric|, 10⁻³): "
                "around 10⁻⁸ when backprop is right, near 1 when it is wrong. "
                "Big layers are checked on a random sample."
            )
        )
        layout.addWidget(self.check_one)
        layout.addWidget(self.one_result)
        layout.addWidget(self.check_all)
        layout.addWidget(self.table)
        layout.addWidget(self.verdict)
        layout.addStretch(1)

    def set_context(self, context: Context | None) -> None:
        self._context = context
        self._update_buttons()

    def set_selection(self, selection: Selection | None) -> None:
        self._selection = selection
        self.one_result.setText("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self._context is not None
        selected = self._selection is not None and self._selection.is_parameter
        self.check_one.setEnabled(ready and selected)
        self.check_all.setEnabled(ready)

    def run_parameter_check(self) -> None:
        if self._context is None or not self._selection.is_parameter:
            return
        ctx, sel = self._context, self._selection
        check = explain.check_parameter(
            ctx.network, ctx.X, ctx.Y, sel.layer, sel.j, _weight_k(sel), ctx.cost
        )
        self.one_result.setText(
            f"{sel.symbol()}: backprop <b>{fmt(check.backprop)}</b>, finite "
            f"differences <b>{fmt(check.numeric)}</b>, relative error "
            f"<b>{check.relative_error:.2e}</b> {_verdict(check.relative_error)}"
        )

    def run_network_check(self) -> None:
        if self._context is None:
            return
        ctx = self._context
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            rows = explain.check_network(ctx.network, ctx.X, ctx.Y, ctx.cost)
        finally:
            QApplication.restoreOverrideCursor()
        self.table.setRowCount(len(rows))
        fit_height(self.table)
        for index, row in enumerate(rows):
            n_biases = ctx.network.sizes[row.layer + 1]
            cells = (
                f"layer {row.layer + 1}",
                f"{row.weight_error:.2e}",
                f"{row.bias_error:.2e}",
                f"{row.n_checked + row.n_biases_checked} of {row.n_weights + n_biases}",
            )
            fill_row(self.table, index, cells)
        worst = max(max(r.weight_error, r.bias_error) for r in rows)
        self.verdict.setText(f"Largest relative error {worst:.2e} {_verdict(worst)}")

    def largest_error(self) -> float | None:
        """The largest error in the network table, or None before a check."""
        values = [
            float(self.table.item(row, column).text())
            for row in range(self.table.rowCount())
            for column in (1, 2)
        ]
        return max(values) if values else None


def _verdict(error: float) -> str:
    if error < AGREEMENT:
        return "✓ backprop agrees with finite differences."
    return "✗ larger than expected: the gradient and the cost disagree."


class NudgePanel(QWidget):
    """Change the selected parameter by dw: predicted against actual change."""

    # an Edit setting the nudged parameter was asked for
    edit_requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._context: Context | None = None
        self._selection: Selection | None = None
        self._last: explain.Nudge | None = None
        self.target = _result_label("nudge_target")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(-SLIDER_STEPS, SLIDER_STEPS)
        self.slider.setObjectName("nudge_slider")
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName("nudge_dw")
        self.spin.setRange(-10.0, 10.0)
        self.spin.setDecimals(4)
        self.spin.setSingleStep(SLIDER_STEP)
        self.predicted = _result_label("nudge_predicted")
        self.actual = _result_label("nudge_actual")
        self.apply = QPushButton("Apply nudge")
        self.apply.setObjectName("apply_nudge")
        self.apply.clicked.connect(self._on_apply_clicked)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.spin.valueChanged.connect(self._on_dw_changed)
        self._lay_out()
        self.spin.setValue(0.01)

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                "Nudge the selected weight or bias by Δw. To first order the "
                "cost changes by ∂C/∂w · Δw; the actual change is measured on a "
                "copy of the network. The two agree for small Δw, and the gap "
                "grows like Δw²."
            )
        )
        layout.addWidget(self.target)
        row = QHBoxLayout()
        row.addWidget(QLabel("Δw"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        layout.addLayout(row)
        layout.addWidget(self.predicted)
        layout.addWidget(self.actual)
        layout.addWidget(self.apply)
        layout.addStretch(1)

    @property
    def dw(self) -> float:
        return self.spin.value()

    def set_dw(self, dw: float) -> None:
        self.spin.setValue(dw)

    def set_state(self, context: Context | None, selection: Selection | None):
        """Remember what to nudge; `refresh` computes it when the page shows."""
        self._context = context
        self._selection = selection

    def _on_slider_changed(self, value: int) -> None:
        if round(self.spin.value() / SLIDER_STEP) != value:
            self.spin.setValue(value * SLIDER_STEP)

    def _on_dw_changed(self, dw: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(dw / SLIDER_STEP))
        self.slider.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Recompute predicted and actual change for the current Δw."""
        self._last = None
        sel, ctx = self._selection, self._context
        if ctx is None or sel is None or not sel.is_parameter:
            self._show_idle()
            return
        try:
            self._last = explain.nudge(
                ctx.network, ctx.X, ctx.Y, sel.layer, sel.j, _weight_k(sel),
                self.dw, ctx.cost, ctx.grads,
            )  # fmt: skip
        except ValueError as error:
            self._show_idle(str(error))
            return
        self._show_nudge(sel, self._last)

    def _show_idle(self, text: str = "") -> None:
        self.target.setText(text or "Select an edge or a bias to nudge it.")
        self.predicted.setText("")
        self.actual.setText("")
        self.apply.setEnabled(False)

    def _show_nudge(self, sel: Selection, n: explain.Nudge) -> None:
        net = self._context.network
        value = explain.parameter_value(net, sel.layer, sel.j, sel.k)
        self.target.setText(
            f"{sel.symbol()} = {fmt(value)}, "
            f"{d_sym(sel.symbol())} = {fmt(n.gradient)}; "
            f"cost of the batch C = {fmt(n.cost_before)}"
        )
        self.predicted.setText(
            f"Predicted change ∂C/∂w · Δw = {fmt(n.gradient)} × {fmt(n.dw)} "
            f"= <b>{fmt(n.predicted)}</b>"
        )
        self.actual.setText(
            f"Actual change C(w + Δw) − C(w) = <b>{fmt(n.actual)}</b> "
            f"(difference {fmt(n.actual - n.predicted)})"
        )
        self.apply.setEnabled(n.dw != 0)

    def result(self) -> explain.Nudge | None:
        return self._last

    def _on_apply_clicked(self) -> None:
        sel, ctx = self._selection, self._context
        if ctx is None or sel is None or not sel.is_parameter:
            return
        value = explain.parameter_value(ctx.network, sel.layer, sel.j, sel.k) + self.dw
        self.edit_requested.emit(parameter_edit(sel, value))


def parameter_edit(selection: Selection, value: float):
    """The undoable Edit that sets the selected weight or bias to value."""
    if selection.kind == "edge":
        sel = selection
        return commands.set_weight_edit(sel.layer, sel.j, sel.k, value)
    return commands.set_bias_edit(selection.layer, selection.j, value)


class RankingPanel(QWidget):
    """The weights whose nudges matter most: top |dC/dw| of the batch."""

    # a row was clicked: select this edge (layer, j, k)
    edge_requested = Signal(int, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []
        self.table = make_table("ranking", ("weight", "∂C/∂w", "w"))
        self.table.cellClicked.connect(self._on_cell_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                f"The {RANKED} weights with the largest |∂C/∂w| for this batch: "
                "the nudges that change the cost most, and the weights the next "
                "step moves most. Click a row to select the edge."
            )
        )
        layout.addWidget(self.table)
        layout.addStretch(1)

    def set_context(self, context: Context | None) -> None:
        if context is None:
            self._rows = []
        else:
            self._rows = explain.rank_weights(
                context.network,
                context.X,
                context.Y,
                context.cost,
                top=RANKED,
                grads=context.grads,
            )
        self.table.setRowCount(len(self._rows))
        fit_height(self.table)
        for index, row in enumerate(self._rows):
            net = context.network
            cells = (
                plain_w(row.layer, row.j, row.k),
                fmt(row.value),
                fmt(net.weights[row.layer][row.j, row.k]),
            )
            fill_row(self.table, index, cells)

    def ranked(self) -> list:
        return list(self._rows)

    def _on_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._rows):
            ranked = self._rows[row]
            self.edge_requested.emit(ranked.layer, ranked.j, ranked.k)


class WishesPanel(QWidget):
    """Each output neuron's desired nudge -dC/da: one example and the batch."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = make_table(
            "wishes", ("output", "a", "y", "wish", "batch mean", "want up")
        )
        columns = ("output", "−∂C/∂z", "mean", "bias step")
        self.steps = make_table("wish_steps", columns)
        self.summary = _result_label("wishes_summary")
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                "What each output neuron wants for the chosen example: the "
                "nudge −∂C/∂a of its activation (positive: up). Every example "
                "has its own wishes; the step follows their average over the "
                "batch, so wishes that disagree cancel."
            )
        )
        layout.addWidget(self.table)
        layout.addWidget(
            _note(
                "Through σ' each wish becomes a pull −∂C/∂z on the weighted "
                "input. Averaged over the batch it is −∂C/∂b, and one step of "
                "plain SGD moves each output's bias by −η ∂C/∂b:"
            )
        )
        layout.addWidget(self.steps)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def set_context(self, context: Context | None, example: int) -> None:
        if context is None:
            for table in (self.table, self.steps):
                table.setRowCount(0)
            self.summary.setText("")
            return
        w = explain.wishes(
            context.network, context.X, context.Y, context.cost, context.grads
        )
        eta = getattr(context.settings, "learning_rate", None)
        self._fill_wishes(w, example)
        self._fill_steps(w, example, eta)
        self.summary.setText(_wishes_summary(w, example))

    def _fill_wishes(self, w: explain.Wishes, example: int) -> None:
        self.table.setRowCount(w.mean.size)
        fit_height(self.table)
        up = w.wanting_up()
        for j in range(w.mean.size):
            cells = (
                f"neuron {j}",
                fmt(w.a[example, j]),
                fmt(w.y[example, j]),
                fmt(w.per_example[example, j]),
                fmt(w.mean[j]),
                f"{up[j]} of {len(w.per_example)}",
            )
            fill_row(self.table, j, cells)

    def _fill_steps(self, w: explain.Wishes, example: int, eta) -> None:
        self.steps.setRowCount(w.mean.size)
        fit_height(self.steps)
        gradient = w.bias_gradient
        for j in range(w.mean.size):
            step = "set η" if eta is None else fmt(-eta * gradient[j])
            cells = (
                f"neuron {j}",
                fmt(-w.delta[example, j]),
                fmt(-gradient[j]),
                step,
            )
            fill_row(self.steps, j, cells)


def _wishes_summary(w: explain.Wishes, example: int) -> str:
    agree = np.sign(w.per_example[example]) == np.sign(w.mean)
    return (
        f"Example {example} agrees with the batch on {int(agree.sum())} of "
        f"{w.mean.size} outputs. 'want up' counts the examples that pull each "
        "output up; the batch mean is the wish the step acts on."
    )
