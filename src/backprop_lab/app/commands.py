"""Undoable edits of the network: Edit factories and the QUndoCommand.

Every factory returns an `Edit` whose `apply` calls one of the engine's edit
functions and whose `make_inverse` reads the network *before* the edit and
returns the Edit that puts back exactly what the edit takes away: weights,
biases, masks and activations. Layer indices are weight layers, as in
`net.weights`; texts show them 1-based, as the lesson's superscripts.
"""

import logging

import numpy as np
from PySide6.QtGui import QUndoCommand

from backprop_lab.app.edit_request import Edit
from backprop_lab.engine import Network, edits

logger = logging.getLogger(__name__)


def _fresh_seed() -> int:
    """A seed drawn once per edit, so that redoing it gives the same weights."""
    return int(np.random.default_rng().integers(2**31))


def _replace_layer(net, layer, weights=None, biases=None, masks=None) -> Network:
    """A copy of `net` with some arrays of weight layer `layer` replaced."""
    new_weights = list(net.weights)
    new_biases = list(net.biases)
    new_masks = list(net.masks)
    if weights is not None:
        new_weights[layer] = weights
    if biases is not None:
        new_biases[layer] = biases
    if masks is not None:
        new_masks[layer] = masks
    return Network.from_parameters(
        new_weights, new_biases, net.activations, new_masks, net.dtype
    )


def _layer_arrays(net, layer) -> tuple:
    """Copies of the weights, biases and mask of weight layer `layer`."""
    return (
        net.weights[layer].copy(),
        net.biases[layer].copy(),
        net.masks[layer].copy(),
    )


def _put_back_neuron_edit(
    layer, j, incoming, incoming_mask, bias, outgoing, outgoing_mask
) -> Edit:
    """Insert neuron j of weight layer `layer` with exactly these parameters."""

    def apply(net):
        return edits.add_neuron(
            net,
            layer,
            index=j,
            incoming=incoming,
            bias=bias,
            outgoing=outgoing,
            incoming_mask=incoming_mask,
            outgoing_mask=outgoing_mask,
        )

    def make_inverse(_before):
        return remove_neuron_edit(layer, j)

    return Edit(f"Put back neuron {j} of layer {layer + 1}", apply, make_inverse)


def remove_neuron_edit(layer: int, j: int) -> Edit:
    """Remove neuron j of hidden weight layer `layer`."""

    def apply(net):
        return edits.remove_neuron(net, layer, j)

    def make_inverse(before):
        return _put_back_neuron_edit(
            layer,
            j,
            before.weights[layer][j].copy(),
            before.masks[layer][j].copy(),
            float(before.biases[layer][j]),
            before.weights[layer + 1][:, j].copy(),
            before.masks[layer + 1][:, j].copy(),
        )

    return Edit(f"Remove neuron {j} of layer {layer + 1}", apply, make_inverse)


def add_neuron_edit(layer: int, seed: int | None = None) -> Edit:
    """Append a neuron with small random weights to hidden weight layer `layer`."""
    seed = _fresh_seed() if seed is None else seed

    def apply(net):
        return edits.add_neuron(net, layer, seed=seed)

    def make_inverse(before):
        return remove_neuron_edit(layer, before.sizes[layer + 1])

    return Edit(f"Add a neuron to layer {layer + 1}", apply, make_inverse)


def _put_back_layer_edit(index, activation, layer, next_layer) -> Edit:
    """Insert weight layer `index` with these arrays and the next one's weights.

    layer: (weights, biases, masks) of the new weight layer `index`;
    next_layer: (weights, masks) of the layer after it, whose biases stay.
    """

    def apply(net):
        return edits.insert_layer(
            net,
            index,
            layer[0].shape[0],
            activation,
            weights=layer[0],
            biases=layer[1],
            masks=layer[2],
            next_weights=next_layer[0],
            next_masks=next_layer[1],
        )

    def make_inverse(before):
        return _take_out_layer_edit(index, _weights_and_mask(before, index))

    return Edit(f"Put back layer {index + 1}", apply, make_inverse)


def _take_out_layer_edit(index, next_layer) -> Edit:
    """Remove weight layer `index`; the layer after it gets (weights, masks)."""

    def apply(net):
        net = edits.remove_layer(net, index, seed=0)
        return _replace_layer(net, index, weights=next_layer[0], masks=next_layer[1])

    return Edit(f"Remove layer {index + 1}", apply, _put_back_layer_from(index))


def _put_back_layer_from(index):
    """make_inverse of a layer's removal: put it back as `before` had it."""

    def make_inverse(before):
        return _put_back_layer_edit(
            index,
            before.activations[index],
            _layer_arrays(before, index),
            _weights_and_mask(before, index + 1),
        )

    return make_inverse


