"""Helpers for tests that drive the main window."""

import numpy as np


def wait_for_steps(qtbot, window, steps: int, timeout=5000):
    """Wait until the GUI has seen a snapshot past `steps` steps."""
    qtbot.waitUntil(
        lambda: (
            window.session.snapshot is not None
            and window.session.snapshot.step >= steps
        ),
        timeout=timeout,
    )
    return window.session.snapshot


def finite(network) -> bool:
    return all(np.isfinite(a).all() for a in [*network.weights, *network.biases])
