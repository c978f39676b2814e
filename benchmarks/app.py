"""How the real window keeps up while it trains (offscreen).

For each case the window trains for a while with every view that applies
open, and this measures:
- ratio: in-app steps per second over headless Trainer steps per second,
  both measured in this run on the same network, data and settings; the
  headless rate is measured just before and just after the in-app run and
  averaged, as the machine's speed drifts (shared cores);
- updates_per_s: snapshots handed to the views per second (each view
  records every one; how often it redraws is paced separately);
- draws_per_s: how often each open view actually redrew, per second;
- stall_p50_ms, stall_p99_ms, stall_max_ms: how late a 5 ms heartbeat timer
  on the GUI thread fires.

Cases: spiral 2-8-8-1 (every view), then 784-128-10 on digits-shaped random
data. The last line printed is one JSON object.

    python benchmarks/app.py [--seconds 10] [--headless-seconds 3]
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from backprop_lab.app.main_window import MainWindow  # noqa: E402
from backprop_lab.engine import Network  # noqa: E402
from backprop_lab.engine.datasets import Dataset, make_dataset  # noqa: E402
from backprop_lab.engine.trainer import Trainer, TrainingSettings  # noqa: E402

HEARTBEAT_MS = 5


def spiral_case():
    data = make_dataset({"kind": "builtin", "name": "spiral", "n_points": 400})
    net = Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    settings = TrainingSettings(
        cost="cross_entropy", optimizer="adam", learning_rate=0.01, batch_size=10
    )
    return net, data, settings


def wide_case():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, (2000, 784))
    labels = rng.integers(0, 10, 2000)
    Y = np.eye(10)[labels]
    data = Dataset(
        name="digits-shaped", X_train=X[:1500], Y_train=Y[:1500], X_test=X[1500:],
        Y_test=Y[1500:], task="classification", n_classes=10,
        source={"kind": "digits", "test_ratio": 0.25, "seed": 0},
    )  # fmt: skip
    net = Network([784, 128, 10], ["relu", "softmax"], seed=0)
    settings = TrainingSettings(
        cost="cross_entropy", optimizer="adam", learning_rate=0.001, batch_size=32
    )
    return net, data, settings


def headless_rate(net, data, settings, seconds: float) -> float:
    """Steps per second of a bare Trainer on this thread."""
    trainer = Trainer.from_settings(net.copy(), data, settings)
    trainer.step(20)
    started, steps = time.perf_counter(), trainer.steps
    while time.perf_counter() - started < seconds:
        trainer.step(50)
    return (trainer.steps - steps) / (time.perf_counter() - started)


def wait(app, milliseconds: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def open_every_view(window) -> int:
    """Lay the docks of every applying view side by side; how many are open."""
    open_docks = []
    for view, dock in zip(window.views, window.view_docks, strict=True):
        if view.applies_to(window.session.dataset):
            open_docks.append(dock)
    area = Qt.DockWidgetArea.BottomDockWidgetArea
    for dock in open_docks:
        window.removeDockWidget(dock)
        window.addDockWidget(area, dock)
        dock.show()
    for left, right in zip(open_docks, open_docks[1:]):
        window.splitDockWidget(left, right, Qt.Orientation.Horizontal)
    return len(open_docks)


def count_draws(window) -> dict:
    """Count each shown view's redraws (its _draw calls), by title."""
    counts = {}
    for view, dock in zip(window.views, window.view_docks, strict=True):
        if not dock.isVisible():
            continue
        counts[view.title] = 0

        def counted(draw=view._draw, title=view.title):
            counts[title] += 1
            draw()

        view._draw = counted
    return counts


class Heartbeat:
    """A 5 ms timer on the GUI thread; records how late each tick is."""

    def __init__(self):
        self.late_ms: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.last = None

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max((now - self.last) * 1000.0 - HEARTBEAT_MS, 0.0))
        self.last = now


def in_app(app, window, net, data, settings, seconds: float) -> dict:
    session = window.session
    session.load(net.copy(), data, settings)
    views_open = open_every_view(window)
    wait(app, 500)
    updates = []
    session.snapshot_ready.connect(lambda s: updates.append(s.step))
    draws = count_draws(window)
    heartbeat = Heartbeat()
    session.play()
    wait(app, 300)
    first = session.snapshot.step
    updates.clear()
    for title in draws:
        draws[title] = 0
    heartbeat.start()
    started = time.perf_counter()
    wait(app, int(seconds * 1000))
    elapsed = time.perf_counter() - started
    last = session.snapshot.step
    heartbeat.stop()
    session.pause()
    wait(app, 200)
    late = np.array(heartbeat.late_ms)
    return {
        "steps_per_s": (last - first) / elapsed,
        "updates_per_s": len(updates) / elapsed,
        "draws_per_s": {t: round(n / elapsed, 1) for t, n in draws.items()},
        "stall_p50_ms": float(np.percentile(late, 50)),
        "stall_p99_ms": float(np.percentile(late, 99)),
        "stall_max_ms": float(late.max()),
        "views_open": views_open,
    }


def run_case(app, window, name, case, seconds, headless_seconds) -> dict:
    net, data, settings = case()
    before = headless_rate(net, data, settings, headless_seconds / 2)
    measured = in_app(app, window, net, data, settings, seconds)
    after = headless_rate(net, data, settings, headless_seconds / 2)
    headless = (before + after) / 2
    result = {
        "ratio": round(measured["steps_per_s"] / headless, 3),
        "updates_per_s": round(measured["updates_per_s"], 1),
        "stall_p50_ms": round(measured["stall_p50_ms"], 2),
        "stall_p99_ms": round(measured["stall_p99_ms"], 2),
        "stall_max_ms": round(measured["stall_max_ms"], 2),
        "app_steps_per_s": round(measured["steps_per_s"]),
        "headless_steps_per_s": round(headless),
        "headless_before_after": [round(before), round(after)],
        "views_open": measured["views_open"],
        "draws_per_s": measured["draws_per_s"],
    }
    print(f"{name}: {json.dumps(result)}", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--headless-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        store = QSettings(f"{folder}/settings.ini", QSettings.Format.IniFormat)
        window = MainWindow(store=store)
        window.resize(1600, 1000)
        window.show()
        results = {}
        for name, case in (("spiral", spiral_case), ("wide", wide_case)):
            results[name] = run_case(
                app, window, name, case, args.seconds, args.headless_seconds
            )
        window.mark_saved()
        window.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
