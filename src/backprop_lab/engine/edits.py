"""Edits of a network's architecture and parameters.

Each edit is a function from one network to a new one; the old network is
left untouched. Every weight that still has a place is kept, masks move with
their weights, and new places get fresh weights drawn like the layer's own
initialisation. Explicit values (weights=, incoming=, outgoing=, value=) let
an undo put back exactly what an edit removed.

`layer` is a weight layer index 0..L-1; messages show it 1-based, as the
lesson writes w_jk(l).
"""

import math

import numpy as np

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.network import MAX_LAYER_SIZE, Network, initial_weights


class EditError(ValueError):
    """A refused edit; the message is one sentence saying why."""


def _parts(net: Network):
    weights = [w.copy() for w in net.weights]
    biases = [b.copy() for b in net.biases]
    masks = [m.copy() for m in net.masks]
    return weights, biases, masks, list(net.activations)


def _build(net: Network, weights, biases, masks, activations) -> Network:
    try:
        return Network.from_parameters(weights, biases, activations, masks, net.dtype)
    except ValueError as error:
        raise EditError(str(error)) from None


def _check_layer(net: Network, layer, hidden=False) -> int:
    last = net.n_layers - 2 if hidden else net.n_layers - 1
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise EditError(f"a layer is a whole number, not {layer!r}")
    if not 0 <= layer <= last:
        if hidden and net.n_layers == 1:
            raise EditError("the network has no hidden layer")
        kind = "hidden layers" if hidden else "layers"
        raise EditError(
            f"there is no layer {layer + 1}; the {kind} are 1 to {last + 1}"
        )
    return int(layer)


def _check_neuron(net: Network, layer: int, j, what="neuron") -> int:
    n = net.sizes[layer + 1]
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < n:
        raise EditError(f"layer {layer + 1} has {n} neurons; {what} {j!r} is not one")
    return int(j)


def _check_input(net: Network, layer: int, k) -> int:
    n = net.sizes[layer]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n:
        raise EditError(f"layer {layer + 1} has {n} inputs; input {k!r} is not one")
    return int(k)


