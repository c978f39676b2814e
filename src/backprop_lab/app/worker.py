"""The training worker: one QThread owns the Trainer.

Commands come in through a queue that is read between bounded chunks of
steps; a chunk lasts a few milliseconds so that pause, edits and stop take
effect at once. Results go out as immutable snapshots, at most MAX_RATE a
second. Only the newest waits in a one-place slot: a new snapshot replaces
an unread one (their history deltas merged), so nothing piles up when the
GUI is slow.
"""

import dataclasses
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from backprop_lab.app.pacing import GATE
from backprop_lab.app.snapshot import Snapshot

logger = logging.getLogger(__name__)

# commands understood by the worker
PLAY, PAUSE, STEP, RESET, REINITIALIZE = "play", "pause", "step", "reset", "reinit"
SETTINGS, EDIT, DATA, LOAD, STOP = "settings", "edit", "data", "load", "stop"

# a chunk of steps should last about this long (seconds)
CHUNK_SECONDS = 0.003
MAX_CHUNK = 5000
# steps shorter than this (seconds) are mostly interpreter work, so the worker
# waits while the GUI draws; longer steps are mostly BLAS, which runs beside
# the GUI without the interpreter, so the worker goes on
GATED_STEP_SECONDS = 0.0005
# snapshots per second at most: a little above the 30 a second the views
# need, as a chunk can end a few milliseconds after a snapshot is due
MAX_RATE = 36.0
# accuracies are recomputed at most this often (seconds); on the whole data
# they cost as much as several steps of a wide network
ACCURACY_SECONDS = 0.5
# a step whose cost is this many times the run's first cost has blown up
BLOWUP_FACTOR = 50.0


@dataclass(frozen=True)
class Command:
    """One request to the worker; generation orders it against snapshots."""

    kind: str
    value: Any = None
    generation: int = 0


def _concat(older: np.ndarray, newer: np.ndarray) -> np.ndarray:
    if older.size == 0:
        return newer
    if newer.size == 0:
        return older
    return np.concatenate([older, newer])


def concat_norms(older: np.ndarray, newer: np.ndarray) -> np.ndarray:
    """Stack (n, L) norm rows; a changed L is padded with NaN."""
    if older.shape[0] == 0:
        return newer
    if newer.shape[0] == 0:
        return older
    width = max(older.shape[1], newer.shape[1])

    def pad(rows):
        extra = np.full((rows.shape[0], width - rows.shape[1]), np.nan)
        return np.hstack([rows, extra])

    return np.vstack([pad(older), pad(newer)])


def merge_snapshots(older: Snapshot, newer: Snapshot) -> Snapshot:
    """`newer` carrying the history deltas of an unread `older` too."""
    if newer.history_reset:
        return newer
    return dataclasses.replace(
        newer,
        new_steps=_concat(older.new_steps, newer.new_steps),
        new_train_costs=_concat(older.new_train_costs, newer.new_train_costs),
        new_test_steps=_concat(older.new_test_steps, newer.new_test_steps),
        new_test_costs=_concat(older.new_test_costs, newer.new_test_costs),
        new_grad_norms=concat_norms(older.new_grad_norms, newer.new_grad_norms),
        history_reset=older.history_reset,
        message=newer.message or older.message,
    )


class BlowUpWatch:
    """Notices a cost that jumped far above the cost the run started from.

    The trainer stops by itself on a NaN or infinite cost; a cost that is
    still finite but many times its start (a learning rate far too large,
    such as 10 on the spiral) pauses training too.
    """

    def __init__(self, factor: float = BLOWUP_FACTOR):
        self.factor = factor
        self.checked = 0

    def reset(self) -> None:
        self.checked = 0

    def check(self, history) -> str | None:
        """A sentence for the user if a new step's cost blew up, else None."""
        costs = history.train
        if len(costs) < self.checked:
            self.checked = 0
        start, self.checked = self.checked, len(costs)
        if len(costs) == 0 or not np.isfinite(costs[0]) or costs[0] <= 0:
            return None
        limit = self.factor * costs[0]
        above = np.flatnonzero(costs[start:] > limit)
        if above.size == 0:
            return None
        row = start + int(above[0])
        return (
            f"the cost jumped from {costs[0]:.3g} to {costs[row]:.3g} at step "
            f"{int(history.steps[row])}: the learning rate is too large for this "
            "network; try one ten times smaller, then Reset"
        )


