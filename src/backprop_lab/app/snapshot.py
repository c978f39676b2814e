"""Immutable views of the training state, sent from the worker to the GUI."""

from dataclasses import dataclass, field

import numpy as np

from backprop_lab.engine import Network


@dataclass(frozen=True)
class Snapshot:
    """What the views need after a chunk of steps; every array is a copy.

    Made on the worker thread, read on the GUI thread, never changed. Cost
    and norm arrays hold only the steps since the previous snapshot, so the
    views append them to what they already have.
    """

    # counters and rates
    step: int
    epoch: int
    steps_per_second: float
    running: bool

    # the network as it is after `step` steps; a private copy
    network: Network

    # gradients of the last step, dC/dW (n_out, n_in) and dC/db (n_out,)
    weight_gradients: tuple = ()
    bias_gradients: tuple = ()

    # rows of the training data in the last step's minibatch
    batch_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    # history since the previous snapshot
    new_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    new_train_costs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_test_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    new_test_costs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # (n_new_steps, L): per-layer gradient norm of every new step
    new_grad_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    # accuracies for classification, None for regression
    train_accuracy: float | None = None
    test_accuracy: float | None = None

    # True when the history was cleared (reset, new data): views start over
    history_reset: bool = False

    # why training stopped by itself (divergence, a stop condition), or None
    message: str | None = None
