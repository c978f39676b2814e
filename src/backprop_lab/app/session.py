"""The GUI side of training: copies of the state and the worker's thread.

TrainingSession lives on the GUI thread. It keeps its own copy of the
network, the dataset, the settings and the cost history, sends commands to
the TrainingWorker and turns the worker's snapshots into signals.
"""

import ctypes
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from backprop_lab.app import worker
from backprop_lab.app.snapshot import Snapshot
from backprop_lab.app.views.history import GrowingArray
from backprop_lab.app.worker import Command, TrainingWorker
from backprop_lab.engine import Network, edits
from backprop_lab.engine.trainer import Trainer, TrainingSettings

logger = logging.getLogger(__name__)

# how long (seconds) one thread may keep the interpreter while another waits;
# Python's 5 ms default lets the training worker delay every step of the GUI's
# drawing (each call into numpy or Qt gives the interpreter up and waits again)
SWITCH_INTERVAL = 0.0005
# names of OpenBLAS's thread count setter in its various builds
BLAS_THREAD_SETTERS = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "scipy_openblas_set_num_threads64_",
)
# threads whose worker did not stop in time; kept so Qt never destroys them
_STRAGGLERS: list[QThread] = []


class HistoryBuffer:
    """The whole cost history seen by the GUI, grown from snapshot deltas.

    Rows are appended in place (amortised O(1) per step), so a long run does
    not copy its whole history with every snapshot. The attributes are views
    of the rows so far.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self._steps = GrowingArray(dtype=np.int64)
        self._train = GrowingArray()
        self._test_steps = GrowingArray(dtype=np.int64)
        self._test = GrowingArray()
        self._norms = GrowingArray((0,))

    @property
    def steps(self) -> np.ndarray:
        return self._steps.values

    @property
    def train(self) -> np.ndarray:
        return self._train.values

    @property
    def test_steps(self) -> np.ndarray:
        return self._test_steps.values

    @property
    def test(self) -> np.ndarray:
        return self._test.values

    @property
    def grad_norms(self) -> np.ndarray:
        return self._norms.values

    def __len__(self) -> int:
        return len(self._steps)

    def extend(self, snapshot: Snapshot) -> None:
        if snapshot.history_reset:
            self.clear()
        self._steps.append(snapshot.new_steps)
        self._train.append(snapshot.new_train_costs)
        self._test_steps.append(snapshot.new_test_steps)
        self._test.append(snapshot.new_test_costs)
        self._extend_norms(snapshot.new_grad_norms)

    def _extend_norms(self, rows: np.ndarray) -> None:
        if rows.shape[0] == 0:
            return
        if rows.ndim == 2 and rows.shape[1] == self._norms.values.shape[1]:
            self._norms.append(rows)
            return
        # a new number of layers: earlier rows are padded with NaN
        merged = worker.concat_norms(self.grad_norms, rows)
        self._norms = GrowingArray(merged.shape[1:])
        self._norms.append(merged)


def share_the_processor() -> None:
    """Leave the GUI thread the interpreter and a processor core while training.

    The interpreter is handed over every SWITCH_INTERVAL, and OpenBLAS keeps
    one core free: the worker's matrices are small, so more BLAS threads buy
    little and would take the core the GUI draws on.
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    cores = os.cpu_count() or 1
    if not limit_blas_threads(max(cores - 1, 1)):
        logger.debug("no OpenBLAS found; BLAS threads left as they are")


def limit_blas_threads(n: int) -> bool:
    """Ask the loaded OpenBLAS (Linux) to use n threads; False if not found."""
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return False
    paths = {
        line.split()[-1]
        for line in lines
        if "openblas" in line.lower() and ".so" in line.split()[-1]
    }
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in BLAS_THREAD_SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter(int(n))
                logger.debug("OpenBLAS uses %d threads", n)
                return True
    return False


def adapt_to_data(network: Network, dataset) -> Callable[[Network], Network] | None:
    """The edit that fits the input and output layers to the data, or None."""
    n_in, n_out = dataset.n_inputs, dataset.n_outputs
    if network.sizes[0] == n_in and network.sizes[-1] == n_out:
        return None

    def adapt(net: Network) -> Network:
        if net.sizes[0] != n_in:
            net = edits.set_input_size(net, n_in)
        if net.sizes[-1] != n_out:
            net = edits.set_output_size(net, n_out)
        return net

    return adapt


def _arrays(dataset) -> tuple:
    return (dataset.X_train, dataset.Y_train, dataset.X_test, dataset.Y_test)


