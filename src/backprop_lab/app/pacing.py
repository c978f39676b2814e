"""How often the GUI may draw, so the training worker keeps its share.

Both threads run Python, so time the GUI thread spends drawing is time the
training worker waits for the interpreter.

- `hold_for`: the time the last snapshot took (updates and painting) sets how
  soon the next one is taken; the worker merges what comes meanwhile.
- `DrawPacer`: while training, views do not draw on every snapshot; they ask
  the pacer, which draws one of them per turn of the event loop, each at most
  at its own rate, and all together for at most DRAW_DUTY of the time. One
  drawing per turn keeps every pause of the GUI short.
- `DrawingGate`: the worker waits between chunks while a drawing and its
  painting run, so the GUI has the interpreter to itself meanwhile.
"""

import logging
import threading
import time
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, Qt, QTimer

logger = logging.getLogger(__name__)

# the share of the GUI thread's time that drawing snapshots may take
DUTY = 0.3
# the longest pause between two snapshots the pacing may ask for (seconds)
MAX_HOLD = 0.5
# the share of the GUI thread's time that paced drawings (and their painting)
# may take while training
DRAW_DUTY = 0.2
# the longest rest the pacer takes after one drawing (seconds)
MAX_REST = 0.25
# the longest a drawing and its painting keep the worker waiting (seconds)
GATE_TIMEOUT = 0.03


class DrawingGate:
    """Tells the training worker when the GUI thread is drawing (thread-safe).

    While the GUI draws and paints, the worker waits between its chunks of
    steps: both threads need the interpreter, and handing it back and forth
    makes each drawing several times slower than it is alone.
    """

    def __init__(self, timeout: float = GATE_TIMEOUT):
        # a closed gate opens by itself this long after closing (seconds), so
        # a drawing whose painting never comes cannot stop training
        self.timeout = timeout
        self._free = threading.Event()
        self._free.set()
        self._closed_until = 0.0

    def close(self) -> None:
        """The GUI starts drawing."""
        self._closed_until = time.perf_counter() + self.timeout
        self._free.clear()

    def open(self) -> None:
        """The GUI has drawn and painted."""
        self._free.set()

    def is_open(self) -> bool:
        return self._free.is_set() or time.perf_counter() >= self._closed_until

    def wait(self) -> bool:
        """Wait (worker thread) until the GUI is not drawing; False on timeout."""
        left = self._closed_until - time.perf_counter()
        if left <= 0.0:
            return True
        return self._free.wait(left)


# the gate between the pacer's drawings and the training worker
GATE = DrawingGate()


def hold_for(busy_seconds: float) -> float:
    """How long to wait before the next snapshot after `busy_seconds` of work."""
    return min(busy_seconds * (1.0 - DUTY) / DUTY, MAX_HOLD)


def rest_after(busy_seconds: float, duty: float = DRAW_DUTY) -> float:
    """The rest after `busy_seconds` of drawing that keeps drawing at `duty`."""
    return min(max(busy_seconds, 0.0) * (1.0 - duty) / duty, MAX_REST)


class DrawPacer(QObject):
    """Runs requested drawings one at a time, each at most once per interval.

    `request(key, draw, interval)` replaces any drawing still waiting under
    key (only the newest matters). The most overdue drawing, counted in its
    own intervals, runs first: when there is not time for all, each still
    draws in proportion to the rate it asked for.
    After each, the pacer rests in proportion to the time it took, painting
    included (reported with `add_paint`), so drawing uses about `duty` of the
    GUI thread.
    """

    def __init__(self, duty: float = DRAW_DUTY, parent=None, gate=GATE):
        super().__init__(parent)
        self.duty = duty
        self.gate = gate
        self._waiting: dict[Hashable, tuple[Callable[[], None], float]] = {}
        self._last: dict[Hashable, float] = {}
        self._free_at = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._run_next)

    def request(self, key: Hashable, draw: Callable[[], None], interval: float) -> None:
        """Draw `draw` soon, but no sooner than `interval` after key's last."""
        self._waiting[key] = (draw, interval)
        self._schedule()

    def cancel(self, key: Hashable) -> None:
        """Forget the drawing waiting under key (it was drawn some other way)."""
        self._waiting.pop(key, None)

    def drawn(self, key: Hashable) -> None:
        """key was just drawn outside the pacer: its interval starts now."""
        self._waiting.pop(key, None)
        self._last[key] = time.perf_counter()

    def is_waiting(self, key: Hashable) -> bool:
        return key in self._waiting

    def add_paint(self, seconds: float) -> None:
        """Painting that followed a drawing: the pacer rests for it too."""
        start = max(self._free_at, time.perf_counter())
        self._free_at = start + rest_after(seconds, self.duty)
        self.gate.open()

    def flush(self) -> None:
        """Run every waiting drawing now."""
        while self._waiting:
            key = next(iter(self._waiting))
            self._run(key)

    # --- internals ------------------------------------------------------------

    def _due_at(self, key: Hashable) -> float:
        return self._last.get(key, 0.0) + self._waiting[key][1]

    def _schedule(self) -> None:
        if not self._waiting:
            self._timer.stop()
            return
        now = time.perf_counter()
        soonest = min(self._due_at(key) for key in self._waiting)
        delay = max(soonest, self._free_at) - now
        milliseconds = max(int(delay * 1000.0 + 0.5), 1)
        if not self._timer.isActive() or self._timer.remainingTime() > milliseconds:
            self._timer.start(milliseconds)

    def _run_next(self) -> None:
        if not self._waiting:
            return
        now = time.perf_counter()
        due = [key for key in self._waiting if self._due_at(key) <= now]
        if due and self._free_at <= now:
            key = max(due, key=lambda k: self._lateness(k, now))
            busy = self._run(key)
            self._free_at = time.perf_counter() + rest_after(busy, self.duty)
        self._schedule()

    def _lateness(self, key: Hashable, now: float) -> float:
        """Time since key's last drawing, in its own intervals."""
        interval = max(self._waiting[key][1], 1e-3)
        return (now - self._last.get(key, 0.0)) / interval

    def _run(self, key: Hashable) -> float:
        draw, _ = self._waiting.pop(key)
        started = time.perf_counter()
        self._last[key] = started
        # the gate opens when the painting that follows is done
        self.gate.close()
        try:
            draw()
        except Exception:
            logger.exception("a paced drawing failed")
        return time.perf_counter() - started
