"""Training a network: minibatches over shuffled epochs, an optimizer, history.

A `Trainer` owns its network, its data and the optimizer state, and trains the
network in place. It is meant to be driven from one worker thread; only
`request_stop` may be called from another thread.
"""

import dataclasses
import logging
import math
import threading
from dataclasses import dataclass

import numpy as np

from backprop_lab.engine import costs
from backprop_lab.engine.blas import auto_blas_threads, limit_blas_threads
from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.kernel import FlatParameters, Plan
from backprop_lab.engine.network import Network
from backprop_lab.engine.optimizers import OPTIMIZERS, carry_state, make_optimizer

logger = logging.getLogger(__name__)

_INT_FIELDS = ("batch_size", "seed", "test_every")
_STR_FIELDS = ("cost", "optimizer")
_OPTIONAL_FIELDS = ("max_steps", "target_cost")


@dataclass
class TrainingSettings:
    """The hyperparameters of a training run, as plain serialisable values."""

    cost: str = "quadratic"
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    batch_size: int = 10
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    l1: float = 0.0
    l2: float = 0.0
    seed: int = 0
    max_steps: int | None = None
    target_cost: float | None = None
    test_every: int = 10

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d) -> "TrainingSettings":
        """Settings from a mapping; ValueError naming the first bad field."""
        if not isinstance(d, dict):
            raise ValueError("the training settings must be a mapping of names")
        names = {f.name for f in dataclasses.fields(cls)}
        for key in d:
            if key not in names:
                raise ValueError(f"unknown training setting {key!r}")
        values = {key: _coerce(key, value) for key, value in d.items()}
        settings = cls(**values)
        settings.check_values()
        return settings

    def check_values(self) -> None:
        """ValueError naming the field whose value is out of range."""
        if self.cost not in costs.COSTS:
            raise ValueError(f"cost must be one of {', '.join(costs.COSTS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        _check_range("learning_rate", self.learning_rate, 0.0, math.inf, low_open=True)
        _check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        _check_range("beta1", self.beta1, 0.0, 1.0, high_open=True)
        _check_range("beta2", self.beta2, 0.0, 1.0, high_open=True)
        _check_range("eps", self.eps, 0.0, math.inf, low_open=True)
        _check_range("l1", self.l1, 0.0, math.inf)
        _check_range("l2", self.l2, 0.0, math.inf)
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        for name, low in (("batch_size", 1), ("test_every", 1), ("seed", 0)):
            value = getattr(self, name)
            if value < low:
                raise ValueError(f"{name} must be at least {low}, not {value}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool)
            or int(self.max_steps) != self.max_steps
            or self.max_steps < 1
        ):
            raise ValueError(
                f"max_steps must be a whole number >= 1 or None, not {self.max_steps!r}"
            )
        if self.target_cost is not None:
            _check_range("target_cost", self.target_cost, 0.0, math.inf)

    def validate(self, output_activation: str) -> None:
        """ValueError naming the field that does not fit or is out of range."""
        self.check_values()
        try:
            costs.check_cost(self.cost, output_activation)
        except ValueError as error:
            raise ValueError(f"cost: {error}") from None


def _coerce(key: str, value):
    if key in _STR_FIELDS:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a name, not {value!r}")
        return value
    if key in _OPTIONAL_FIELDS and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, not {value!r}")
    if key in _INT_FIELDS or key == "max_steps":
        if int(value) != value:
            raise ValueError(f"{key} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def _check_range(name, value, low, high, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        lower = f"greater than {low:g}" if low_open else f"at least {low:g}"
        if high == math.inf:
            raise ValueError(f"{name} must be a finite number {lower}, not {value}")
        upper = f"below {high:g}" if high_open else f"at most {high:g}"
        raise ValueError(f"{name} must be {lower} and {upper}, not {value}")


def _as_rows(array, name: str, dtype):
    array = np.asarray(array, dtype=dtype)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a table of shape (n_samples, n), not {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds values that are NaN or infinite")
    return np.ascontiguousarray(array)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _last_step(history: CostHistory | None) -> int:
    """The highest step a history holds, train or test; 0 when empty."""
    if history is None:
        return 0
    return int(max(history.steps.max(initial=0), history.test_steps.max(initial=0)))


def _whole(name: str, value) -> int:
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or int(value) != value or value < 0:
        raise ValueError(f"{name} must be a whole number from 0 up, not {value!r}")
    return int(value)


def infer_task(Y) -> str:
    """Classification when the targets are 0/1 labels or one-hot rows."""
    Y = np.asarray(Y)
    if len(Y) == 0 or not np.isin(Y, (0.0, 1.0)).all():
        return "regression"
    if Y.shape[1] == 1 or (Y.sum(axis=1) == 1).all():
        return "classification"
    return "regression"


class Trainer:
    """Trains `net` in place on (X, Y) by minibatch gradient descent.

    The network's weights and biases become views of the trainer's own flat
    parameter vector; `net.copy()` gives independent, contiguous arrays.

    X (n_samples, n_in), Y (n_samples, n_out). A batch size of at least the
    number of examples means full batch, in order; smaller batches are drawn
    from a fresh shuffle each epoch. Every method runs on the caller's thread;
    only `request_stop` may be called from another one.

    blas_threads: NumPy's BLAS threads while stepping: a number (1 by default:
    extra threads pay only on big products and cost several times over on a
    busy machine), None for the library's own choice, or "auto" (one thread
    when every product is small, else the library's choice).
    """

    def __init__(
        self,
        net: Network,
        X,
        Y,
        cost="quadratic",
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=10,
        seed=0,
        momentum=0.9,
        l1=0.0,
        l2=0.0,
        X_test=None,
        Y_test=None,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        max_steps=None,
        target_cost=None,
        test_every=10,
        task=None,
        blas_threads=1,
    ):
        settings = TrainingSettings(
            cost=cost, optimizer=optimizer, learning_rate=learning_rate,
            batch_size=batch_size, momentum=momentum, beta1=beta1, beta2=beta2,
            eps=eps, l1=l1, l2=l2, seed=seed, max_steps=max_steps,
            target_cost=target_cost, test_every=test_every,
        )  # fmt: skip
        settings.validate(net.activations[-1])
        self._settings = settings
        self.blas_threads = blas_threads
        self._stop_request = threading.Event()
        self.net = net
        self._flat = FlatParameters(net)
        self._flat.attach(net)
        self._initial_net = net.copy()
        self._optimizer = self._new_optimizer()
        self._configure()
        self.history = CostHistory(net.n_layers)
        self.set_data(X, Y, X_test, Y_test, task)

    @classmethod
    def from_settings(cls, net: Network, dataset, settings: TrainingSettings):
        """A trainer for `dataset` (a Dataset) with the given settings."""
        values = settings.to_dict()
        return cls(
            net, dataset.X_train, dataset.Y_train, X_test=dataset.X_test,
            Y_test=dataset.Y_test, task=dataset.task, **values,
        )  # fmt: skip

    # settings

    @property
    def settings(self) -> TrainingSettings:
        """A copy of the current settings."""
        return dataclasses.replace(self._settings)

    def set_settings(self, settings: TrainingSettings) -> None:
        """New hyperparameters; the optimizer state stays if the optimizer does.

        Clears a divergence or stop, so training can go on with new values.
        """
        settings.validate(self.net.activations[-1])
        old = self._settings
        self._settings = dataclasses.replace(settings)
        if settings.optimizer != old.optimizer:
            self._optimizer = self._new_optimizer()
        if settings.batch_size != old.batch_size:
            self._position = len(self.X)
            self._plans = {}
        self._configure()
        self.diverged = None
        self.stopped_reason = None

    def _new_optimizer(self):
        s = self._settings
        return make_optimizer(s.optimizer, self._flat.size, self._flat.dtype)

    def _configure(self) -> None:
        s = self._settings
        self._optimizer.configure(
            learning_rate=s.learning_rate, momentum=s.momentum,
            beta1=s.beta1, beta2=s.beta2, eps=s.eps,
        )  # fmt: skip
        self._max_steps = math.inf if s.max_steps is None else s.max_steps
        self._target = -math.inf if s.target_cost is None else s.target_cost
        self._l2_flags = self._flat.weight_flags * s.l2 if s.l2 else None
        self._l1_flags = self._flat.weight_flags * s.l1 if s.l1 else None

    # data

    def set_data(self, X, Y, X_test=None, Y_test=None, task=None) -> None:
        """New data: counters, history and the epoch start over.

        task: "classification" or "regression"; guessed from Y when None.
        """
        dtype = self.net.dtype
        X, Y = _as_rows(X, "X", dtype), _as_rows(Y, "Y", dtype)
        if len(X) != len(Y) or len(X) == 0:
            raise ValueError(
                f"X has {len(X)} rows and Y {len(Y)}: they need the same, at least 1"
            )
        if X_test is not None and Y_test is not None and len(X_test) > 0:
            X_test = _as_rows(X_test, "X_test", dtype)
            Y_test = _as_rows(Y_test, "Y_test", dtype)
            if len(X_test) != len(Y_test):
                raise ValueError("X_test and Y_test need the same number of rows")
        else:
            X_test = Y_test = None
        if task not in (None, "classification", "regression"):
            raise ValueError(
                f"the task must be 'classification' or 'regression', not {task!r}"
            )
        self.X, self.Y, self.X_test, self.Y_test = X, Y, X_test, Y_test
        self.task = task or infer_task(Y)
        self._bind_data()
        self._clear_progress()

    def _bind_data(self) -> None:
        dtype = self.net.dtype
        for name in ("X", "Y", "X_test", "Y_test"):
            value = getattr(self, name)
            if value is not None and value.dtype != dtype:
                setattr(self, name, value.astype(dtype))
        self._X_aug = np.ones((len(self.X), self.X.shape[1] + 1), dtype)
        self._X_aug[:, :-1] = self.X
        self._plans = {}
        self._all_rows = np.arange(len(self.X))

    def _clear_progress(self) -> None:
        self.steps = 0
        self.epochs = 0
        self.history.clear(self.net.n_layers)
        self.diverged = None
        self.stopped_reason = None
        self._rng = np.random.default_rng(self._settings.seed)
        self._order = self._all_rows
        self._position = len(self.X)
        self._last_cost = math.nan
        self._last_plan = None
        self._gradients_cache = None
        self.last_batch_indices = np.zeros(0, np.int64)

    def restore_history(
        self,
        history: CostHistory | None,
        steps: int | None = None,
        epochs: int | None = None,
    ) -> None:
        """Go on from a saved run: its history, step and epoch counters.

        steps: the steps already taken; by default the last step in `history`.
        epochs: the epochs already finished; by default as many whole epochs
            as `steps` makes at the current batch size. The next step starts
            a new epoch. Optimizer state is not saved, so it starts afresh.
        """
        last = _last_step(history)
        steps = last if steps is None else _whole("steps", steps)
        if steps < last:
            raise ValueError(
                f"the history reaches step {last}; the run cannot go on "
                f"from the earlier step {steps}"
            )
        if epochs is None:
            batch = min(self._settings.batch_size, len(self.X))
            epochs = steps // math.ceil(len(self.X) / batch)
        epochs = _whole("epochs", epochs)
        self._clear_progress()
        if history is not None:
            restored = history.copy()
            restored.set_n_layers(self.net.n_layers)
            self.history = restored
        self.steps, self.epochs = steps, epochs
        if len(self.history):
            self._last_cost = float(self.history.train[-1])

    def _check_fit(self) -> None:
        """ValueError when the data, the network and the cost do not fit."""
        costs.check_cost(self._settings.cost, self.net.activations[-1])
        n_in, n_out = self.net.sizes[0], self.net.sizes[-1]
        if self.X.shape[1] != n_in or self.Y.shape[1] != n_out:
            raise ValueError(
                f"the data has {_count(self.X.shape[1], 'input')} and "
                f"{_count(self.Y.shape[1], 'target')}; the network has "
                f"{_count(n_in, 'input')} and {_count(n_out, 'output')}"
            )

    # the network

    def set_network(self, net: Network) -> None:
        """Train `net` from now on (after an edit); counters and history stay.

        The optimizer state of a layer is kept when its shape did not change.
        Whether the network fits the data and the cost is checked by `step`.
        """
        old_flat, old_optimizer = self._flat, self._optimizer
        self.net = net
        self._flat = FlatParameters(net)
        self._flat.attach(net)
        self._optimizer = self._new_optimizer()
        pieces = [
            (old_flat.segment(layer), self._flat.segment(layer))
            for layer in range(min(len(old_flat.shapes), len(self._flat.shapes)))
            if old_flat.shapes[layer] == self._flat.shapes[layer]
        ]
        carry_state(old_optimizer, self._optimizer, pieces)
        self._configure()
        if net.dtype != old_flat.dtype:
            self._bind_data()
        self._plans = {}
        self._last_plan = None
        self._gradients_cache = None
        self.history.set_n_layers(net.n_layers)
        logger.debug("trainer now trains %s", net)

    def _sync(self) -> None:
        """Rebuild the flat vector if someone replaced the network's arrays."""
        if not self._flat.is_attached(self.net):
            self.set_network(self.net)

    def reset(self) -> None:
        """Back to the initial weights; counters, history and state cleared."""
        self._sync()
        flat = self._flat
        initial = self._initial_net
        if initial.sizes != flat.sizes or initial.activations != flat.activations:
            initial = Network(
                flat.sizes, flat.activations, seed=self._settings.seed,
                dtype=flat.dtype,
            )  # fmt: skip
            self._initial_net = initial
        for w, b, w0, b0, m in zip(
            flat.weights, flat.biases, initial.weights, initial.biases, flat.masks,
            strict=True,
        ):  # fmt: skip
            np.multiply(w0, m, out=w)
            b[...] = b0
        self._optimizer.reset()
        self._clear_progress()

    def reinitialize(self, seed: int) -> None:
        """New random weights of the same architecture (masks kept), then reset."""
        self._sync()
        flat = self._flat
        self._initial_net = Network(flat.sizes, flat.activations, seed, flat.dtype)
        self.reset()

    # training

    def request_stop(self) -> None:
        """Ask a running `step` to return after its current step; thread-safe."""
        self._stop_request.set()

    def step(self, n: int = 1) -> float:
        """Run up to n minibatch steps; the cost of the last one.

        Returns early when a stop was requested, the run diverged or a stop
        condition was met; `stopped_reason` then says why.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(
                f"the number of steps must be a whole number >= 0, not {n!r}"
            )
        self._stop_request.clear()
        self._sync()
        self._check_fit()
        if self.diverged is not None:
            return self._last_cost
        self.stopped_reason = None
        stop_request = self._stop_request
        threads = self.blas_threads
        if threads == "auto":
            threads = auto_blas_threads(self.net.sizes, self._settings.batch_size)
        # overflow on the way to a divergence is detected, not warned about
        with limit_blas_threads(threads), np.errstate(all="ignore"):
            for _ in range(n):
                if self._should_stop():
                    break
                if stop_request.is_set() or not self._one_step():
                    break
            else:
                self._should_stop()
        return self._last_cost

    def _should_stop(self) -> bool:
        if self.steps < self._max_steps and not self._last_cost <= self._target:
            return False
        self._note_stop()
        return True

    def _note_stop(self) -> None:
        if self.steps >= self._max_steps:
            self.stopped_reason = f"the maximum of {self.steps} steps was reached"
        else:
            self.stopped_reason = (
                f"the target cost {self._settings.target_cost:g} was reached "
                f"at step {self.steps}"
            )

    def _next_plan(self) -> Plan:
        n = len(self.X)
        batch = self._settings.batch_size
        if batch >= n:
            plan = self._plans.get(-1)
            if plan is None:
                plan = Plan(self._flat, n, self._X_aug, self.Y)
                self._plans[-1] = plan
            self.last_batch_indices = self._all_rows
            self._position = n
            return plan
        if self._position >= n:
            self._order = self._rng.permutation(n)
            self._position = 0
        start = self._position
        stop = min(start + batch, n)
        rows = self._order[start:stop]
        self._position = stop
        plan = self._plans.get(stop - start)
        if plan is None:
            plan = Plan(self._flat, stop - start)
            self._plans[stop - start] = plan
        plan.load(self._X_aug, self.Y, rows)
        self.last_batch_indices = rows
        return plan

    def _one_step(self) -> bool:
        """One minibatch update; False when it diverged."""
        flat = self._flat
        plan = self._next_plan()
        cost = self._settings.cost

        # forward pass and cost
        plan.forward()
        value = plan.cost_and_output_delta(cost)
        if not math.isfinite(value):
            return self._diverge()

        # backward pass
        plan.backward()
        grad = flat.grad
        if flat.mask is not None:
            grad *= flat.mask

        # history: cost and per-layer gradient norms
        history = self.history
        norms = history.begin_row(self.steps + 1, value)
        for layer, segment in enumerate(flat.grad_segments):
            norms[layer] = np.dot(segment, segment)
        np.sqrt(norms, out=norms)

        # update, kept only if every parameter stays finite
        np.copyto(flat.backup, flat.theta)
        self._update(grad)
        total = float(flat.theta.sum())
        if not math.isfinite(total) and not np.isfinite(flat.theta).all():
            np.copyto(flat.theta, flat.backup)
            return self._diverge()

        history.commit_row()
        self.steps += 1
        if self._position >= len(self.X):
            self.epochs += 1
        self._last_cost = value
        self._last_plan = plan
        if self.X_test is not None and self.steps % self._settings.test_every == 0:
            history.append_test(
                self.steps, self.net.cost(self.X_test, self.Y_test, cost)
            )
        return True

    def _update(self, grad) -> None:
        flat = self._flat
        if self._l2_flags is not None or self._l1_flags is not None:
            effective = flat.effective
            np.copyto(effective, grad)
            if self._l2_flags is not None:
                np.multiply(flat.theta, self._l2_flags, out=flat.penalty)
                effective += flat.penalty
            if self._l1_flags is not None:
                np.sign(flat.theta, out=flat.penalty)
                flat.penalty *= self._l1_flags
                effective += flat.penalty
            grad = effective
        self._optimizer.update(grad, flat.update)
        if flat.mask is not None:
            flat.update *= flat.mask
        flat.theta -= flat.update

    def _diverge(self) -> bool:
        step = self.steps + 1
        self.diverged = (
            f"the cost became NaN/infinite at step {step}; the weights of step "
            f"{step - 1} are kept; try a smaller learning rate"
        )
        self.stopped_reason = self.diverged
        self._optimizer.reset()
        self._last_plan = None
        self._gradients_cache = None
        logger.info("training diverged at step %s", step)
        return False

    # results

    @property
    def last_gradients(self):
        """Gradients of the last step (None before the first); fresh copies."""
        plan = self._last_plan
        if plan is None:
            return None
        cached = self._gradients_cache
        if cached is None or cached[0] != self.steps:
            gradients = plan.gradients(self._last_cost, self._settings.cost)
            self._gradients_cache = cached = (self.steps, gradients)
        return cached[1]

    def accuracy(self, X=None, Y=None) -> float | None:
        """Fraction of examples classified right; None for regression."""
        if self.task != "classification":
            return None
        if X is None:
            X, Y = self.X, self.Y
        Y = np.asarray(Y)
        if len(Y) == 0:
            return None
        outputs = self.net.predict(np.asarray(X, self.net.dtype))
        if outputs.shape[1] == 1:
            right = (outputs[:, 0] > 0.5) == (Y.reshape(len(Y), -1)[:, 0] > 0.5)
        else:
            right = outputs.argmax(axis=1) == Y.argmax(axis=1)
        return float(right.mean())

    def evaluate(self, X, Y) -> tuple:
        """(cost, accuracy) of the network on (X, Y); accuracy None for regression."""
        X = _as_rows(X, "X", self.net.dtype)
        Y = _as_rows(Y, "Y", self.net.dtype)
        value = self.net.cost(X, Y, self._settings.cost)
        return value, self.accuracy(X, Y)

    @property
    def train_cost(self) -> float:
        """Cost over the whole training set with the current weights."""
        return self.net.cost(self.X, self.Y, self._settings.cost)

    def __repr__(self) -> str:
        return f"Trainer({self.net!r}, {self.steps} steps, {self._settings.optimizer})"