def _check_value(value, what="value") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise EditError(f"the {what} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise EditError(f"the {what} must be a finite number, not {value}")
    return float(value)


def _check_size(size, what="a layer") -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise EditError(f"the size of {what} is a whole number, not {size!r}")
    if not 1 <= size <= MAX_LAYER_SIZE:
        raise EditError(
            f"the size of {what} must lie in 1..{MAX_LAYER_SIZE}, not {size}"
        )
    return int(size)


def _array(values, shape, net: Network, what: str):
    array = np.asarray(values, dtype=net.dtype)
    if array.shape != shape:
        raise EditError(f"the {what} have shape {array.shape}, not {shape}")
    if not np.isfinite(array).all():
        raise EditError(f"the {what} hold values that are NaN or infinite")
    return array.copy()


def _fresh(rng, n_out, n_in, activation, net):
    return initial_weights(rng, n_out, n_in, activation, net.dtype)


def _resized(W, M, shape, activation, rng, net):
    """W and M cut or grown to `shape`; the overlapping block is kept."""
    grown = _fresh(rng, shape[0], shape[1], activation, net)
    mask = np.ones(shape, net.dtype)
    rows, cols = min(W.shape[0], shape[0]), min(W.shape[1], shape[1])
    grown[:rows, :cols] = W[:rows, :cols]
    mask[:rows, :cols] = M[:rows, :cols]
    return grown * mask, mask


# layers


def insert_layer(
    net: Network,
    index: int,
    size: int,
    activation="tanh",
    weights=None,
    biases=None,
    next_weights=None,
    seed=None,
    masks=None,
    next_masks=None,
) -> Network:
    """A new hidden layer of `size` neurons that becomes weight layer `index`.

    The layer that was `index` moves one on; it keeps its biases and the block
    of its weights that fits, unless next_weights (and next_masks) are given.
    """
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise EditError(f"a layer is a whole number, not {index!r}")
    if not 0 <= index < net.n_layers:
        raise EditError(
            f"a layer can be inserted before layers 1 to {net.n_layers}, "
            f"not {index + 1}"
        )
    size = _check_size(size)
    if activation not in ACTIVATIONS or activation == "softmax":
        raise EditError(f"a hidden layer cannot use the activation {activation!r}")
    rng = np.random.default_rng(seed)
    W_all, b_all, M_all, activations = _parts(net)
    n_in = net.sizes[index]
    old_W, old_M = W_all[index], M_all[index]
    n_next = old_W.shape[0]

    if weights is None:
        W = _fresh(rng, size, n_in, activation, net)
    else:
        W = _array(weights, (size, n_in), net, "weights")
    b = np.zeros(size, net.dtype)
    if biases is not None:
        b = _array(biases, (size,), net, "biases")
    M = np.ones((size, n_in), net.dtype)
    if masks is not None:
        M = _array(masks, (size, n_in), net, "masks")

    if next_weights is None:
        next_W, next_M = _resized(
            old_W, old_M, (n_next, size), activations[index], rng, net
        )
    else:
        next_W = _array(next_weights, (n_next, size), net, "next weights")
        next_M = np.ones((n_next, size), net.dtype)
    if next_masks is not None:
        next_M = _array(next_masks, (n_next, size), net, "next masks")

    W_all[index : index + 1] = [W, next_W]
    M_all[index : index + 1] = [M, next_M]
    b_all.insert(index, b)
    activations.insert(index, activation)
    return _build(net, W_all, b_all, M_all, activations)


def remove_layer(net: Network, index: int, seed=None) -> Network:
    """Without hidden weight layer `index` (0..L-2) and its neurons.

    The layer after it now takes the layer before as input and keeps the
    block of its weights that still fits.
    """
    index = _check_layer(net, index, hidden=True)
    rng = np.random.default_rng(seed)
    W_all, b_all, M_all, activations = _parts(net)
    nxt = index + 1
    shape = (net.sizes[nxt + 1], net.sizes[index])
    W, M = _resized(W_all[nxt], M_all[nxt], shape, activations[nxt], rng, net)
    W_all[index : nxt + 1] = [W]
    M_all[index : nxt + 1] = [M]
    del b_all[index]
    del activations[index]
    return _build(net, W_all, b_all, M_all, activations)


# neurons


def add_neuron(
    net: Network,
    layer: int,
    index=None,
    incoming=None,
    bias=0.0,
    outgoing=None,
    seed=None,
    incoming_mask=None,
    outgoing_mask=None,
) -> Network:
    """A new neuron in hidden layer `layer` at position `index` (None: last).

    incoming (n_in,) are its weights from the layer before, outgoing (n_next,)
    its weights to the layer after; drawn like the layer's own when None.
    """
    layer = _check_layer(net, layer, hidden=True)
    n = net.sizes[layer + 1]
    index = n if index is None else index
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise EditError(f"a neuron position is a whole number, not {index!r}")
    if not 0 <= index <= n:
        raise EditError(f"layer {layer + 1} has {n} neurons; position {index} is out")
    _check_size(n + 1, f"layer {layer + 1}")
    bias = _check_value(bias, "bias")
    rng = np.random.default_rng(seed)
    W_all, b_all, M_all, activations = _parts(net)
    n_in, n_next = net.sizes[layer], net.sizes[layer + 2]

    if incoming is None:
        incoming = _fresh(rng, 1, n_in, activations[layer], net)[0]
    row = _array(incoming, (n_in,), net, "incoming weights")
    if outgoing is None:
        outgoing = _fresh(rng, n_next, n + 1, activations[layer + 1], net)[:, index]
    column = _array(outgoing, (n_next,), net, "outgoing weights")
    row_mask = np.ones(n_in, net.dtype)
    if incoming_mask is not None:
        row_mask = _array(incoming_mask, (n_in,), net, "incoming mask")
    column_mask = np.ones(n_next, net.dtype)
    if outgoing_mask is not None:
        column_mask = _array(outgoing_mask, (n_next,), net, "outgoing mask")

    W_all[layer] = np.insert(W_all[layer], index, row, axis=0)
    M_all[layer] = np.insert(M_all[layer], index, row_mask, axis=0)
    b_all[layer] = np.insert(b_all[layer], index, bias)
    W_all[layer + 1] = np.insert(W_all[layer + 1], index, column, axis=1)
    M_all[layer + 1] = np.insert(M_all[layer + 1], index, column_mask, axis=1)
    return _build(net, W_all, b_all, M_all, activations)


def remove_neuron(net: Network, layer: int, j: int) -> Network:
    """Without neuron j of hidden layer `layer` and the connections it had."""
    if layer == net.n_layers - 1:
        raise EditError(
            "the output layer has one neuron per target; change the data instead"
        )
    layer = _check_layer(net, layer, hidden=True)
    j = _check_neuron(net, layer, j)
    if net.sizes[layer + 1] == 1:
        raise EditError(f"layer {layer + 1} needs at least one neuron")
    W_all, b_all, M_all, activations = _parts(net)
    W_all[layer] = np.delete(W_all[layer], j, axis=0)
    M_all[layer] = np.delete(M_all[layer], j, axis=0)
    b_all[layer] = np.delete(b_all[layer], j)
    W_all[layer + 1] = np.delete(W_all[layer + 1], j, axis=1)
    M_all[layer + 1] = np.delete(M_all[layer + 1], j, axis=1)
    return _build(net, W_all, b_all, M_all, activations)


# connections and single parameters


def remove_connection(net: Network, layer: int, j: int, k: int) -> Network:
    """Without the connection w_jk: its mask and weight become 0."""
    return _with_connection(
        net, layer, j, k, 0.0, mask=0.0, present=True,
        refusal="that connection is already removed",
    )  # fmt: skip


def restore_connection(net: Network, layer: int, j: int, k: int, value=0.0) -> Network:
    """With the removed connection w_jk back, holding `value`."""
    value = _check_value(value, "weight")
    return _with_connection(
        net, layer, j, k, value, mask=1.0, present=False,
        refusal="that connection is not removed",
    )  # fmt: skip


def set_weight(net: Network, layer: int, j: int, k: int, value) -> Network:
    """With w_jk of `layer` set to value; refused on a removed connection."""
    value = _check_value(value, "weight")
    return _with_connection(
        net, layer, j, k, value, mask=1.0, present=True,
        refusal="that connection is removed; restore it to give it a weight",
    )  # fmt: skip


def _with_connection(net, layer, j, k, weight, mask, present: bool, refusal: str):
    """A copy whose w_jk holds `weight` and `mask` (1 present, 0 removed).

    present: whether the connection must exist before the edit; the edit is
    refused with the sentence `refusal` otherwise.
    """
    layer = _check_layer(net, layer)
    j, k = _check_neuron(net, layer, j), _check_input(net, layer, k)
    if (net.masks[layer][j, k] == 1) != present:
        raise EditError(refusal)
    W_all, b_all, M_all, activations = _parts(net)
    W_all[layer][j, k] = weight
    M_all[layer][j, k] = mask
    return _build(net, W_all, b_all, M_all, activations)


def set_bias(net: Network, layer: int, j: int, value) -> Network:
    """With the bias b_j of `layer` set to value."""
    layer = _check_layer(net, layer)
    j = _check_neuron(net, layer, j)
    value = _check_value(value, "bias")
    W_all, b_all, M_all, activations = _parts(net)
    b_all[layer][j] = value
    return _build(net, W_all, b_all, M_all, activations)


def set_activation(net: Network, layer: int, name: str) -> Network:
    """With layer `layer` using activation `name`; softmax only on the output."""
    layer = _check_layer(net, layer)
    if name not in ACTIVATIONS:
        raise EditError(
            f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}"
        )
    W_all, b_all, M_all, activations = _parts(net)
    activations[layer] = name
    return _build(net, W_all, b_all, M_all, activations)


