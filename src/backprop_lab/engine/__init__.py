"""The NumPy engine of Backprop Lab. It imports no Qt.

Network: layers, forward pass and backpropagation. Trainer: minibatch
training with SGD, momentum or Adam, the cost history and divergence checks.
edits: functions from one network to the next. explain_weight and
explain_neuron: the chain rule of one weight or neuron, with numbers.
gradient_check: backprop against finite differences. make_dataset and
load_csv: the data to train on.
"""

from backprop_lab.engine import edits
from backprop_lab.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from backprop_lab.engine.costs import COSTS
from backprop_lab.engine.datasets import (
    BUILTIN_SETS,
    DataError,
    Dataset,
    load_csv,
    make_dataset,
)
from backprop_lab.engine.edits import (
    EditError,
    add_neuron,
    insert_layer,
    remove_connection,
    remove_layer,
    remove_neuron,
    restore_connection,
    set_activation,
    set_bias,
    set_input_size,
    set_output_size,
    set_weight,
)
from backprop_lab.engine.explain import (
    BiasExplanation,
    NeuronExplanation,
    WeightExplanation,
    check_network,
    check_parameter,
    explain_bias,
    explain_neuron,
    explain_weight,
    nudge,
    nudge_bias,
    nudge_weight,
    rank_weights,
    wishes,
)
from backprop_lab.engine.gradcheck import GradientCheck, gradient_check, parameter_check
from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.network import Gradients, Network
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.engine.trainer import Trainer, TrainingSettings

__all__ = [
    "ACTIVATIONS",
    "BiasExplanation",
    "NeuronExplanation",
    "WeightExplanation",
    "check_network",
    "check_parameter",
    "explain_bias",
    "explain_neuron",
    "explain_weight",
    "nudge",
    "nudge_bias",
    "nudge_weight",
    "rank_weights",
    "wishes",
    "BUILTIN_SETS",
    "COSTS",
    "HIDDEN_ACTIVATIONS",
    "OPTIMIZERS",
    "CostHistory",
    "DataError",
    "Dataset",
    "EditError",
    "GradientCheck",
    "Gradients",
    "Network",
    "Trainer",
    "TrainingSettings",
    "add_neuron",
    "edits",
    "gradient_check",
    "insert_layer",
    "load_csv",
    "make_dataset",
    "parameter_check",
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