class TrainingWorker(QObject):
    """Owns a Trainer and runs it in chunks on the thread it was moved to.

    `post` and `take_snapshot` are called on the GUI thread; every other
    method runs on the worker thread.
    """

    # a snapshot is waiting in the slot; fetch it with take_snapshot()
    snapshot_pending = Signal()
    # a command or a chunk raised; the traceback as text
    failed = Signal(str)
    # the worker will run no more steps (after a stop command)
    stopped = Signal()
    # emitted by post() so that the worker's event loop reads the queue
    _wake = Signal()

    def __init__(self, trainer, max_rate: float = MAX_RATE, gate=GATE):
        super().__init__()
        self._trainer = trainer
        self._gate = gate
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: tuple[Snapshot, int] | None = None
        self._min_interval = 1.0 / max_rate
        self._timer: QTimer | None = None
        self._running = False
        self._finished = False
        self._generation = 0
        self._chunk = 1
        self._step_seconds = 0.0  # how long one step took in the last chunk
        self._sent_train = 0
        self._sent_test = 0
        self._history = None
        self._history_reset = True
        self._message: str | None = None
        self._last_publish = 0.0
        self._rate_mark = (time.perf_counter(), 0)
        self._rate = 0.0
        self._accuracy: tuple[float | None, float | None] = (None, None)
        self._accuracy_time = -1.0
        self._blowup = BlowUpWatch()
        self._wake.connect(self._on_wake)

    # --- GUI thread -------------------------------------------------------

    def post(self, command: Command) -> None:
        """Queue a command and wake the worker (any thread)."""
        logger.debug("submitting %s", command.kind)
        self._commands.put(command)
        if command.kind == STOP or command.kind == PAUSE:
            self._trainer.request_stop()
        self._wake.emit()

    def take_snapshot(self) -> tuple[Snapshot, int] | None:
        """The newest snapshot and the command generation it reflects."""
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    # --- worker thread ----------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Create the chunk timer on the worker thread; publish the start."""
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_chunk)
        self._publish(force=True)
        self._on_wake()

    @Slot()
    def _on_wake(self) -> None:
        if self._timer is None or self._finished:
            return
        changed = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            changed = True
            self._guarded(self._handle, command)
            self._generation = max(self._generation, command.generation)
            if self._finished:
                return
        self._sync_timer()
        if changed:
            self._publish(force=True)

    def _guarded(self, function: Callable, *args) -> bool:
        """Run `function`; on an exception pause and send the traceback."""
        try:
            function(*args)
        except Exception:
            self._running = False
            text = traceback.format_exc()
            logger.debug("worker caught an exception; sending it to the GUI")
            self.failed.emit(text)
            return False
        return True

    def _handle(self, command: Command) -> None:
        logger.debug("worker handles %s", command.kind)
        trainer = self._trainer
        kind, value = command.kind, command.value
        if kind == PLAY:
            self._message = None
            self._running = True
            self._rate_mark = (time.perf_counter(), trainer.steps)
        elif kind == PAUSE:
            self._running = False
        elif kind == STEP:
            self._message = None
            trainer.step(int(value or 1))
            self._check_stopped()
        elif kind == RESET:
            trainer.reset()
            self._clear_history()
        elif kind == REINITIALIZE:
            trainer.reinitialize(value)
            self._clear_history()
        elif kind == SETTINGS:
            trainer.set_settings(value)
        elif kind == EDIT:
            trainer.set_network(value(trainer.net))
        elif kind == DATA:
            adapt, arrays = value
            if adapt is not None:
                trainer.set_network(adapt(trainer.net))
            trainer.set_data(*arrays)
            self._clear_history()
        elif kind == LOAD:
            self._trainer = value
            self._running = False
            self._clear_history()
        elif kind == STOP:
            self._finish()
        else:
            raise ValueError(f"unknown worker command {kind!r}")

    def _finish(self) -> None:
        self._running = False
        self._finished = True
        if self._timer is not None:
            self._timer.stop()
        self.stopped.emit()
        QThread.currentThread().quit()

    def _clear_history(self) -> None:
        self._sent_train = self._sent_test = 0
        self._history_reset = True
        self._message = None
        self._accuracy_time = -1.0
        self._blowup.reset()

    def _sync_timer(self) -> None:
        if self._running and not self._timer.isActive():
            self._timer.start()
        elif not self._running and self._timer.isActive():
            self._timer.stop()

    @Slot()
    def _run_chunk(self) -> None:
        if self._commands.qsize():
            self._on_wake()
        if not self._running or self._finished:
            self._sync_timer()
            return
        if self._step_seconds < GATED_STEP_SECONDS:
            self._gate.wait()  # the GUI is drawing: leave it the interpreter
        started = time.perf_counter()
        ok = self._guarded(self._trainer.step, self._chunk)
        self._adapt_chunk(time.perf_counter() - started)
        if ok:
            self._check_stopped()
        self._sync_timer()
        self._publish(force=not self._running)

    def _adapt_chunk(self, elapsed: float) -> None:
        """Grow or shrink the chunk so that it lasts about CHUNK_SECONDS."""
        self._step_seconds = max(elapsed, 0.0) / max(self._chunk, 1)
        if elapsed <= 0:
            self._chunk = min(self._chunk * 2, MAX_CHUNK)
            return
        factor = min(max(CHUNK_SECONDS / elapsed, 0.5), 2.0)
        self._chunk = int(min(max(self._chunk * factor, 1), MAX_CHUNK))

    def _check_stopped(self) -> None:
        trainer = self._trainer
        blown = self._blowup.check(trainer.history)
        reason = trainer.diverged or blown or trainer.stopped_reason
        if reason:
            self._running = False
            self._message = reason
            logger.debug("training stopped: %s", reason)

    # --- snapshots (worker thread) ------------------------------------------

    def _publish(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_publish < self._min_interval:
            return
        self._last_publish = now
        try:
            snapshot = self._make_snapshot(now)
        except Exception:
            self._running = False
            self.failed.emit(traceback.format_exc())
            return
        with self._lock:
            if self._pending is not None:
                snapshot = merge_snapshots(self._pending[0], snapshot)
            notify = self._pending is None
            self._pending = (snapshot, self._generation)
        if notify:
            self.snapshot_pending.emit()

    def _steps_per_second(self, now: float) -> float:
        mark_time, mark_steps = self._rate_mark
        steps = self._trainer.steps
        if not self._running:
            self._rate = 0.0
        elif now - mark_time > 0.2:
            self._rate = (steps - mark_steps) / (now - mark_time)
            self._rate_mark = (now, steps)
        return self._rate

    def _accuracies(self, now: float) -> tuple[float | None, float | None]:
        if now - self._accuracy_time < ACCURACY_SECONDS:
            return self._accuracy
        trainer = self._trainer
        train = trainer.accuracy()
        test = None
        if trainer.X_test is not None and len(trainer.X_test):
            test = trainer.accuracy(trainer.X_test, trainer.Y_test)
        self._accuracy = (train, test)
        self._accuracy_time = now
        return self._accuracy

    def _history_delta(self) -> dict:
        history = self._trainer.history
        if history is not self._history or len(history.train) < self._sent_train:
            self._history = history
            self._sent_train = self._sent_test = 0
            self._history_reset = True
        start, test_start = self._sent_train, self._sent_test
        self._sent_train, self._sent_test = len(history.train), len(history.test)
        return {
            "new_steps": np.array(history.steps[start:], dtype=np.int64),
            "new_train_costs": np.array(history.train[start:], dtype=float),
            "new_test_steps": np.array(history.test_steps[test_start:], np.int64),
            "new_test_costs": np.array(history.test[test_start:], dtype=float),
            "new_grad_norms": _norm_rows(history.grad_norms, start),
        }

    def _make_snapshot(self, now: float) -> Snapshot:
        trainer = self._trainer
        gradients = trainer.last_gradients
        weight_gradients: tuple = ()
        bias_gradients: tuple = ()
        if gradients is not None:
            weight_gradients = tuple(np.array(g) for g in gradients.weights)
            bias_gradients = tuple(np.array(g) for g in gradients.biases)
        batch = getattr(trainer, "last_batch_indices", None)
        train_accuracy, test_accuracy = self._accuracies(now)
        delta = self._history_delta()
        snapshot = Snapshot(
            step=int(trainer.steps),
            epoch=int(trainer.epochs),
            steps_per_second=self._steps_per_second(now),
            running=self._running,
            network=trainer.net.copy(),
            weight_gradients=weight_gradients,
            bias_gradients=bias_gradients,
            batch_indices=np.array(batch if batch is not None else [], np.int64),
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
            history_reset=self._history_reset,
            message=self._message,
            **delta,
        )
        self._history_reset = False
        self._message = None
        return snapshot


def _norm_rows(norms, start: int) -> np.ndarray:
    rows = np.array(norms[start:], dtype=float)
    if rows.ndim != 2:
        rows = rows.reshape(len(rows), -1) if rows.size else np.zeros((0, 0))
    return rows
