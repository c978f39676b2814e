"""Edits of the network as undoable values; Qt-free.

An `Edit` is a pure function from one network to the next plus a way to build
its inverse from the network it is applied to. The undo stack keeps pairs of
them; the training worker applies them between two steps.
"""

from collections.abc import Callable
from dataclasses import dataclass

from backprop_lab.engine import Network


@dataclass(frozen=True)
class Edit:
    """One named change of a network.

    text: what the user sees in Edit > Undo, such as "Remove neuron 3 of layer 2".
    apply: network -> new network; raises ValueError (EditError) when refused.
    make_inverse: given the network *before* `apply`, the Edit that undoes it.
    """

    text: str
    apply: Callable[[Network], Network]
    make_inverse: Callable[[Network], "Edit"]
