"""Rich text for the inspector: symbols in the lesson's notation and numbers.

Weight layer `layer` is the lesson's layer l = layer + 1, shown as a
superscript; neurons keep their 0-based index, as on the canvas.
"""

import math

WORD_JOINER = "\u2060"

# how the slope s'(z) of each activation is computed, in words and symbols
SLOPE_RULES = {
    "sigmoid": "σ'(z) = a(1 − a)",
    "tanh": "tanh'(z) = 1 − a²",
    "relu": "ReLU'(z) = 1 if z > 0, else 0",
    "leaky_relu": "LReLU'(z) = 1 if z > 0, else 0.01",
    "linear": "id'(z) = 1 for a linear neuron",
}


def fmt(value: float, digits: int = 5) -> str:
    """A number as the inspector prints it: 5 significant digits."""
    if value is None or not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def indices(*numbers: int) -> str:
    """Subscript indices, joined as in w_jk, with commas once one is two digits."""
    text = [str(n) for n in numbers]
    return ",".join(text) if any(len(t) > 1 for t in text) else "".join(text)


def sup(layer: int) -> str:
    """The lesson's superscript (l) for weight layer `layer` (0 is the input)."""
    return f"<sup>({layer + 1})</sup>"


def sup_neurons(neuron_layer: int) -> str:
    """Superscript for a layer of neurons 0 .. L (0 is the input)."""
    return f"<sup>({neuron_layer})</sup>"


ACTIVATION_SYMBOLS = {
    "sigmoid": "σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "LReLU",
    "linear": "id",
}


def act_symbol(name: str) -> str:
    """The symbol of an activation in formulas: σ for the lesson's sigmoid."""
    return ACTIVATION_SYMBOLS.get(name, "s")


def w_sym(layer: int, j: int, k: int) -> str:
    return f"w<sub>{indices(j, k)}</sub>{sup(layer)}"


def b_sym(layer: int, j: int) -> str:
    return f"b<sub>{j}</sub>{sup(layer)}"


def a_sym(neuron_layer: int, j: int) -> str:
    return f"a<sub>{j}</sub>{sup_neurons(neuron_layer)}"


def z_sym(layer: int, j: int) -> str:
    return f"z<sub>{j}</sub>{sup(layer)}"


def slope_sym(name: str, layer: int, j: int) -> str:
    return f"{act_symbol(name)}'({z_sym(layer, j)})"


def d_sym(thing: str) -> str:
    """∂C/∂thing; a word joiner keeps the line from breaking after the slash."""
    return f"∂C/{WORD_JOINER}∂{thing}"


def layer_name(layer: int, n_layers: int) -> str:
    """'layer 2', 'the output layer 3' or 'the input layer' in words."""
    if layer < 0:
        return "the input layer"
    if layer == n_layers - 1:
        return f"the output layer {layer + 1}"
    return f"hidden layer {layer + 1}"


def cost_form(cost: str, output_activation: str, a: str, y: str) -> str:
    """The cost's own ∂C/∂a of an output neuron, with a and y filled in."""
    if cost == "quadratic":
        return f"2({a} − {y})"
    if output_activation == "softmax":
        return f"−{y} / {a}"
    return f"−{y} / {a} + (1 − {y}) / (1 − {a})"


def cost_name(cost: str) -> str:
    return "cross-entropy" if cost == "cross_entropy" else "quadratic"


_SUBSCRIPT = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
_SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def plain_w(layer: int, j: int, k: int) -> str:
    """w_jk(l) in plain Unicode, for table cells that show no rich text."""
    return (
        "w"
        + indices(j, k).translate(_SUBSCRIPT)
        + f"({layer + 1})".translate(_SUPERSCRIPT)
    )