class TrainingSession(QObject):
    """Owns the worker thread and the GUI-side copies of the training state."""

    # a new snapshot from the worker (GUI thread, at most worker.MAX_RATE a second)
    snapshot_ready = Signal(object)
    # the network was replaced by an edit, a reset or a load
    network_changed = Signal(object)
    # new data (the network's input and output layers already fit it)
    dataset_changed = Signal(object)
    # new training settings
    settings_changed = Signal(object)
    # the worker failed; the traceback as text
    error_occurred = Signal(str)
    # training started (True) or paused (False)
    running_changed = Signal(bool)

    def __init__(self, network: Network, dataset, settings=None, parent=None):
        super().__init__(parent)
        self._settings = settings or TrainingSettings()
        self._dataset = dataset
        adapt = adapt_to_data(network, dataset)
        self._network = adapt(network) if adapt else network.copy()
        self._snapshot: Snapshot | None = None
        self._running = False
        self._generation = 0
        self._network_generation = 0
        self.history = HistoryBuffer()
        self._stopped = False
        self._hold_until = 0.0
        self._take_timer = QTimer(self)
        self._take_timer.setSingleShot(True)
        self._take_timer.timeout.connect(self._on_snapshot_pending)
        trainer = self._make_trainer(self._network)
        self._worker = TrainingWorker(trainer)
        self._thread = QThread()
        self._thread.setObjectName("training worker")
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.start)
        self._worker.snapshot_pending.connect(self._on_snapshot_pending)
        self._worker.failed.connect(self._on_worker_failed)
        share_the_processor()
        self._thread.start()

    def _make_trainer(self, network: Network):
        return Trainer.from_settings(network.copy(), self._dataset, self._settings)

    # --- state ------------------------------------------------------------

    @property
    def network(self) -> Network:
        return self._network

    @property
    def dataset(self):
        return self._dataset

    @property
    def settings(self) -> TrainingSettings:
        return self._settings

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def running(self) -> bool:
        return self._running

    @property
    def thread(self) -> QThread:
        return self._thread

    # --- commands -----------------------------------------------------------

    def _post(self, kind: str, value=None, replaces_network=False) -> None:
        if self._stopped:
            logger.warning("the training worker has stopped; %s ignored", kind)
            return
        self._generation += 1
        if replaces_network:
            self._network_generation = self._generation
        self._worker.post(Command(kind, value, self._generation))

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.running_changed.emit(running)

    def play(self) -> None:
        self._post(worker.PLAY)
        self._set_running(True)

    def pause(self) -> None:
        self._post(worker.PAUSE)
        self._set_running(False)

    def toggle(self) -> None:
        self.pause() if self._running else self.play()

    def step_once(self, n: int = 1) -> None:
        self._post(worker.STEP, n)

    def reset(self) -> None:
        """Back to the initial weights (same seed); the history is cleared."""
        self._post(worker.RESET, replaces_network=True)

    def reinitialize(self, seed: int | None = None) -> None:
        """New random weights of the same architecture."""
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        self._post(worker.REINITIALIZE, seed, replaces_network=True)

    def set_settings(self, settings: TrainingSettings) -> None:
        """Raises ValueError naming the field when they cannot be used."""
        settings.validate(self._network.activations[-1])
        self._settings = settings
        self._post(worker.SETTINGS, settings)
        self.settings_changed.emit(settings)

    def apply_edit(self, apply: Callable[[Network], Network]) -> None:
        """Apply to the GUI copy now and to the trained network between steps.

        Raises ValueError (EditError) when refused; nothing is changed then.
        """
        edited = apply(self._network)
        if edited.activations[-1] != self._network.activations[-1]:
            self._settings.validate(edited.activations[-1])
        self._network = edited
        self._post(worker.EDIT, apply)
        self.network_changed.emit(edited)

    def set_dataset(self, dataset) -> None:
        """New data; the input and output layers follow its shape."""
        adapt = adapt_to_data(self._network, dataset)
        if adapt is not None:
            self._network = adapt(self._network)
        self._dataset = dataset
        self._post(worker.DATA, (adapt, _arrays(dataset)))
        self.history.clear()
        self.dataset_changed.emit(dataset)
        self.network_changed.emit(self._network)

    def load(self, network: Network, dataset, settings, history=None) -> None:
        """Replace everything, as when a project is opened; training pauses."""
        settings.validate(network.activations[-1])
        adapt = adapt_to_data(network, dataset)
        network = adapt(network) if adapt else network.copy()
        self._network, self._dataset, self._settings = network, dataset, settings
        trainer = self._make_trainer(network)
        if history is not None:
            trainer.restore_history(history)
        self._post(worker.LOAD, trainer)
        self._network_generation = self._generation
        self._set_running(False)
        self.history.clear()
        self.dataset_changed.emit(dataset)
        self.settings_changed.emit(settings)
        self.network_changed.emit(network)

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Ask the worker to stop and wait for its thread; True if it ended."""
        if self._stopped:
            return self._thread.isFinished()
        self._stopped = True
        self._worker.post(Command(worker.STOP))
        finished = self._thread.wait(timeout_ms)
        if not finished:
            self._thread.quit()
            logger.warning("the training worker did not stop in %s ms", timeout_ms)
            _STRAGGLERS.append(self._thread)
        self._set_running(False)
        return finished

    # --- worker results (GUI thread) ----------------------------------------

    def hold(self, seconds: float) -> None:
        """Take the next snapshot no sooner than `seconds` from now.

        Meanwhile the worker merges its snapshots into one, so nothing is lost.
        """
        self._hold_until = time.perf_counter() + seconds

    @Slot()
    def _on_snapshot_pending(self) -> None:
        delay = self._hold_until - time.perf_counter()
        if delay > 0:
            if not self._take_timer.isActive():
                self._take_timer.start(max(1, round(delay * 1000)))
            return
        taken = self._worker.take_snapshot()
        if taken is None:
            return
        snapshot, generation = taken
        self.history.extend(snapshot)
        if generation < self._generation:
            snapshot = dataclasses.replace(
                snapshot,
                network=self._network,
                weight_gradients=(),
                bias_gradients=(),
                running=self._running,
            )
        else:
            replaced = generation >= self._network_generation > 0
            self._network = snapshot.network
            self._set_running(snapshot.running)
            if replaced:
                self._network_generation = 0
                self.network_changed.emit(self._network)
        self._snapshot = snapshot
        self.snapshot_ready.emit(snapshot)

    @Slot(str)
    def _on_worker_failed(self, text: str) -> None:
        logger.error("training failed:\n%s", text)
        self._set_running(False)
        self.error_occurred.emit(text)
