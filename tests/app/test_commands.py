"""Every Edit of the canvas undoes exactly, through a real QUndoStack."""

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from backprop_lab.app import commands
from backprop_lab.app.commands import EditCommand
from backprop_lab.engine import Network


class FakeSession:
    """The two things EditCommand needs from a TrainingSession."""

    def __init__(self, network):
        self.network = network

    def apply_edit(self, apply):
        self.network = apply(self.network)


def trained_looking_network():
    """A 3-4-3-2 network with non-trivial biases and one removed connection."""
    rng = np.random.default_rng(7)
    net = Network([3, 4, 3, 2], ["tanh", "relu", "sigmoid"], seed=3)
    biases = [rng.normal(size=b.shape) for b in net.biases]
    masks = [np.ones_like(w) for w in net.weights]
    masks[1][2, 1] = 0.0
    masks[0][0, 2] = 0.0
    return Network.from_parameters(net.weights, biases, net.activations, masks)


def same_network(a, b) -> bool:
    if a.sizes != b.sizes or a.activations != b.activations:
        return False
    pairs = zip(a.weights + a.biases + a.masks, b.weights + b.biases + b.masks)
    return all(np.array_equal(x, y) for x, y in pairs)


EDITS = {
    "remove_neuron_middle": lambda: commands.remove_neuron_edit(0, 1),
    "remove_neuron_with_removed_in": lambda: commands.remove_neuron_edit(1, 2),
    "remove_neuron_with_removed_out": lambda: commands.remove_neuron_edit(0, 0),
    "add_neuron": lambda: commands.add_neuron_edit(1),
    "insert_layer_first": lambda: commands.insert_layer_edit(0, 5, "sigmoid"),
    "insert_layer_last": lambda: commands.insert_layer_edit(2, 2, "tanh"),
    "remove_layer_first": lambda: commands.remove_layer_edit(0),
    "remove_layer_second": lambda: commands.remove_layer_edit(1),
    "remove_connection": lambda: commands.remove_connection_edit(2, 1, 0),
    "restore_connection": lambda: commands.restore_connection_edit(1, 2, 1, 0.75),
    "set_weight": lambda: commands.set_weight_edit(1, 0, 3, -1.25),
    "set_bias": lambda: commands.set_bias_edit(2, 1, 0.5),
    "set_activation": lambda: commands.set_activation_edit(0, "leaky_relu"),
    "set_output_activation": lambda: commands.set_activation_edit(2, "softmax"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_do_undo_redo_gives_back_identical_arrays(qapp, name):
    session = FakeSession(trained_looking_network())
    before = session.network.copy()
    stack = QUndoStack()

    stack.push(EditCommand(EDITS[name](), session))
    after = session.network.copy()
    assert not same_network(before, after)

    stack.undo()
    assert same_network(session.network, before)

    stack.redo()
    assert same_network(session.network, after)

    stack.undo()
    assert same_network(session.network, before)


def test_undo_of_several_edits_runs_back_in_order(qapp):
    session = FakeSession(trained_looking_network())
    before = session.network.copy()
    stack = QUndoStack()
    sequence = [
        commands.set_weight_edit(0, 1, 1, 2.0),
        commands.remove_neuron_edit(0, 1),
        commands.insert_layer_edit(1, 4, "sigmoid"),
        commands.remove_connection_edit(1, 2, 2),
        commands.add_neuron_edit(0),
        commands.set_bias_edit(0, 3, -1.0),
        commands.remove_layer_edit(2),
        commands.set_activation_edit(1, "tanh"),
    ]
    for edit in sequence:
        stack.push(EditCommand(edit, session))
    assert stack.count() == len(sequence)
    while stack.canUndo():
        stack.undo()
    assert same_network(session.network, before)


def test_undo_after_training_keeps_the_trained_weights_elsewhere(qapp):
    session = FakeSession(trained_looking_network())
    stack = QUndoStack()
    stack.push(EditCommand(commands.remove_neuron_edit(0, 1), session))
    session.network.weights[2] += 0.5  # training moved the last layer meanwhile
    trained = session.network.weights[2].copy()

    stack.undo()
    assert session.network.sizes == [3, 4, 3, 2]
    np.testing.assert_array_equal(session.network.weights[2], trained)


def test_removed_neuron_comes_back_with_its_parameters(qapp):
    session = FakeSession(trained_looking_network())
    original = session.network.copy()
    stack = QUndoStack()
    stack.push(EditCommand(commands.remove_neuron_edit(0, 2), session))
    assert session.network.sizes == [3, 3, 3, 2]

    stack.undo()
    np.testing.assert_array_equal(session.network.weights[0][2], original.weights[0][2])
    np.testing.assert_array_equal(session.network.masks[0][2], original.masks[0][2])
    assert session.network.biases[0][2] == original.biases[0][2]
    np.testing.assert_array_equal(
        session.network.weights[1][:, 2], original.weights[1][:, 2]
    )


@pytest.mark.parametrize(
    "edit",
    [commands.remove_neuron_edit(0, 0), commands.set_weight_edit(0, 0, 5, 1.0)],
)
def test_refused_edit_leaves_the_network_and_stack_unchanged(qapp, edit):
    session = FakeSession(Network([2, 1, 1], ["tanh", "sigmoid"]))
    before = session.network.copy()
    stack = QUndoStack()
    command = EditCommand(edit, session)
    stack.push(command)
    assert same_network(session.network, before)
    assert stack.count() == 0
    assert command.error


def test_edit_texts_name_the_layer_as_the_lesson_does():
    assert commands.remove_neuron_edit(0, 3).text == "Remove neuron 3 of layer 1"
    assert "w2,1 of layer 3" in commands.set_weight_edit(2, 2, 1, 0.5).text
    assert commands.set_activation_edit(1, "relu").text == "Use relu in layer 2"


def test_inverse_of_an_inverse_redoes_the_edit(qapp):
    net = trained_looking_network()
    edit = commands.remove_layer_edit(1)
    after = edit.apply(net)
    inverse = edit.make_inverse(net)
    restored = inverse.apply(after)
    assert same_network(restored, net)
    again = inverse.make_inverse(after).apply(restored)
    assert same_network(again, after)
