"""The "Chain rule" page of the inspector: one weight, bias or neuron at a time.

It only displays explanations computed by `backprop_lab.engine.explain`;
everything runs on the GUI thread.
"""

import logging
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from backprop_lab.app.inspector_tables import fill_row, fit_height, make_table
from backprop_lab.app.inspector_text import (
    SLOPE_RULES,
    a_sym,
    act_symbol,
    b_sym,
    cost_form,
    cost_name,
    d_sym,
    fmt,
    slope_sym,
    w_sym,
    z_sym,
)
from backprop_lab.engine.explain import WeightExplanation

logger = logging.getLogger(__name__)

# paths drawn highlighted on the canvas for a selected neuron
HIGHLIGHTED_PATHS = 3

NOTE_STYLE = "color: palette(placeholder-text);"
PATH_COLUMNS = ("to", "w", "s'(z)", "∂C/∂a", "term", "%")

# rows shown in "go back a layer"
BACK_LINKS = 8


@dataclass(frozen=True)
class StepMove:
    """How the selected parameter moved between two contexts.

    before, after: its values; gradient: dC/dw of the earlier parameters on
    the batch of the later context, the gradient that step used; steps: how
    many steps lie between (None when unknown).
    """

    before: float
    after: float
    gradient: float
    learning_rate: float | None
    optimizer: str | None
    steps: int | None
    penalty: bool = False


class FactorRow(QWidget):
    """A symbol, its value for the chosen example, and what it means."""

    def __init__(self, key: str, parent=None):
        super().__init__(parent)
        self.symbol = QLabel()
        self.symbol.setTextFormat(Qt.RichText)
        self.value = QLabel()
        self.value.setObjectName(f"{key}_value")
        self.value.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setTextInteractionFlags(Qt.TextBrowserInteraction)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.symbol, 0, 0)
        layout.addWidget(self.value, 0, 1)
        layout.addWidget(self.note, 1, 0, 1, 2)
        layout.setColumnStretch(0, 1)

    def show_factor(self, symbol: str, value: float, note: str) -> None:
        self.symbol.setText(f"<b>{symbol}</b>")
        self.value.setText(fmt(value))
        self.note.setText(note)
        self.show()


def _rich_label(name: str, size_delta: int = 0) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextBrowserInteraction)
    label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
    if size_delta:
        font = label.font()
        font.setPointSizeF(font.pointSizeF() + size_delta)
        label.setFont(font)
    return label


