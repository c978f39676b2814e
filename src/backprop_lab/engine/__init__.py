"""The NumPy engine of Backprop Lab. It imports no Qt."""

from backprop_lab.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from backprop_lab.engine.costs import COSTS
from backprop_lab.engine.datasets import (
    BUILTIN_SETS,
    DataError,
    Dataset,
    load_csv,
    make_dataset,
)
from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.network import Gradients, Network
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.engine.trainer import Trainer, TrainingSettings

__all__ = [
    "ACTIVATIONS",
    "BUILTIN_SETS",
    "COSTS",
    "HIDDEN_ACTIVATIONS",
    "OPTIMIZERS",
    "CostHistory",
    "DataError",
    "Dataset",
    "Gradients",
    "Network",
    "Trainer",
    "TrainingSettings",
    "load_csv",
    "make_dataset",
]
