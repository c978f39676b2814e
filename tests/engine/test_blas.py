"""The trainer's limit on NumPy's BLAS threads is set and undone."""

import numpy as np
import pytest

from backprop_lab.engine import Network, Trainer
from backprop_lab.engine.blas import current_blas_threads, limit_blas_threads


def test_the_limit_holds_inside_the_block_and_is_undone_after():
    before = current_blas_threads()
    if before is None:
        pytest.skip("this NumPy's BLAS offers no way to set its threads")
    with limit_blas_threads(1):
        assert current_blas_threads() == 1
    assert current_blas_threads() == before


def test_none_leaves_the_thread_count_alone():
    before = current_blas_threads()
    with limit_blas_threads(None):
        assert current_blas_threads() == before


def _threads_while_stepping(blas_threads, sizes=(2, 3, 1)) -> list:
    """The BLAS thread count seen inside each of two steps."""
    seen = []

    class Spy(Trainer):
        def _one_step(self):
            seen.append(current_blas_threads())
            return super()._one_step()

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, sizes[0])), rng.random((8, sizes[-1]))
    net = Network(list(sizes), ["tanh"] * (len(sizes) - 2) + ["sigmoid"])
    Spy(net, X, Y, blas_threads=blas_threads).step(2)
    return seen


def test_the_trainer_steps_with_its_limit_and_restores_the_count():
    before = current_blas_threads()
    seen = _threads_while_stepping(1)
    assert current_blas_threads() == before
    if before is not None:
        assert seen == [1, 1]


def test_auto_uses_one_thread_for_small_products_only():
    from backprop_lab.engine.blas import auto_blas_threads

    assert auto_blas_threads([2, 8, 8, 1], 10) == 1
    assert auto_blas_threads([784, 16, 16, 10], 64) == 1
    assert auto_blas_threads([784, 128, 10], 256) is None


def test_auto_steps_a_small_network_on_one_thread():
    before = current_blas_threads()
    if before is None:
        pytest.skip("this NumPy's BLAS offers no way to set its threads")
    assert _threads_while_stepping("auto") == [1, 1]
    assert _threads_while_stepping(None) == [before, before]
    assert current_blas_threads() == before
