"""The cost history of a training run, in arrays that grow as steps are added."""

import numpy as np

_INITIAL_CAPACITY = 256


class CostHistory:
    """Train cost and per-layer gradient norm of every step; test cost sometimes.

    steps (n,) int, train (n,) float: the minibatch cost of each step.
    grad_norms (n, L): Frobenius norm of each weight layer's dC/dW and dC/db.
    test_steps (m,) int, test (m,) float: the test cost after those steps.
    The properties are views of the stored rows; appending is amortised O(1).
    When the number of layers changes, older rows keep the columns that still
    exist and get NaN in the new ones.
    """

    def __init__(self, n_layers: int = 0):
        self._steps = np.zeros(_INITIAL_CAPACITY, np.int64)
        self._train = np.zeros(_INITIAL_CAPACITY)
        self._norms = np.zeros((_INITIAL_CAPACITY, n_layers))
        self._n = 0
        self._test_steps = np.zeros(_INITIAL_CAPACITY, np.int64)
        self._test = np.zeros(_INITIAL_CAPACITY)
        self._n_test = 0

    @classmethod
    def from_arrays(cls, steps, train, test_steps=(), test=(), grad_norms=None):
        """A history holding copies of the given arrays (shapes checked)."""
        steps = np.asarray(steps, np.int64).reshape(-1)
        train = np.asarray(train, np.float64).reshape(-1)
        test_steps = np.asarray(test_steps, np.int64).reshape(-1)
        test = np.asarray(test, np.float64).reshape(-1)
        if len(steps) != len(train):
            raise ValueError("the history has different numbers of steps and costs")
        if len(test_steps) != len(test):
            raise ValueError(
                "the history has different numbers of test steps and costs"
            )
        if grad_norms is None:
            grad_norms = np.full((len(steps), 0), np.nan)
        grad_norms = np.asarray(grad_norms, np.float64)
        if grad_norms.ndim != 2 or len(grad_norms) != len(steps):
            raise ValueError("the gradient norms must have one row per step")
        history = cls(grad_norms.shape[1])
        history._reserve(len(steps))
        history._steps[: len(steps)] = steps
        history._train[: len(steps)] = train
        history._norms[: len(steps)] = grad_norms
        history._n = len(steps)
        history._reserve_test(len(test))
        history._test_steps[: len(test)] = test_steps
        history._test[: len(test)] = test
        history._n_test = len(test)
        return history

    def __len__(self) -> int:
        return self._n

    @property
    def n_layers(self) -> int:
        return self._norms.shape[1]

    @property
    def steps(self):
        return self._steps[: self._n]

    @property
    def train(self):
        return self._train[: self._n]

    @property
    def grad_norms(self):
        return self._norms[: self._n]

    @property
    def test_steps(self):
        return self._test_steps[: self._n_test]

    @property
    def test(self):
        return self._test[: self._n_test]

    def append(self, step: int, cost: float, grad_norms=None) -> None:
        if self._n == len(self._steps):
            self._reserve(1)
        i = self._n
        self._steps[i] = step
        self._train[i] = cost
        self._norms[i] = np.nan if grad_norms is None else grad_norms
        self._n = i + 1

    def begin_row(self, step: int, cost: float):
        """Write a step's cost; returns its row of gradient norms to fill.

        The row counts only after `commit_row`, so a step can still be dropped.
        """
        i = self._n
        if i == len(self._steps):
            self._reserve(1)
        self._steps[i] = step
        self._train[i] = cost
        return self._norms[i]

    def commit_row(self) -> None:
        self._n += 1

    def append_test(self, step: int, cost: float) -> None:
        if self._n_test == len(self._test):
            self._reserve_test(1)
        self._test_steps[self._n_test] = step
        self._test[self._n_test] = cost
        self._n_test += 1

    def clear(self, n_layers: int | None = None) -> None:
        self._n = 0
        self._n_test = 0
        if n_layers is not None:
            self.set_n_layers(n_layers)

    def set_n_layers(self, n_layers: int) -> None:
        """Resize the gradient-norm columns to a new number of layers."""
        old = self._norms
        if old.shape[1] == n_layers:
            return
        norms = np.full((len(old), n_layers), np.nan)
        keep = min(n_layers, old.shape[1])
        norms[: self._n, :keep] = old[: self._n, :keep]
        self._norms = norms

    def thinned(self, max_rows: int) -> "CostHistory":
        """A copy with at most max_rows steps and max_rows test costs.

        A longer history keeps evenly spaced rows, the first and the last
        among them; a shorter one is copied whole, so thinning twice changes
        nothing more.
        """
        rows = _evenly_spaced(self._n, max_rows)
        test_rows = _evenly_spaced(self._n_test, max_rows)
        return CostHistory.from_arrays(
            self.steps[rows], self.train[rows], self.test_steps[test_rows],
            self.test[test_rows], self.grad_norms[rows],
        )  # fmt: skip

    def copy(self) -> "CostHistory":
        return CostHistory.from_arrays(
            self.steps, self.train, self.test_steps, self.test, self.grad_norms
        )

    def _reserve(self, extra: int) -> None:
        needed = self._n + extra
        if needed <= len(self._steps):
            return
        capacity = max(needed, 2 * len(self._steps))
        self._steps = _grown(self._steps, capacity)
        self._train = _grown(self._train, capacity)
        self._norms = _grown(self._norms, capacity)

    def _reserve_test(self, extra: int) -> None:
        needed = self._n_test + extra
        if needed <= len(self._test):
            return
        capacity = max(needed, 2 * len(self._test))
        self._test_steps = _grown(self._test_steps, capacity)
        self._test = _grown(self._test, capacity)

    def __repr__(self) -> str:
        return f"CostHistory({self._n} steps, {self._n_test} test costs)"


def _grown(array, capacity: int):
    bigger = np.zeros((capacity,) + array.shape[1:], array.dtype)
    bigger[: len(array)] = array
    return bigger


def _evenly_spaced(n: int, most: int):
    """Indexes of at most `most` rows of n, evenly spaced, first and last kept."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(most, 2)).round().astype(np.int64))
