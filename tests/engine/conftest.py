"""Fixtures shared by the engine tests."""

import pytest

from backprop_lab.engine import Network


@pytest.fixture
def wrong_gradients(monkeypatch):
    """Make Network.gradients scale one layer's dC/dW: wrong_gradients(layer, f)."""

    def scale(layer: int, factor: float) -> None:
        honest = Network.gradients

        def scaled(self, *args, **kwargs):
            grads = honest(self, *args, **kwargs)
            grads.weights[layer] *= factor
            return grads

        monkeypatch.setattr(Network, "gradients", scaled)

    return scale
