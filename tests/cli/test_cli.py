"""The command line: exit statuses, one-line errors, progress, Ctrl+C."""

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from backprop_lab import cli
from backprop_lab.engine.network import Network
from backprop_lab.engine.trainer import Trainer, TrainingSettings
from backprop_lab.files.examples import example_paths
from backprop_lab.files.project import Project, load_project, save_project


def _bad_projects():
    path = Path(__file__).parents[1] / "files" / "bad_projects.py"
    spec = importlib.util.spec_from_file_location("bad_projects_for_cli", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bad_projects = _bad_projects()


def run(capsys, *argv):
    """main(argv) in this process: (status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_process(*argv, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "backprop_lab", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(err: str, fragment: str = ""):
    assert err.startswith("backprop-lab: ")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in err
    assert fragment in err


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("case", sorted(bad_projects.BAD_CASES))
@pytest.mark.parametrize("command", ["check", "train", "export"])
def test_every_bad_file_is_one_line_and_status_2(tmp_path, capsys, case, command):
    path, fragment = bad_projects.write_bad_project(tmp_path, case)
    extra = {
        "check": [],
        "train": ["--steps", "5"],
        "export": ["--format", "json", "-o", str(tmp_path / "o.json")],
    }[command]
    status, out, err = run(capsys, command, str(path), *extra)
    assert status == 2
    assert out == ""
    assert_one_line_error(err, fragment)
    assert str(path) in err


@pytest.mark.parametrize("case", ["not_utf8", "size_absurd", "missing_csv"])
def test_a_bad_file_in_a_real_process_has_no_traceback(tmp_path, case):
    path, fragment = bad_projects.write_bad_project(tmp_path, case)
    result = run_process("check", str(path))
    assert result.returncode == 2
    assert_one_line_error(result.stderr, fragment)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "xor"], "--steps"),
        (["train", "xor", "--steps", "0"], "not a positive number"),
        (["train", "xor", "--steps", "ten"], "'ten' is not a whole number"),
        (["train", "xor", "--steps", "10000001"], "more than one run takes"),
        (["export", "xor", "--format", "pdf", "-o", "x.pdf"], "invalid choice"),
        (["export", "xor", "--format", "npz"], "-o/--out"),
        (["check"], "project"),
        (["check", "xor", "--frobnicate"], "unrecognized arguments"),
        (["check", "moons"], "moons does not exist and is not an example"),
        (["--no-such-option"], "unrecognized arguments"),
        (["no/such/file.bplab"], "does not exist"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(capsys, argv, fragment):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, fragment)


def test_an_argument_error_in_a_real_process_has_no_traceback():
    result = run_process("train", "xor", "--steps", "-3")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "-3")


def test_help_exits_0_and_lists_the_commands():
    result = run_process("--help")
    assert result.returncode == 0
    assert "train, check, export" in result.stdout


# ---------------------------------------------------------------- train


def test_train_writes_the_trained_project(tmp_path, capsys):
    out = tmp_path / "xor-trained.bplab"
    status, stdout, err = run(
        capsys, "train", "xor", "--steps", "200", "--out", str(out)
    )
    assert status == 0
    assert f"wrote {out}" in stdout
    assert "step 200/200" in err and "steps/s" in err
    trained = load_project(out)
    assert list(trained.history.steps[[0, -1]]) == [1, 200]
    assert trained.history.grad_norms.shape == (200, 2)
    before = load_project(example_paths()["xor"]).network
    assert not np.array_equal(trained.network.weights[0], before.weights[0])


def test_training_an_example_never_overwrites_the_shipped_file(
    tmp_path, capsys, monkeypatch
):
    shipped = example_paths()["chain"].read_bytes()
    monkeypatch.chdir(tmp_path)
    status, _, _ = run(capsys, "train", "chain", "--steps", "20")
    assert status == 0
    assert example_paths()["chain"].read_bytes() == shipped
    assert load_project(tmp_path / "chain.bplab").history.steps[-1] == 20


@pytest.mark.parametrize(
    "out, fragment",
    [(".", "is a folder, not a file"), ("missing/p.bplab", "folder missing does")],
)
def test_an_unwritable_out_is_refused_before_training(
    tmp_path, capsys, monkeypatch, out, fragment
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Trainer, "step", lambda *args: pytest.fail("it trained"))
    status, stdout, err = run(capsys, "train", "xor", "--steps", "5", "--out", out)
    assert status == 2 and stdout == ""
    assert_one_line_error(err, fragment)


def test_training_again_continues_the_step_count(tmp_path, capsys):
    path = tmp_path / "p.bplab"
    run(capsys, "train", "xor", "--steps", "30", "--out", str(path))
    status, stdout, _ = run(capsys, "train", str(path), "--steps", "20")
    assert status == 0 and "trained to step 50" in stdout
    history = load_project(path).history
    np.testing.assert_array_equal(history.steps, np.arange(1, 51))


def test_progress_is_a_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = cli.main(["train", "chain", "--steps", "50", "--out", str(tmp_path / "c")])
    assert status == 0
    shown = terminal.getvalue()
    assert "\r[" + "#" * cli._Progress.WIDTH + "] step 50/50" in shown


def test_progress_is_plain_lines_when_not_a_terminal(tmp_path, capsys):
    status, _, err = run(
        capsys, "train", "chain", "--steps", "50", "--out", str(tmp_path / "c")
    )
    assert status == 0
    assert "\r" not in err
    assert err.splitlines()[-1].startswith("step 50/50  cost ")


def interrupting_step(after_calls: int):
    """Trainer.step that sends this process a SIGINT on its n-th call."""
    original = Trainer.step
    calls = {"n": 0}

    def step(self, n=1):
        calls["n"] += 1
        if calls["n"] == after_calls:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        return original(self, n)

    return step


def test_ctrl_c_stops_training_cleanly_and_still_writes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Trainer, "step", interrupting_step(3))
    out = tmp_path / "stopped.bplab"
    status, stdout, err = run(
        capsys, "train", "xor", "--steps", "1000000", "--out", str(out)
    )
    assert status == 130
    assert "stopped by Ctrl+C" in err
    project = load_project(out)
    steps = int(project.history.steps[-1])
    assert 0 < steps < 1000000
    assert f"trained to step {steps}" in stdout
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_a_real_process_writes_the_project(tmp_path):
    out = tmp_path / "digits.bplab"
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "train", "digits", "--steps",
         "10000000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    first = process.stderr.readline()  # the first progress line, after ~1 s
    assert first.startswith("step ")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "wrote" in stdout
    assert load_project(out).history.steps[-1] > 0


def test_a_diverging_run_keeps_finite_weights_and_exits_1(tmp_path, capsys):
    project = Project(
        network=Network([2, 8, 1], ["linear", "linear"], seed=0),
        settings=TrainingSettings(learning_rate=100.0),
        data={"kind": "builtin", "name": "plane"},
    )
    path = tmp_path / "wild.bplab"
    save_project(project, path)
    status, _, err = run(capsys, "train", str(path), "--steps", "500")
    assert status == 1
    assert "NaN/infinite" in err
    trained = load_project(path)
    assert all(np.isfinite(w).all() for w in trained.network.weights)


# ---------------------------------------------------------------- check


@pytest.mark.parametrize("name", ["chain", "xor", "spiral", "digits"])
def test_check_passes_on_every_example(capsys, name):
    status, out, _ = run(capsys, "check", name)
    assert status == 0
    assert out.startswith("largest relative error ") and out.rstrip().endswith("ok")


def test_check_uses_at_most_64_examples(capsys):
    status, out, _ = run(capsys, "check", "digits")
    assert status == 0 and "over 64 examples" in out


def test_check_fails_with_status_1_on_a_broken_gradient(capsys, monkeypatch):
    correct = Network.gradients

    def broken(self, *args, **kwargs):
        result = correct(self, *args, **kwargs)
        result.weights[-1] *= 1.01
        return result

    monkeypatch.setattr(Network, "gradients", broken)
    status, out, _ = run(capsys, "check", "xor")
    assert status == 1
    assert "FAILED" in out


# ---------------------------------------------------------------- export


def _outputs_of_export(fmt: str, path: Path, X):
    """The outputs of the exported network, computed without the engine."""
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {"input": X})[0]
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as npz:
            layers = [
                (npz[f"layer{i}.weight"], npz[f"layer{i}.bias"]) for i in (1, 2, 3)
            ]
    else:
        document = json.loads(path.read_text())
        layers = [
            (np.array(d["weight"]), np.array(d["bias"])) for d in document["layers"]
        ]
    a = X
    for W, b in layers[:-1]:
        a = np.maximum(a @ W.T + b, 0.0)  # relu
    z = a @ layers[-1][0].T + layers[-1][1]
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # softmax


@pytest.mark.parametrize("fmt", ["npz", "json", "onnx"])
def test_export_writes_each_format_with_the_project_network(tmp_path, capsys, fmt):
    out = tmp_path / f"net.{fmt}"
    status, stdout, _ = run(capsys, "export", "digits", "--format", fmt, "-o", str(out))
    assert status == 0 and stdout == f"wrote {out}\n"
    project = load_project(example_paths()["digits"])
    X = project.dataset.X_test[:20]
    expected = project.network.predict(X)
    np.testing.assert_allclose(
        _outputs_of_export(fmt, out, X), expected, rtol=0, atol=1e-12
    )


def test_export_json_holds_the_project_cost(tmp_path, capsys):
    out = tmp_path / "net.json"
    run(capsys, "export", "digits", "--format", "json", "-o", str(out))
    assert json.loads(out.read_text())["cost"] == "cross_entropy"


def test_export_csv_of_a_trained_project(tmp_path, capsys):
    trained = tmp_path / "t.bplab"
    run(capsys, "train", "xor", "--steps", "15", "--out", str(trained))
    out = tmp_path / "h.csv"
    status, _, _ = run(
        capsys, "export", str(trained), "--format", "csv", "-o", str(out)
    )
    assert status == 0
    assert len(out.read_text().splitlines()) == 16


def test_export_csv_of_an_untrained_project_is_status_2(tmp_path, capsys):
    out = tmp_path / "h.csv"
    status, _, err = run(capsys, "export", "xor", "--format", "csv", "-o", str(out))
    assert status == 2
    assert_one_line_error(err, "no training history")


def test_export_onnx_without_onnx_is_status_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    out = tmp_path / "n.onnx"
    status, _, err = run(capsys, "export", "xor", "--format", "onnx", "-o", str(out))
    assert status == 2
    assert_one_line_error(err, "pip install onnx")


def test_export_into_a_missing_folder_is_status_2(tmp_path, capsys):
    out = tmp_path / "nowhere" / "n.npz"
    status, _, err = run(capsys, "export", "xor", "--format", "npz", "-o", str(out))
    assert status == 2
    assert_one_line_error(err, "Cannot write")


# ---------------------------------------------------------------- the app


@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    module = types.ModuleType("backprop_lab.app.main")
    module.run = lambda project: calls.append(project) or 0
    monkeypatch.setitem(sys.modules, "backprop_lab.app.main", module)
    return calls


def test_no_command_starts_the_app_without_a_project(capsys, fake_app):
    assert cli.main([]) == 0
    assert fake_app == [None]


def test_an_example_name_opens_the_example_in_the_app(capsys, fake_app):
    assert cli.main(["spiral"]) == 0
    assert fake_app == [str(example_paths()["spiral"])]


def test_the_headless_commands_load_no_qt(tmp_path):
    code = (
        "import sys\n"
        "from backprop_lab.cli import main\n"
        f"main(['export', 'xor', '--format', 'onnx', '-o', {str(tmp_path / 'x')!r}])\n"
        "main(['check', 'chain'])\n"
        f"main(['train', 'chain', '--steps', '3', '--out', {str(tmp_path / 'c')!r}])\n"
        "qt = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph')]\n"
        "print('QT:' + ','.join(qt))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "QT:\n" in result.stdout
    assert load_project(tmp_path / "c").history.steps[-1] == 3