def _weights_and_mask(net, layer) -> tuple:
    return net.weights[layer].copy(), net.masks[layer].copy()


def insert_layer_edit(
    index: int, size: int, activation: str = "tanh", seed: int | None = None
) -> Edit:
    """Insert a hidden layer of `size` neurons that becomes weight layer `index`."""
    seed = _fresh_seed() if seed is None else seed

    def apply(net):
        return edits.insert_layer(net, index, size, activation, seed=seed)

    def make_inverse(before):
        return _take_out_layer_edit(index, _weights_and_mask(before, index))

    text = f"Insert a layer of {size} neurons as layer {index + 1}"
    return Edit(text, apply, make_inverse)


def remove_layer_edit(index: int, seed: int | None = None) -> Edit:
    """Remove hidden weight layer `index` (its neurons and incoming weights)."""
    seed = _fresh_seed() if seed is None else seed

    def apply(net):
        return edits.remove_layer(net, index, seed=seed)

    return Edit(f"Remove layer {index + 1}", apply, _put_back_layer_from(index))


def remove_connection_edit(layer: int, j: int, k: int) -> Edit:
    """Remove the connection w_jk of weight layer `layer` (mask 0, weight 0)."""

    def apply(net):
        return edits.remove_connection(net, layer, j, k)

    def make_inverse(before):
        value = float(before.weights[layer][j, k])
        return restore_connection_edit(layer, j, k, value)

    return Edit(_weight_text("Remove connection", layer, j, k), apply, make_inverse)


def restore_connection_edit(layer: int, j: int, k: int, value: float = 0.0) -> Edit:
    """Restore the removed connection w_jk of weight layer `layer` with `value`."""

    def apply(net):
        return edits.restore_connection(net, layer, j, k, value)

    def make_inverse(_before):
        return remove_connection_edit(layer, j, k)

    return Edit(_weight_text("Restore connection", layer, j, k), apply, make_inverse)


def set_weight_edit(layer: int, j: int, k: int, value: float) -> Edit:
    """Set weight w_jk of weight layer `layer` to `value`."""
    value = float(value)

    def apply(net):
        return edits.set_weight(net, layer, j, k, value)

    def make_inverse(before):
        return set_weight_edit(layer, j, k, float(before.weights[layer][j, k]))

    text = f"{_weight_text('Set weight', layer, j, k)} to {value:.4g}"
    return Edit(text, apply, make_inverse)


def set_bias_edit(layer: int, j: int, value: float) -> Edit:
    """Set bias b_j of weight layer `layer` to `value`."""
    value = float(value)

    def apply(net):
        return edits.set_bias(net, layer, j, value)

    def make_inverse(before):
        return set_bias_edit(layer, j, float(before.biases[layer][j]))

    text = f"Set bias b{j} of layer {layer + 1} to {value:.4g}"
    return Edit(text, apply, make_inverse)


def set_activation_edit(layer: int, name: str) -> Edit:
    """Give weight layer `layer` the activation function `name`."""

    def apply(net):
        return edits.set_activation(net, layer, name)

    def make_inverse(before):
        return set_activation_edit(layer, before.activations[layer])

    return Edit(f"Use {name} in layer {layer + 1}", apply, make_inverse)


def _weight_text(verb: str, layer: int, j: int, k: int) -> str:
    return f"{verb} w{j},{k} of layer {layer + 1}"


class EditCommand(QUndoCommand):
    """One Edit on the undo stack; redo applies it, undo applies its inverse.

    The inverse is built from `session.network` right before each redo, so
    undo puts back what this edit removed even after training moved the
    other weights. Runs on the GUI thread.
    """

    def __init__(self, edit: Edit, session, parent=None):
        super().__init__(edit.text, parent)
        self.edit = edit
        self.session = session
        self.inverse: Edit | None = None
        self.error: str | None = None

    def redo(self) -> None:
        try:
            inverse = self.edit.make_inverse(self.session.network)
            self.session.apply_edit(self.edit.apply)
        except (ValueError, IndexError) as error:
            logger.warning("edit %r refused: %s", self.edit.text, error)
            self.error = str(error)
            self.setObsolete(True)
            return
        self.inverse = inverse

    def undo(self) -> None:
        if self.inverse is None:
            return
        try:
            self.session.apply_edit(self.inverse.apply)
        except (ValueError, IndexError) as error:
            logger.warning("undo of %r refused: %s", self.edit.text, error)
            self.error = str(error)
