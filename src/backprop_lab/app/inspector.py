"""The inspector: the chain rule of the selected weight, bias or neuron, live.

The main window calls `set_context` with every snapshot (the network and the
minibatch the step used) and after every edit; the numbers change only then,
so they hold still while training is paused. Selections arrive from the
canvas through `select_edge`, `select_bias` and `select_neuron`. Everything
runs on the GUI thread; the network is copied so no other view's arrays are
touched.
"""

import logging

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backprop_lab.app.inspector_chain import ChainRulePanel, StepMove
from backprop_lab.app.inspector_experiments import (
    CheckPanel,
    Context,
    NudgePanel,
    RankingPanel,
    Selection,
    WishesPanel,
)
from backprop_lab.app.inspector_text import (
    a_sym,
    b_sym,
    cost_name,
    fmt,
    layer_name,
    w_sym,
)
from backprop_lab.engine import explain

logger = logging.getLogger(__name__)

NOTHING_SELECTED = (
    "Click an edge, a bias or a neuron on the canvas to see the chain rule "
    "for it, with the numbers of the last training step."
)
NO_CONTEXT = "Load data and take a training step to see numbers here."

# more examples than this are explained on the first MAX_EXAMPLES, so the
# numbers keep up with training
MAX_EXAMPLES = 500

HELP_HTML = """
<h2>How backprop works here</h2>
<p>For one example the network computes, layer by layer, the weighted input
z<sup>(l)</sup> = W<sup>(l)</sup> a<sup>(l−1)</sup> + b<sup>(l)</sup> and the
activation a<sup>(l)</sup> = σ(z<sup>(l)</sup>). The cost compares the output
with the target: the quadratic cost is C<sub>0</sub> = Σ<sub>j</sub>
(a<sub>j</sub><sup>(L)</sup> − y<sub>j</sub>)², and the cost of a batch is the
mean over its examples. Backpropagation runs the chain rule from the cost back
to every weight:</p>
<p align="center">∂C/∂w<sub>jk</sub><sup>(l)</sup> = a<sub>k</sub><sup>(l−1)</sup>
· σ'(z<sub>j</sub><sup>(l)</sup>) · ∂C/∂a<sub>j</sub><sup>(l)</sup></p>
<p>and a training step moves every weight against the batch average,
w ← w − η ∂C/∂w.</p>

<h3>The canvas</h3>
<p>Circles are neurons, input on the left and output on the right; lines are
weights w<sub>jk</sub>, from neuron k of one layer to neuron j of the next. In
<b>weight</b> mode an edge is orange for a positive weight and blue for a
negative one, and wider and darker the larger |w| is within its layer. The
small tags above the neurons are their biases. In <b>gradient</b> mode the
edges show |∂C/∂w| of the last training step on a log scale spanning four
powers of ten, from pale (small) through purple to dark red (the largest): the
dark edges are the weights the step moved most. Dashed grey lines are removed
connections; they stay at zero. Green bands mark the paths the inspector
highlights. Layers of more than 32 neurons are drawn collapsed, showing their
first and last few neurons. Click an edge, a bias tag or a neuron to inspect
it; right-click for edits.</p>

<h3>The views</h3>
<ul>
<li><b>Cost</b>: the training cost of every step's minibatch and the test cost,
over the steps (switch to a log scale to see the slow end); for classification
also the accuracy.</li>
<li><b>Weights</b>: one heatmap per layer, rows are the neurons j of the layer,
columns the neurons k before it, so the cell (j, k) is w<sub>jk</sub>; the
colours are symmetric around zero. Switch to the gradient to see ∂C/∂w.</li>
<li><b>Gradient norms</b>: the size of each layer's gradient over time. Layers
far from the output with tiny norms learn slowly: the vanishing gradient.</li>
<li><b>Decision map</b> (two inputs): the output over the input plane with the
data on top; it also shows what a single hidden neuron responds to.</li>
<li><b>Digit weights</b> (digits data): each first-layer neuron's 64 weights
drawn as an 8×8 image, the pattern it looks for; all on one colour scale
symmetric around zero.</li>
</ul>

<h3>The inspector</h3>
<p>The numbers are those of the last step: its network and its minibatch. They
follow training live and hold still while it is paused. Choose one example of
the batch with the <b>Example</b> box.</p>
<ul>
<li><b>An edge</b>: the formula above with the actual indices, the three
factors for the chosen example with what each means (how strongly the neuron
before fires; how sensitive this neuron's activation is to its weighted input;
how sensitive the cost is to this neuron), their product, and the average over
the batch, which is the gradient the step uses. After a step it shows how the
weight moved, and −η ∂C/∂w for plain SGD. A softmax output has no slope of its
own, so ∂C/∂z is shown directly.</li>
<li><b>A bias</b>: the same without a<sup>(l−1)</sup>, since ∂z/∂b = 1.</li>
<li><b>A neuron</b>: ∂C/∂a as the sum over its paths to the next layer, one row
per path, w · σ'(z) · ∂C/∂a, largest first; the largest are highlighted on the
canvas. Double-click a row to follow the path forward, or use the links to go
back a layer toward the inputs. An output neuron shows the cost's own
derivative, 2(a − y) for the quadratic cost.</li>
<li><b>Check</b>: backprop against finite differences, for the selected
parameter or the whole network; relative errors around 10⁻⁸ mean they
agree.</li>
<li><b>Nudge</b>: change the selected parameter by Δw and compare the predicted
change of the cost ∂C/∂w · Δw with the actual one; apply the nudge to the
network if you like (Edit > Undo takes it back).</li>
<li><b>Ranking</b>: the ten weights with the largest |∂C/∂w|, the nudges that
matter most.</li>
<li><b>Wishes</b>: what each output neuron wants for one example, −∂C/∂a, next
to the batch average the step acts on.</li>
</ul>
"""