class ChainRulePanel(QWidget):
    """The chain rule of the selected weight, bias or neuron, with numbers."""

    # a neuron link or path row was clicked: (layer, j), layer -1 = input
    neuron_clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.formula = _rich_label("formula", 2)
        self.numbers = _rich_label("numbers")
        self.rows = {
            key: FactorRow(key, self)
            for key in ("activation", "slope", "sensitivity", "delta")
        }
        self.product = _rich_label("product")
        self.average = _rich_label("average")
        self.moved = _rich_label("moved")
        self.paths = self._make_path_table()
        self.back = _rich_label("back")
        self.back.linkActivated.connect(self._on_link_activated)
        self.rows["sensitivity"].note.linkActivated.connect(self._on_link_activated)
        self._path_targets: list = []
        self._lay_out()
        self.show_message("")

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self.formula)
        layout.addWidget(self.numbers)
        for row in self.rows.values():
            layout.addWidget(row)
        layout.addWidget(self.product)
        layout.addWidget(self.average)
        layout.addWidget(self.moved)
        layout.addWidget(self.paths)
        layout.addWidget(self.back)
        layout.addStretch(1)

    def _make_path_table(self) -> QTableWidget:
        table = make_table("paths", PATH_COLUMNS)
        table.setToolTip("Double-click a path to follow it to the next layer")
        table.cellDoubleClicked.connect(self._on_path_double_clicked)
        return table

    def _hide_all(self) -> None:
        for widget in (*self.rows.values(), self.product, self.average):
            widget.hide()
        for widget in (self.moved, self.paths, self.back, self.numbers):
            widget.hide()

    def show_message(self, text: str) -> None:
        """Nothing to explain: a sentence instead of numbers."""
        self._hide_all()
        self.formula.setText(text)

    # -- a weight or a bias ---------------------------------------------------

    def show_parameter(self, ex, example: int, move: StepMove | None) -> None:
        """A WeightExplanation, or a BiasExplanation (no a(l-1) factor)."""
        self._hide_all()
        is_weight = isinstance(ex, WeightExplanation)
        softmax = ex.slope is None
        self.formula.setText(_parameter_formula(ex, is_weight, softmax))
        self.numbers.setText(_parameter_numbers(ex, example, is_weight, softmax))
        self.numbers.show()
        if is_weight:
            self.rows["activation"].show_factor(
                a_sym(ex.layer, ex.k), ex.activation[example], _activation_note(ex)
            )
        if softmax:
            self.rows["delta"].show_factor(
                d_sym(z_sym(ex.layer, ex.j)), ex.delta[example], _softmax_note(ex)
            )
        else:
            self._show_slope_and_sensitivity(ex, example)
        self._show_totals(ex, example, is_weight)
        if move is not None:
            self.moved.setText(_moved_text(ex, move, is_weight))
            self.moved.show()

    def _show_slope_and_sensitivity(self, ex, example: int) -> None:
        name = ex.activation_name
        self.rows["slope"].show_factor(
            slope_sym(name, ex.layer, ex.j),
            ex.slope[example],
            "how sensitive this neuron's activation is to its weighted input: "
            f"{SLOPE_RULES[name]}, here with z = {fmt(ex.z[example])}, "
            f"a = {fmt(ex.a[example])}",
        )
        self.rows["sensitivity"].show_factor(
            d_sym(a_sym(ex.layer + 1, ex.j)),
            ex.sensitivity[example],
            _sensitivity_note(ex),
        )

    def _show_totals(self, ex, example: int, is_weight: bool) -> None:
        target = w_sym(ex.layer, ex.j, ex.k) if is_weight else b_sym(ex.layer, ex.j)
        self.product.setText(
            f"Product for example {example}: <b>{fmt(ex.per_example[example])}</b>"
        )
        examples = "example" if ex.n_samples == 1 else "examples"
        self.average.setText(
            f"Average over the {ex.n_samples} {examples} of the batch: "
            f"{d_sym(target)} = <b>{fmt(ex.gradient)}</b>, the gradient the "
            "training step uses."
        )
        if is_weight and ex.removed:
            self.average.setText(
                "This connection is removed: its gradient is 0 and training "
                "leaves it at 0."
            )
        self.product.show()
        self.average.show()

    # -- a neuron -------------------------------------------------------------

    def show_neuron(self, ex, example: int, net, delta=None) -> list:
        """A NeuronExplanation; returns the edges of its largest paths."""
        self._hide_all()
        self.numbers.show()
        if ex.is_output:
            self._show_output_neuron(ex, example, net)
            highlighted = []
        else:
            highlighted = self._show_paths(ex, example, net)
        self._show_back_links(ex, example, net, delta)
        return highlighted

    def _show_output_neuron(self, ex, example: int, net) -> None:
        a = a_sym(ex.layer + 1, ex.j)
        y = f"y<sub>{ex.j}</sub>"
        form = cost_form(ex.cost, net.activations[-1], a, y)
        numbers = cost_form(
            ex.cost, net.activations[-1], fmt(ex.a[example]), fmt(ex.y[example])
        )
        self.formula.setText(f"{d_sym(a)} = {form}")
        self.numbers.setText(
            f"= {numbers} = <b>{fmt(ex.sensitivity[example])}</b> for example "
            f"{example}; batch mean <b>{fmt(ex.mean)}</b>.<br>"
            f"An output neuron reaches the cost directly: this is the derivative "
            f"of the {cost_name(ex.cost)} cost with respect to its activation."
        )

    def _show_paths(self, ex, example: int, net) -> list:
        nxt = ex.layer + 1
        softmax = ex.slopes is None
        s = act_symbol(net.activations[nxt])
        w_i = f"w<sub>i{ex.j}</sub>{_sup(nxt)}"
        if softmax:
            term = f"{w_i} {d_sym('z<sub>i</sub>' + _sup(nxt))}"
        else:
            term = (
                f"{w_i} {s}'(z<sub>i</sub>{_sup(nxt)}) "
                f"{d_sym('a<sub>i</sub>' + _sup(nxt))}"
            )
        self.formula.setText(
            f"{d_sym(a_sym(ex.layer + 1, ex.j))} = Σ<sub>i</sub> {term}"
        )
        why = (
            " The next layer is softmax: each ∂C/∂z<sub>i</sub> comes through the "
            "whole softmax at once, so there is no separate slope."
            if softmax
            else ""
        )
        self.numbers.setText(
            f"= <b>{fmt(ex.sensitivity[example])}</b> for example {example}, "
            f"the sum over the {len(ex.weights)} paths through the next layer "
            f"below; batch mean <b>{fmt(ex.mean)}</b>.{why}"
        )
        order = ex.ranked_paths(example)
        self._fill_paths(ex, example, order, s)
        self._path_targets = [(nxt, i) for i in order]
        return [(nxt, i, ex.j) for i in order[:HIGHLIGHTED_PATHS]]

    def _fill_paths(self, ex, example: int, order: list, symbol: str) -> None:
        terms = ex.terms[example]
        total = float(np.abs(terms).sum()) or 1.0
        softmax = ex.slopes is None
        # through a softmax layer a path is w * dC/dz: no slope column
        self.paths.setColumnHidden(2, softmax)
        after = ex.next_delta if softmax else ex.next_sensitivity
        factor = "∂C/∂z" if softmax else "∂C/∂a"
        self.paths.setHorizontalHeaderLabels(
            ("to", "w", f"{symbol}'(z)", factor, "term", "%")
        )
        self.paths.setRowCount(len(order) + 1)
        for row, i in enumerate(order):
            slope = "" if softmax else fmt(ex.slopes[example, i], 3)
            cells = (
                str(i),
                fmt(ex.weights[i], 3),
                slope,
                fmt(after[example, i], 3),
                fmt(terms[i], 4),
                f"{100 * abs(terms[i]) / total:.0f}",
            )
            fill_row(self.paths, row, cells, bold=row < HIGHLIGHTED_PATHS)
        total_cells = ("sum", "", "", "", fmt(ex.sensitivity[example]), "")
        fill_row(self.paths, len(order), total_cells, bold=True)
        fit_height(self.paths)
        self.paths.show()

    def _show_back_links(self, ex, example: int, net, delta) -> None:
        if ex.layer < 0:
            self.back.setText(
                "This is an input: the chain rule ends here. ∂C/∂x says how the "
                "cost would change if this input were a little larger."
            )
            self.back.show()
            return
        incoming = net.weights[ex.layer][ex.j]  # (n_in,)
        order = np.argsort(-np.abs(incoming), kind="stable")[:BACK_LINKS]
        side = "the input" if ex.layer == 0 else f"layer {ex.layer}"
        kind = "input" if ex.layer == 0 else "neuron"
        links = [
            f'<a href="neuron:{ex.layer - 1}:{k}">{kind} {k}</a> '
            f"(w = {fmt(incoming[k])}"
            + ("" if delta is None else f", path term {fmt(incoming[k] * delta)}")
            + ")"
            for k in order
        ]
        self.back.setText(
            f"<b>Go back a layer</b> to {side}: this neuron is one of the paths "
            "of each neuron that feeds it (largest weights first; the path term "
            "is w · ∂C/∂z of this neuron):<br>" + "<br>".join(links)
        )
        self.back.show()

    def _on_link_activated(self, link: str) -> None:
        kind, layer, j = link.split(":")
        if kind == "neuron":
            self.neuron_clicked.emit(int(layer), int(j))

    def _on_path_double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._path_targets):
            self.neuron_clicked.emit(*self._path_targets[row])


