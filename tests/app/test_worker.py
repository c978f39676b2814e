"""The training worker: chunks, commands, latest-wins snapshots, errors, stop."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QThread

from backprop_lab.app import worker as w
from backprop_lab.app.pacing import DrawingGate
from backprop_lab.app.snapshot import Snapshot
from backprop_lab.app.worker import Command, TrainingWorker, merge_snapshots
from backprop_lab.engine import Network
from backprop_lab.engine.trainer import Trainer


def xor_trainer(output="sigmoid", **options) -> Trainer:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    Y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)
    net = Network([2, 4, 1], ["tanh", output], seed=1)
    options.setdefault("learning_rate", 0.5)
    return Trainer(net, X[:100], Y[:100], X_test=X[100:], Y_test=Y[100:], **options)


class Running:
    """A worker on its own thread, with the snapshots the test took."""

    def __init__(self, trainer, max_rate=30.0, gate=None):
        gate = gate if gate is not None else DrawingGate()
        self.worker = TrainingWorker(trainer, max_rate=max_rate, gate=gate)
        self.thread = QThread()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.start)
        self.errors = []
        self.worker.failed.connect(self.errors.append)
        self.generation = 0
        self.thread.start()

    def post(self, kind, value=None):
        self.generation += 1
        self.worker.post(Command(kind, value, self.generation))

    def stop(self) -> bool:
        self.worker.post(Command(w.STOP))
        return self.thread.wait(1000)


@pytest.fixture
def running():
    made = []

    def start(trainer=None, **options):
        made.append(Running(trainer or xor_trainer(), **options))
        return made[-1]

    yield start
    for item in made:
        assert item.stop()


def collect(qtbot, run, until, timeout=5000):
    """Take snapshots as the GUI would until `until(snapshots)` holds."""
    taken = []

    def take():
        item = run.worker.take_snapshot()
        if item is not None:
            taken.append(item[0])

    run.worker.snapshot_pending.connect(take)
    take()
    qtbot.waitUntil(lambda: bool(taken) and until(taken), timeout=timeout)
    run.worker.snapshot_pending.disconnect(take)
    return taken


def steps_of(snapshots) -> np.ndarray:
    return np.concatenate([s.new_steps for s in snapshots])


def test_play_trains_and_snapshots_carry_each_step_once(qtbot, running):
    run = running()
    run.post(w.PLAY)
    snapshots = collect(qtbot, run, lambda s: s[-1].step > 300)
    steps = steps_of(snapshots)
    assert np.array_equal(steps, np.arange(1, len(steps) + 1))
    last = snapshots[-1]
    assert last.running and last.network.sizes == [2, 4, 1]
    assert [g.shape for g in last.weight_gradients] == [(4, 2), (1, 4)]
    assert last.new_grad_norms.shape[1] == 2
    assert last.train_accuracy is not None
    assert not run.errors


def test_snapshots_arrive_at_most_max_rate_a_second(qtbot, running):
    run = running()
    run.post(w.PLAY)
    started = time.perf_counter()
    snapshots = collect(qtbot, run, lambda s: time.perf_counter() - started > 1.0)
    assert len(snapshots) <= w.MAX_RATE + 10


def test_a_slow_consumer_never_makes_snapshots_queue(qtbot, running):
    run = running(max_rate=200.0)
    signals = []
    run.worker.snapshot_pending.connect(lambda: signals.append(1))
    run.post(w.PLAY)
    taken = []
    for _ in range(6):
        qtbot.wait(100)
        item = run.worker.take_snapshot()
        if item is not None:
            taken.append(item[0])
    qtbot.wait(50)
    # a signal is sent only when the slot was empty: one per take at most
    assert len(signals) <= len(taken) + 1
    steps = steps_of(taken)
    assert len(steps) > 50
    assert np.array_equal(steps, np.arange(1, len(steps) + 1))


def test_pause_stops_stepping_and_step_runs_exactly_one(qtbot, running):
    run = running()
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 50)
    run.post(w.PAUSE)
    paused = collect(qtbot, run, lambda s: not s[-1].running)[-1]
    qtbot.wait(100)
    run.post(w.STEP, 1)
    after = collect(qtbot, run, lambda s: s[-1].step > paused.step)[-1]
    assert after.step == paused.step + 1
    assert not after.running


def test_chunks_grow_until_each_takes_a_few_milliseconds(qtbot, running):
    run = running()
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 2000)
    assert 1 < run.worker._chunk <= w.MAX_CHUNK


def widen(net):
    """Add a fifth hidden neuron with small weights."""
    weights = [np.vstack([net.weights[0], [[0.1, -0.1]]]), None]
    weights[1] = np.hstack([net.weights[1], [[0.1]]])
    biases = [np.append(net.biases[0], 0.0), net.biases[1]]
    return Network.from_parameters(weights, biases, net.activations)


def test_an_edit_keeps_every_trained_weight(qtbot, running):
    run = running()
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 200)
    run.post(w.PAUSE)
    paused = collect(qtbot, run, lambda s: not s[-1].running)[-1]
    run.post(w.EDIT, widen)
    edited = collect(qtbot, run, lambda s: s[-1].network.sizes == [2, 5, 1])[-1]
    assert edited.step == paused.step
    assert np.array_equal(edited.network.weights[0][:4], paused.network.weights[0])
    assert np.array_equal(edited.network.weights[1][:, :4], paused.network.weights[1])


def test_an_edit_while_training_is_applied_and_training_goes_on(qtbot, running):
    run = running()
    run.post(w.PLAY)
    before = collect(qtbot, run, lambda s: s[-1].step > 200)[-1]
    run.post(w.EDIT, widen)
    edited = collect(
        qtbot, run, lambda s: s[-1].network.sizes == [2, 5, 1] and s[-1].running
    )[-1]
    later = collect(qtbot, run, lambda s: s[-1].step > edited.step + 100)[-1]
    assert later.network.sizes == [2, 5, 1] and edited.step >= before.step
    assert not np.array_equal(later.network.weights[0][4], [0.1, -0.1])
    assert not run.errors


def test_reset_goes_back_to_the_same_initial_weights(qtbot, running):
    run = running()
    first = collect(qtbot, run, lambda s: True)[-1].network
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 100)
    run.post(w.PAUSE)
    run.post(w.RESET)
    reset = collect(qtbot, run, lambda s: s[-1].history_reset and s[-1].step == 0)
    assert np.array_equal(reset[-1].network.weights[0], first.weights[0])


def test_an_exception_in_the_worker_reaches_the_gui_as_a_traceback(qtbot, running):
    run = running()

    def broken(net):
        raise RuntimeError("the edit broke")

    with qtbot.waitSignal(run.worker.failed, timeout=2000) as blocker:
        run.post(w.EDIT, broken)
    assert "RuntimeError: the edit broke" in blocker.args[0]
    assert "Traceback" in blocker.args[0]


def test_divergence_pauses_with_the_message_and_finite_weights(qtbot, running):
    run = running(xor_trainer("linear", learning_rate=10.0))
    run.post(w.PLAY)
    taken = collect(qtbot, run, lambda s: any(x.message for x in s))
    message = next(s.message for s in taken if s.message)
    assert "learning rate" in message
    final = taken[-1]
    assert not final.running
    assert all(np.isfinite(a).all() for a in final.network.weights)


def test_stop_while_training_ends_the_thread_within_a_second(qtbot):
    run = Running(xor_trainer())
    run.post(w.PLAY)
    qtbot.wait(200)
    started = time.perf_counter()
    assert run.stop()
    assert time.perf_counter() - started < 1.0


def _snapshot(steps, reset=False, message=None, norms_width=2):
    steps = np.asarray(steps, np.int64)
    return Snapshot(
        step=int(steps[-1]) if len(steps) else 0,
        epoch=0,
        steps_per_second=0.0,
        running=True,
        network=Network([1, 1], ["linear"]),
        new_steps=steps,
        new_train_costs=steps.astype(float),
        new_grad_norms=np.ones((len(steps), norms_width)),
        history_reset=reset,
        message=message,
    )


def test_merging_keeps_the_deltas_of_an_unread_snapshot():
    merged = merge_snapshots(_snapshot([1, 2], message="stopped"), _snapshot([3]))
    assert merged.new_steps.tolist() == [1, 2, 3]
    assert merged.new_train_costs.tolist() == [1.0, 2.0, 3.0]
    assert merged.new_grad_norms.shape == (3, 2)
    assert merged.step == 3 and merged.message == "stopped"


def test_merging_after_a_history_reset_drops_the_older_deltas():
    merged = merge_snapshots(_snapshot([7, 8]), _snapshot([1], reset=True))
    assert merged.new_steps.tolist() == [1] and merged.history_reset


def test_merging_pads_norms_when_the_number_of_layers_changed():
    merged = merge_snapshots(
        _snapshot([1], norms_width=2), _snapshot([2], norms_width=3)
    )
    assert merged.new_grad_norms.shape == (2, 3)
    assert np.isnan(merged.new_grad_norms[0, 2])


class _History:
    def __init__(self, costs):
        self.train = np.asarray(costs, float)
        self.steps = np.arange(1, len(costs) + 1)


def test_a_cost_fifty_times_its_start_counts_as_blown_up():
    watch = w.BlowUpWatch()
    assert watch.check(_History([0.7, 0.6, 0.5])) is None
    message = watch.check(_History([0.7, 0.6, 0.5, 40.0]))
    assert "at step 4" in message and "learning rate" in message


def test_a_falling_cost_never_counts_as_blown_up():
    watch = w.BlowUpWatch()
    costs = 0.7 * np.exp(-np.linspace(0, 5, 500)) + 0.01
    assert watch.check(_History(costs)) is None


def test_spiral_at_learning_rate_ten_pauses_with_advice(qtbot, running):
    from backprop_lab.engine.datasets import make_dataset
    from backprop_lab.engine.trainer import TrainingSettings

    data = make_dataset({"kind": "builtin", "name": "spiral", "seed": 0})
    net = Network([2, 8, 8, 1], ["relu", "relu", "sigmoid"], seed=0)
    settings = TrainingSettings(
        cost="cross_entropy", optimizer="adam", learning_rate=10.0
    )
    run = running(Trainer.from_settings(net, data, settings))
    run.post(w.PLAY)
    taken = collect(qtbot, run, lambda s: any(x.message for x in s))
    message = next(s.message for s in taken if s.message)
    assert "too large" in message and not taken[-1].running
    assert all(np.isfinite(a).all() for a in taken[-1].network.weights)


def test_history_buffer_grows_in_place_and_pads_a_new_layer_count():
    from backprop_lab.app.session import HistoryBuffer

    def delta(first, n, width, reset=False):
        return Snapshot(
            step=first + n,
            epoch=0,
            steps_per_second=0.0,
            running=True,
            network=None,
            new_steps=np.arange(first + 1, first + n + 1),
            new_train_costs=np.full(n, float(first)),
            new_grad_norms=np.ones((n, width)),
            history_reset=reset,
        )

    buffer = HistoryBuffer()
    for first in range(0, 3000, 30):
        buffer.extend(delta(first, 30, 2))
    assert np.array_equal(buffer.steps, np.arange(1, 3001))
    assert buffer.train[-1] == 2970.0 and buffer.grad_norms.shape == (3000, 2)
    buffer.extend(delta(3000, 5, 3))
    assert buffer.grad_norms.shape == (3005, 3)
    assert np.isnan(buffer.grad_norms[0, 2]) and buffer.grad_norms[-1, 2] == 1.0
    buffer.extend(delta(0, 4, 1, reset=True))
    assert len(buffer) == 4 and buffer.grad_norms.shape == (4, 1)


def test_training_leaves_the_gui_the_interpreter_and_a_core():
    import ctypes
    import sys

    from backprop_lab.app import session

    session.share_the_processor()
    assert sys.getswitchinterval() <= session.SWITCH_INTERVAL
    if not sys.platform.startswith("linux"):
        pytest.skip("OpenBLAS threads are set through /proc/self/maps on Linux")
    with open("/proc/self/maps") as maps:
        blas = [line.split()[-1] for line in maps if "openblas" in line.lower()]
    if not blas:
        pytest.skip("numpy is not linked against OpenBLAS here")
    assert session.limit_blas_threads(1)
    library = ctypes.CDLL(blas[0])
    getters = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_")
    getter = next(getattr(library, n) for n in getters if hasattr(library, n))
    assert getter() == 1


def test_the_worker_waits_between_chunks_while_the_gui_draws(qtbot, running):
    gate = DrawingGate(timeout=1.0)
    run = running(gate=gate)
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 20)
    gate.close()
    qtbot.wait(50)  # the chunk under way ends
    held = run.worker._trainer.steps
    qtbot.wait(100)
    assert run.worker._trainer.steps == held
    gate.open()
    qtbot.waitUntil(lambda: run.worker._trainer.steps > held, timeout=2000)


def test_a_gate_left_closed_opens_by_itself(qtbot, running):
    gate = DrawingGate(timeout=0.02)
    gate.close()
    assert not gate.is_open()
    run = running(gate=gate)
    run.post(w.PLAY)
    snapshots = collect(qtbot, run, lambda s: s[-1].step > 20, timeout=3000)
    assert snapshots[-1].running
    assert gate.is_open()  # it opened by itself


def test_accuracies_are_recomputed_at_most_every_accuracy_seconds(qtbot, running):
    trainer = xor_trainer()
    calls = []
    accuracy = trainer.accuracy
    trainer.accuracy = lambda *a: (calls.append(time.perf_counter()), accuracy(*a))[1]
    run = running(trainer)
    run.post(w.PLAY)
    started = time.perf_counter()
    snapshots = collect(qtbot, run, lambda s: time.perf_counter() - started > 1.0)
    assert snapshots[-1].train_accuracy is not None
    # train and test accuracy each time: two calls per recomputation
    assert len(calls) <= 2 * (1.0 / w.ACCURACY_SECONDS + 3)


def test_slow_steps_go_on_while_the_gui_draws(qtbot, running):
    trainer = xor_trainer()
    step = trainer.step

    def slow_step(n=1):
        time.sleep(2 * w.GATED_STEP_SECONDS * n)  # as a wide layer's BLAS would
        return step(n)

    trainer.step = slow_step
    gate = DrawingGate(timeout=5.0)
    run = running(trainer, gate=gate)
    run.post(w.PLAY)
    collect(qtbot, run, lambda s: s[-1].step > 5)
    gate.close()
    held = run.worker._trainer.steps
    qtbot.waitUntil(lambda: run.worker._trainer.steps > held + 5, timeout=2000)
    gate.open()