# sizes that follow the data


def set_input_size(net: Network, n: int, seed=None) -> Network:
    """With n inputs; the first layer keeps the weights of inputs that stay."""
    n = _check_size(n, "the input layer")
    rng = np.random.default_rng(seed)
    W_all, b_all, M_all, activations = _parts(net)
    shape = (net.sizes[1], n)
    W_all[0], M_all[0] = _resized(W_all[0], M_all[0], shape, activations[0], rng, net)
    return _build(net, W_all, b_all, M_all, activations)


def set_output_size(net: Network, n: int, seed=None) -> Network:
    """With n outputs; the output layer keeps the neurons that stay."""
    n = _check_size(n, "the output layer")
    if n < 2 and net.activations[-1] == "softmax":
        raise EditError("a softmax output needs at least two neurons")
    rng = np.random.default_rng(seed)
    W_all, b_all, M_all, activations = _parts(net)
    shape = (n, net.sizes[-2])
    W_all[-1], M_all[-1] = _resized(
        W_all[-1], M_all[-1], shape, activations[-1], rng, net
    )
    b = np.zeros(n, net.dtype)
    keep = min(n, len(b_all[-1]))
    b[:keep] = b_all[-1][:keep]
    b_all[-1] = b
    return _build(net, W_all, b_all, M_all, activations)


__all__ = [
    "EditError",
    "add_neuron",
    "insert_layer",
    "remove_connection",
    "remove_layer",
    "remove_neuron",
    "restore_connection",
    "set_activation",
    "set_bias",
    "set_input_size",
    "set_output_size",
    "set_weight",
]
