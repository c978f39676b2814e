"""The NumPy engine of Backprop Lab. It imports no Qt."""

from backprop_lab.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from backprop_lab.engine.costs import COSTS
from backprop_lab.engine.network import Gradients, Network

__all__ = ["ACTIVATIONS", "COSTS", "HIDDEN_ACTIVATIONS", "Gradients", "Network"]