def _sup(layer: int) -> str:
    return f"<sup>({layer + 1})</sup>"


def _parameter_formula(ex, is_weight: bool, softmax: bool) -> str:
    l_, j = ex.layer, ex.j
    if is_weight:
        head = f"{d_sym(w_sym(l_, j, ex.k))} = {a_sym(l_, ex.k)} · "
    else:
        head = f"{d_sym(b_sym(l_, j))} = "
    if softmax:
        return head + d_sym(z_sym(l_, j))
    tail = f"{slope_sym(ex.activation_name, l_, j)} · {d_sym(a_sym(l_ + 1, j))}"
    if ex.is_output and ex.cost == "quadratic":
        indent = "&nbsp;" * 6
        miss = f"2({a_sym(l_ + 1, j)} − y<sub>{j}</sub>)"
        own = f"{slope_sym(ex.activation_name, l_, j)} · {miss}"
        first = f"{a_sym(l_, ex.k)} · " if is_weight else ""
        return head + tail + f"<br>{indent}= {first}{own}"
    return head + tail


def _parameter_numbers(ex, example: int, is_weight: bool, softmax: bool) -> str:
    factors = [fmt(ex.activation[example])] if is_weight else []
    if softmax:
        factors.append(fmt(ex.delta[example]))
    else:
        factors.append(fmt(ex.slope[example]))
        factors.append(_sensitivity_number(ex, example))
    return (
        f"= {' · '.join(factors)} = <b>{fmt(ex.per_example[example])}</b> "
        f"for example {example}"
    )