class InspectorWidget(QWidget):
    """Chain rule, gradient check, nudges, ranking and wishes for one selection."""

    # an Edit the user asked for (an applied nudge)
    edit_requested = Signal(object)
    # edges (layer, j, k) of the largest paths of the selected neuron
    highlight_requested = Signal(object)
    # the user followed a path or went a layer back: select this neuron
    neuron_requested = Signal(int, int)
    # a row of the ranking was clicked: select this edge
    edge_requested = Signal(int, int, int)
    # every layer's activations a for the chosen example (list of (n,) arrays),
    # or None without a context: the canvas fills its neurons with them
    example_activations_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._context: Context | None = None
        self._previous: Context | None = None
        self._selection: Selection | None = None
        self._problem: str | None = None
        self._highlighted: list = []
        self._example = 0
        self._build()
        self._refresh()

    # -- construction ---------------------------------------------------------

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)
        self.example_box = QSpinBox()
        self.example_box.setObjectName("example")
        self.example_box.setMinimumWidth(
            self.example_box.fontMetrics().horizontalAdvance("0000") + 24
        )
        self.example_box.valueChanged.connect(self._on_example_changed)
        self.batch_label = QLabel()
        self.batch_label.setObjectName("batch")
        self.batch_label.setWordWrap(True)
        self.chain = ChainRulePanel()
        self.chain.neuron_clicked.connect(self.neuron_requested)
        self.check = CheckPanel()
        self.nudge = NudgePanel()
        self.nudge.edit_requested.connect(self.edit_requested)
        self.ranking = RankingPanel()
        self.ranking.edge_requested.connect(self.edge_requested)
        self.wishes = WishesPanel()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("inspector_tabs")
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setDocumentMode(True)
        # five tabs fit a narrow dock
        self.tabs.setStyleSheet(
            "QTabBar::tab { padding: 4px 6px; border: 1px solid palette(mid);"
            " border-bottom: none; margin-right: 1px; }"
            "QTabBar::tab:selected { background: palette(base); }"
        )
        pages = (
            (self.chain, "Chain rule"),
            (self.check, "Check"),
            (self.nudge, "Nudge"),
            (self.ranking, "Ranking"),
            (self.wishes, "Wishes"),
        )
        for page, name in pages:
            self.tabs.addTab(_scrolling(page), name)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._lay_out()

    def _lay_out(self) -> None:
        example_row = QHBoxLayout()
        example_row.addWidget(QLabel("Example"))
        example_row.addWidget(self.example_box)
        example_row.addWidget(self.batch_label, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(example_row)
        layout.addWidget(self.tabs, 1)

    # -- what the main window calls -------------------------------------------

    def set_context(self, network, X, Y, cost="quadratic", settings=None, step=None):
        """New numbers: the network and the batch the last step used.

        settings: TrainingSettings (learning rate, optimizer) for "how the weight
        moved"; step: the step counter, to tell one step from several.
        """
        self._previous = self._context
        self._context = None
        self._problem = None
        if network is not None and X is not None and np.size(X):
            try:
                self._context = _make_context(network, X, Y, cost, settings, step)
            except ValueError as error:
                logger.warning("inspector cannot use this context: %s", error)
                self._problem = str(error)
        if not self._selection_fits():
            self._selection = None
        self._open_chain_at_last_weight()
        self._refresh()

    def select_edge(self, layer: int, j: int, k: int) -> None:
        self._select(Selection("edge", layer, j, k))

    def select_bias(self, layer: int, j: int) -> None:
        self._select(Selection("bias", layer, j))

    def select_neuron(self, layer: int, j: int) -> None:
        self._select(Selection("neuron", layer, j))

    def clear_selection(self) -> None:
        self._select(None)

    def set_example(self, i: int) -> None:
        """Show example i of the batch (clamped to the batch)."""
        self.example_box.setValue(i)
        self._on_example_changed(self.example_box.value())

    @property
    def selection(self) -> Selection | None:
        return self._selection

    @property
    def example(self) -> int:
        return self._example

    # -- internals ------------------------------------------------------------

    def _open_chain_at_last_weight(self) -> None:
        """A newly shown chain of single neurons starts at its last weight."""
        ctx, before = self._context, self._previous
        if ctx is None or self._selection is not None:
            return
        sizes = ctx.network.sizes
        if any(size != 1 for size in sizes):
            return
        if before is not None and before.network.sizes == sizes:
            return
        self._selection = Selection("edge", len(sizes) - 2, 0, 0)
        self.edge_requested.emit(len(sizes) - 2, 0, 0)

    def _select(self, selection: Selection | None) -> None:
        self._selection = selection
        if not self._selection_fits():
            self._selection = None
        self.check.set_selection(self._selection)
        self.nudge.set_state(self._context, self._selection)
        self._refresh_chain()
        self._refresh_tab()

    def _highlight(self, edges: list) -> None:
        """Ask the canvas to highlight these edges, once per change."""
        if edges != self._highlighted:
            self._highlighted = list(edges)
            self.highlight_requested.emit(list(edges))

    def _selection_fits(self) -> bool:
        sel, ctx = self._selection, self._context
        if sel is None or ctx is None:
            return True
        sizes = ctx.network.sizes
        lowest = -1 if sel.kind == "neuron" else 0
        if not lowest <= sel.layer < len(sizes) - 1:
            return False
        if not 0 <= sel.j < sizes[sel.layer + 1]:
            return False
        return sel.k is None or 0 <= sel.k < sizes[sel.layer]

    def _on_example_changed(self, i: int) -> None:
        if i == self._example:
            return
        self._example = i
        self._refresh_chain()
        self._emit_example_activations()
        if self.tabs.currentWidget().widget() is self.wishes:
            self.wishes.set_context(self._context, self._example)

    def _on_tab_changed(self, _index: int) -> None:
        self._refresh_tab()

    def _refresh(self) -> None:
        self._update_header()
        self.check.set_context(self._context)
        self.check.set_selection(self._selection)
        self.nudge.set_state(self._context, self._selection)
        self._refresh_chain()
        self._refresh_tab()
        self._emit_example_activations()

    def _emit_example_activations(self) -> None:
        ctx = self._context
        if ctx is None or self._example >= len(ctx.X):
            self.example_activations_changed.emit(None)
            return
        # the context's backward pass kept every layer's a for its batch
        rows = [a[self._example].copy() for a in ctx.network.a]
        self.example_activations_changed.emit(rows)

    def _refresh_tab(self) -> None:
        page = self.tabs.currentWidget().widget()
        if page is self.nudge:
            self.nudge.refresh()
        elif page is self.ranking:
            self.ranking.set_context(self._context)
        elif page is self.wishes:
            self.wishes.set_context(self._context, self._example)

    def _update_header(self) -> None:
        ctx = self._context
        n = 0 if ctx is None else len(ctx.X)
        self.example_box.blockSignals(True)
        self.example_box.setRange(0, max(n - 1, 0))
        self.example_box.blockSignals(False)
        self._example = self.example_box.value()
        if ctx is None:
            self.batch_label.setText("")
            return
        cost = ctx.grads.cost
        step = "" if ctx.step is None else f"step {ctx.step}, "
        batch = "the batch"
        if ctx.n_total > n:
            batch = f"the first {n} of {ctx.n_total} examples"
        self.batch_label.setText(
            f"of {n} in {batch} ({step}{cost_name(ctx.cost)} cost {fmt(cost)})"
        )

    def _refresh_chain(self) -> None:
        sel, ctx = self._selection, self._context
        self.title.setText(self._title_text())
        if ctx is None or sel is None or sel.kind != "neuron":
            self._highlight([])
        if ctx is None:
            self.chain.show_message(self._problem or NO_CONTEXT)
            return
        if sel is None:
            self.chain.show_message(NOTHING_SELECTED)
            return
        try:
            self._explain(sel, ctx)
        except ValueError as error:
            logger.warning("cannot explain %s: %s", sel, error)
            self.chain.show_message(str(error))

    def _explain(self, sel: Selection, ctx: Context) -> None:
        net, X, Y, cost = ctx.network, ctx.X, ctx.Y, ctx.cost
        if sel.kind == "edge":
            ex = explain.explain_weight(
                net, X, Y, sel.layer, sel.j, sel.k, cost, ctx.grads
            )
            self.chain.show_parameter(ex, self._example, self._step_move(sel))
        elif sel.kind == "bias":
            ex = explain.explain_bias(net, X, Y, sel.layer, sel.j, cost, ctx.grads)
            self.chain.show_parameter(ex, self._example, self._step_move(sel))
        else:
            self._explain_neuron(sel, ctx)

    def _explain_neuron(self, sel: Selection, ctx: Context) -> None:
        net, X, Y, cost = ctx.network, ctx.X, ctx.Y, ctx.cost
        delta = None
        if sel.layer >= 0:
            delta = float(ctx.grads.deltas[sel.layer][self._example, sel.j])
        ex = explain.explain_neuron(net, X, Y, sel.layer, sel.j, cost, ctx.grads)
        self._highlight(self.chain.show_neuron(ex, self._example, net, delta))

    def _step_move(self, sel: Selection) -> StepMove | None:
        """How the selected parameter moved from the previous context."""
        before, now = self._previous, self._context
        if before is None or before.network.sizes != now.network.sizes:
            return None
        steps = None
        if before.step is not None and now.step is not None:
            steps = now.step - before.step
            if steps <= 0:
                return None
        k = sel.k if sel.kind == "edge" else None
        old = before.network.copy()
        grads = old.gradients(now.X, now.Y, now.cost, input_sensitivity=False)
        gradient = grads.weights[sel.layer][sel.j, k] if k is not None else (
            grads.biases[sel.layer][sel.j]
        )  # fmt: skip
        settings = now.settings
        return StepMove(
            before=explain.parameter_value(before.network, sel.layer, sel.j, k),
            after=explain.parameter_value(now.network, sel.layer, sel.j, k),
            gradient=float(gradient),
            learning_rate=getattr(settings, "learning_rate", None),
            optimizer=getattr(settings, "optimizer", None),
            steps=steps,
            penalty=bool(getattr(settings, "l1", 0) or getattr(settings, "l2", 0)),
        )

    def _title_text(self) -> str:
        sel, ctx = self._selection, self._context
        if sel is None:
            return "<b>Nothing selected</b>"
        n_layers = len(ctx.network.sizes) - 1 if ctx is not None else sel.layer + 1
        where = layer_name(sel.layer, n_layers)
        if sel.kind == "edge":
            return (
                f"<b>Weight {w_sym(sel.layer, sel.j, sel.k)}</b>: from neuron "
                f"{sel.k} of the layer before to neuron {sel.j} of {where}"
            )
        if sel.kind == "bias":
            return f"<b>Bias {b_sym(sel.layer, sel.j)}</b> of neuron {sel.j} of {where}"
        return f"<b>Neuron {a_sym(sel.layer + 1, sel.j)}</b>: neuron {sel.j} of {where}"


def _make_context(network, X, Y, cost, settings, step) -> Context:
    """A private copy of the network, at most MAX_EXAMPLES rows, one backprop."""
    net = network.copy()
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))
    Y = np.asarray(Y, dtype=net.dtype).reshape(len(X), -1)
    total = len(X)
    X, Y = X[:MAX_EXAMPLES], Y[:MAX_EXAMPLES]
    grads = net.gradients(X, Y, cost)
    return Context(net, X, Y, cost, settings, step, total, grads)


def _scrolling(page: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area
