"""Edits keep every weight that still has a place, and undo exactly."""

import numpy as np
import pytest

from backprop_lab.engine import EditError, Network, edits


def _net(sizes=(3, 4, 5, 2), activations=("tanh", "relu", "sigmoid"), seed=0):
    net = Network(list(sizes), list(activations), seed=seed)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[...] = rng.normal(size=b.shape)
    net.masks[1][2, 3] = 0.0
    net.weights[1][2, 3] = 0.0
    return net


def _identical(first, second):
    assert first.sizes == second.sizes
    assert first.activations == second.activations
    for name in ("weights", "biases", "masks"):
        for a, b in zip(getattr(first, name), getattr(second, name), strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_an_edit_leaves_the_original_network_untouched():
    net = _net()
    before = net.copy()
    edits.remove_neuron(net, 0, 1)
    edits.set_weight(net, 0, 0, 0, 3.0)
    _identical(net, before)


def test_adding_a_neuron_keeps_every_old_weight():
    net = _net()
    grown = edits.add_neuron(net, 1, index=2, seed=1)
    assert grown.sizes == [3, 4, 6, 2]
    assert np.array_equal(np.delete(grown.weights[1], 2, axis=0), net.weights[1])
    assert np.array_equal(np.delete(grown.biases[1], 2), net.biases[1])
    assert np.array_equal(np.delete(grown.weights[2], 2, axis=1), net.weights[2])
    assert np.array_equal(np.delete(grown.masks[1], 2, axis=0), net.masks[1])
    assert np.array_equal(grown.weights[0], net.weights[0])
    assert grown.weights[1][2].any() and grown.biases[1][2] == 0.0


def test_adding_a_neuron_at_the_end_by_default():
    grown = edits.add_neuron(_net(), 0, incoming=[1, 2, 3], bias=0.5)
    assert np.array_equal(grown.weights[0][-1], [1.0, 2.0, 3.0])
    assert grown.biases[0][-1] == 0.5


def test_remove_neuron_then_add_it_back_gives_the_identical_network():
    net = _net()
    layer, j = 1, 2
    smaller = edits.remove_neuron(net, layer, j)
    assert smaller.sizes == [3, 4, 4, 2]
    back = edits.add_neuron(
        smaller,
        layer,
        index=j,
        incoming=net.weights[layer][j],
        bias=net.biases[layer][j],
        outgoing=net.weights[layer + 1][:, j],
        incoming_mask=net.masks[layer][j],
        outgoing_mask=net.masks[layer + 1][:, j],
    )
    _identical(back, net)


def test_remove_layer_keeps_the_overlapping_block_of_the_next_layer():
    net = _net()
    shorter = edits.remove_layer(net, 0, seed=2)
    assert shorter.sizes == [3, 5, 2]
    assert shorter.activations == ["relu", "sigmoid"]
    assert np.array_equal(shorter.weights[0][:, :3], net.weights[1][:, :3])
    assert np.array_equal(shorter.masks[0][:, :3], net.masks[1][:, :3])
    assert np.array_equal(shorter.biases[0], net.biases[1])
    assert np.array_equal(shorter.weights[1], net.weights[2])


@pytest.mark.parametrize("index", [0, 1])
def test_remove_layer_then_insert_it_back_gives_the_identical_network(index):
    net = _net()
    shorter = edits.remove_layer(net, index)
    back = edits.insert_layer(
        shorter,
        index,
        net.sizes[index + 1],
        net.activations[index],
        weights=net.weights[index],
        biases=net.biases[index],
        next_weights=net.weights[index + 1],
        masks=net.masks[index],
        next_masks=net.masks[index + 1],
    )
    _identical(back, net)


def test_insert_layer_keeps_the_other_layers_and_the_fitting_block():
    net = _net()
    longer = edits.insert_layer(net, 2, 3, "tanh", seed=4)
    assert longer.sizes == [3, 4, 5, 3, 2]
    assert longer.activations == ["tanh", "relu", "tanh", "sigmoid"]
    assert np.array_equal(longer.weights[0], net.weights[0])
    assert np.array_equal(longer.weights[1], net.weights[1])
    assert np.array_equal(longer.weights[3][:, :3], net.weights[2][:, :3])
    assert np.array_equal(longer.biases[3], net.biases[2])
    assert longer.weights[2].shape == (3, 5) and not longer.biases[2].any()


def test_remove_and_restore_a_connection():
    net = _net()
    value = net.weights[0][1, 2]
    cut = edits.remove_connection(net, 0, 1, 2)
    assert cut.masks[0][1, 2] == 0.0 and cut.weights[0][1, 2] == 0.0
    _identical(edits.restore_connection(cut, 0, 1, 2, value=value), net)
    with pytest.raises(EditError, match="already removed"):
        edits.remove_connection(cut, 0, 1, 2)
    with pytest.raises(EditError, match="not removed"):
        edits.restore_connection(net, 0, 1, 2)


def test_set_weight_and_bias_change_only_that_value():
    net = _net()
    changed = edits.set_bias(edits.set_weight(net, 2, 1, 4, 2.5), 0, 3, -1.0)
    assert changed.weights[2][1, 4] == 2.5 and changed.biases[0][3] == -1.0
    changed.weights[2][1, 4] = net.weights[2][1, 4]
    changed.biases[0][3] = net.biases[0][3]
    _identical(changed, net)
    with pytest.raises(EditError, match="removed"):
        edits.set_weight(net, 1, 2, 3, 1.0)
    with pytest.raises(EditError, match="finite"):
        edits.set_bias(net, 0, 0, float("nan"))


def test_set_activation_allows_softmax_only_on_the_output():
    net = _net()
    assert edits.set_activation(net, 2, "softmax").activations[-1] == "softmax"
    assert edits.set_activation(net, 0, "leaky_relu").activations[0] == "leaky_relu"
    with pytest.raises(EditError, match="output"):
        edits.set_activation(net, 0, "softmax")
    with pytest.raises(EditError, match="unknown activation"):
        edits.set_activation(net, 0, "swish")


def test_input_and_output_sizes_follow_new_data_and_keep_what_fits():
    net = _net()
    wider = edits.set_input_size(net, 5, seed=0)
    assert wider.sizes[0] == 5
    assert np.array_equal(wider.weights[0][:, :3], net.weights[0])
    fewer = edits.set_output_size(net, 1)
    assert fewer.sizes[-1] == 1
    assert np.array_equal(fewer.weights[-1][0], net.weights[-1][0])
    assert fewer.biases[-1][0] == net.biases[-1][0]


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda n: edits.remove_neuron(n, 2, 0), "output layer"),
        (lambda n: edits.remove_neuron(n, 0, 9), "4 neurons"),
        (lambda n: edits.remove_layer(n, 2), "hidden layers are 1 to 2"),
        (lambda n: edits.add_neuron(n, 5), "no layer 6"),
        (lambda n: edits.insert_layer(n, 0, 0), "size"),
        (lambda n: edits.insert_layer(n, 0, 3, "softmax"), "hidden layer"),
        (lambda n: edits.set_weight(n, 0, 0, 7, 1.0), "3 inputs"),
        (lambda n: edits.add_neuron(n, 0, incoming=[1, 2]), "shape"),
    ],
)
def test_refused_edits_say_why(edit, words):
    with pytest.raises(EditError, match=words):
        edit(_net())


def test_the_last_neuron_of_a_layer_cannot_be_removed():
    net = Network([2, 1, 1], ["tanh", "sigmoid"])
    with pytest.raises(EditError, match="at least one neuron"):
        edits.remove_neuron(net, 0, 0)
    with pytest.raises(EditError, match="no hidden layer"):
        edits.remove_layer(Network([2, 1], ["sigmoid"]), 0)


def test_edits_keep_the_dtype():
    net = Network([2, 3, 1], ["tanh", "sigmoid"], dtype=np.float32)
    grown = edits.insert_layer(edits.add_neuron(net, 0), 1, 4)
    assert all(w.dtype == np.float32 for w in grown.weights + grown.masks)