def _sensitivity_number(ex, example: int) -> str:
    """∂C/∂a written out as 2(a - y) for a quadratic output, else its value."""
    if ex.is_output and ex.cost == "quadratic":
        y = ex.a[example] - ex.sensitivity[example] / 2.0
        return f"2({fmt(ex.a[example])} − {fmt(y)})"
    return fmt(ex.sensitivity[example])


def _activation_note(ex) -> str:
    source = "input" if ex.layer == 0 else "neuron"
    return (
        f"how strongly {source} {ex.k} of the layer before fires: the weight's "
        "effect on the weighted input z is scaled by it"
    )


def _sensitivity_note(ex) -> str:
    note = "how sensitive the cost is to this neuron's activation"
    if ex.is_output and ex.cost == "quadratic":
        return note + ": for an output neuron 2(a − y), twice the miss"
    if ex.is_output:
        return (
            note + ": for cross-entropy −y/a + (1 − y)/(1 − a); times σ'(z) it "
            "becomes simply a − y"
        )
    link = f'<a href="neuron:{ex.layer}:{ex.j}">see them for this neuron</a>'
    return note + f": the sum over its paths to the cost ({link})"


def _softmax_note(ex) -> str:
    simple = ""
    if ex.cost != "quadratic":
        simple = " For cross-entropy it is simply a − y."
    return (
        "how sensitive the cost is to this neuron's weighted input. A softmax "
        "neuron's activation depends on the weighted inputs of its whole layer, "
        "so there is no single slope σ'(z): the engine takes ∂C/∂z through the "
        "whole softmax at once." + simple
    )


def _moved_text(ex, move: StepMove, is_weight: bool) -> str:
    name = w_sym(ex.layer, ex.j, ex.k) if is_weight else b_sym(ex.layer, ex.j)
    change = move.after - move.before
    text = (
        f"<b>Last step:</b> {name} went from {fmt(move.before)} to "
        f"{fmt(move.after)}, a change of <b>{fmt(change)}</b>."
    )
    if move.steps is None or move.learning_rate is None:
        # without both step counts the change cannot be tied to one update
        return text
    if move.steps != 1:
        return text + f" That is the sum of {move.steps} steps."
    sgd = -move.learning_rate * move.gradient
    eta, gradient = fmt(move.learning_rate), fmt(move.gradient)
    rule = f" −η · {d_sym(name)} = −{eta} × {gradient} = <b>{fmt(sgd)}</b>"
    if move.optimizer in (None, "sgd"):
        extra = " (plus the penalty term)" if move.penalty else ""
        return text + f" Plain SGD moves it by{rule}{extra}."
    return text + (
        f" Plain SGD would move it by{rule}; {move.optimizer} shapes the step "
        "from its running averages of the gradient."
    )
