"""The trainer's limit on NumPy's BLAS threads is set and undone."""

import numpy as np

from backprop_lab.engine import Network, Trainer
from backprop_lab.engine.blas import current_blas_threads, limit_blas_threads


def test_the_limit_holds_inside_the_block_and_is_undone_after():
    before = current_blas_threads()
    if before is None:
        return  # this NumPy's BLAS offers no way to set its threads
    with limit_blas_threads(1):
        assert current_blas_threads() == 1
    assert current_blas_threads() == before


def test_none_leaves_the_thread_count_alone():
    before = current_blas_threads()
    with limit_blas_threads(None):
        assert current_blas_threads() == before


def test_the_trainer_steps_with_its_limit_and_restores_the_count():
    before = current_blas_threads()
    seen = []

    class Spy(Trainer):
        def _one_step(self):
            seen.append(current_blas_threads())
            return super()._one_step()

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 2)), rng.random((8, 1))
    Spy(Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, blas_threads=1).step(2)
    assert current_blas_threads() == before
    if before is not None:
        assert seen == [1, 1]


def test_auto_uses_one_thread_for_small_products_only():
    from backprop_lab.engine.blas import auto_blas_threads

    assert auto_blas_threads([2, 8, 8, 1], 10) == 1
    assert auto_blas_threads([784, 16, 16, 10], 64) == 1
    assert auto_blas_threads([784, 128, 10], 256) is None


def test_the_trainer_can_leave_the_choice_to_auto():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(8, 2)), rng.random((8, 1))
    trainer = Trainer(
        Network([2, 3, 1], ["tanh", "sigmoid"]), X, Y, blas_threads="auto"
    )
    trainer.step(2)
    assert trainer.steps == 2
