"""The project file: exact round trips, atomic saves and one sentence per bad file."""

import json
import math
import os
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from bad_projects import BAD_CASES, valid_document, write_bad_project
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.engine.datasets import make_dataset
from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.network import Network
from backprop_lab.engine.trainer import TrainingSettings
from backprop_lab.files import project as project_module
from backprop_lab.files.project import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Project,
    ProjectError,
    load_project,
    project_from_text,
    project_to_text,
    save_project,
)


def bits(values) -> list:
    return [struct.pack("<d", v) for v in np.asarray(values, np.float64).ravel()]


def awkward_network() -> Network:
    """Weights that are hard to write as text: subnormal, -0.0, huge, tiny."""
    net = Network([2, 4, 1], ["leaky_relu", "sigmoid"], seed=5)
    rng = np.random.default_rng(5)
    net.weights[0][:] = rng.normal(0, 1, (4, 2)) / 3.0
    net.weights[1][0, :] = [5e-324, -0.0, 1.7976931348623157e308, 1e-300]
    net.biases[0][:] = rng.normal(0, 1e-3, 4)
    net.masks[0][1, 1] = 0.0
    net.weights[0][1, 1] = 0.0
    return net


def a_history() -> CostHistory:
    norms = np.array([[0.5, 0.25], [0.4, math.nan], [0.3, 0.125]])  # (steps, L)
    return CostHistory.from_arrays(
        [1, 2, 3], [0.9, 0.7, 1 / 3], [0, 2], [1.0, 0.6], norms
    )


def a_project(history=None) -> Project:
    return Project(
        network=awkward_network(),
        settings=TrainingSettings(
            cost="cross_entropy", optimizer="adam", learning_rate=0.003, l2=1e-4
        ),
        data={
            "kind": "builtin",
            "name": "gaussians",
            "n_points": 100,
            "noise": 0.1,
            "test_ratio": 0.5,
            "seed": 3,
        },
        history=history,
        name="awkward",
    )


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=300, deadline=None)
def test_python_floats_survive_json_bit_for_bit(value):
    assert bits([json.loads(json.dumps(value))]) == bits([value])


def test_weights_and_biases_load_back_bit_for_bit(tmp_path):
    project = a_project()
    save_project(project, tmp_path / "p.bplab")
    loaded = load_project(tmp_path / "p.bplab")
    net, back = project.network, loaded.network
    assert back.sizes == net.sizes and back.activations == net.activations
    for a, b in zip(back.weights + back.biases, net.weights + net.biases):
        assert a.dtype == np.float64
        assert bits(a) == bits(b)
    np.testing.assert_array_equal(back.masks[0], net.masks[0])
    assert loaded.settings == project.settings
    assert loaded.data == project.data
    assert loaded.name == "awkward"
    assert loaded.dataset.n_inputs == 2 and loaded.dataset.name == "gaussians"


def test_save_open_save_gives_the_same_bytes(tmp_path):
    first, second = tmp_path / "a.bplab", tmp_path / "b.bplab"
    save_project(a_project(a_history()), first)
    save_project(load_project(first), second)
    assert first.read_bytes() == second.read_bytes()


def test_history_round_trips_with_unmeasured_norms_as_null(tmp_path):
    path = tmp_path / "h.bplab"
    save_project(a_project(a_history()), path)
    assert '"grad_norms": [\n' in path.read_text()
    assert "null" in path.read_text()
    history = load_project(path).history
    np.testing.assert_array_equal(history.steps, [1, 2, 3])
    assert bits(history.train) == bits([0.9, 0.7, 1 / 3])
    np.testing.assert_array_equal(history.test_steps, [0, 2])
    np.testing.assert_array_equal(history.test, [1.0, 0.6])
    np.testing.assert_array_equal(
        history.grad_norms, [[0.5, 0.25], [0.4, math.nan], [0.3, 0.125]]
    )


def test_the_file_is_readable_json_with_one_row_per_line(tmp_path):
    path = tmp_path / "p.bplab"
    save_project(a_project(), path)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["format"] == FORMAT_NAME
    assert document["version"] == FORMAT_VERSION
    assert document["network"]["sizes"] == [2, 4, 1]
    assert '"sizes": [2, 4, 1],\n' in text
    assert document["network"]["layers"][0]["mask"][1] == [1, 0]
    assert max(len(line) for line in text.splitlines()) < 200


def test_trained_weights_survive_exactly(tmp_path):
    from backprop_lab.engine.trainer import Trainer

    project = a_project()
    project.network = Network([2, 4, 1], ["tanh", "sigmoid"], seed=1)
    dataset = make_dataset(project.data)
    trainer = Trainer.from_settings(project.network, dataset, project.settings)
    trainer.step(25)
    assert trainer.steps == 25 and trainer.diverged is None
    project.network, project.history = trainer.net, trainer.history
    save_project(project, tmp_path / "trained.bplab")
    loaded = load_project(tmp_path / "trained.bplab")
    for a, b in zip(loaded.network.weights, trainer.net.weights):
        assert bits(a) == bits(b)
    X = dataset.X_test
    assert bits(loaded.network.predict(X)) == bits(trainer.net.predict(X))
    assert bits(loaded.history.train) == bits(trainer.history.train)


def csv_project(folder: Path) -> Project:
    project = project_from_text(json.dumps(valid_document(folder)), "x", folder)
    return project


def test_a_csv_path_is_stored_relative_and_resolved_on_load(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    project = csv_project(data_dir)
    assert Path(project.data["path"]) == data_dir / "points.csv"
    (tmp_path / "work").mkdir()
    save_project(project, tmp_path / "work" / "p.bplab")
    stored = json.loads((tmp_path / "work" / "p.bplab").read_text())["data"]
    assert stored["path"] == "../data/points.csv"
    loaded = load_project(tmp_path / "work" / "p.bplab")
    assert Path(loaded.data["path"]) == data_dir / "points.csv"


def test_a_moved_folder_keeps_its_csv_data(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    save_project(csv_project(first), first / "p.bplab")
    moved = tmp_path / "moved"
    first.rename(moved)
    loaded = load_project(moved / "p.bplab")
    assert Path(loaded.data["path"]) == moved / "points.csv"


def test_a_relative_project_path_saves_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_project(a_project(), "here.bplab")
    assert load_project("here.bplab").name == "awkward"


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_each_bad_file_is_one_sentence_naming_the_file(tmp_path, case):
    path, fragment = write_bad_project(tmp_path, case)
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    message = str(caught.value)
    assert message.startswith(f"Cannot open {path}: ")
    assert fragment in message
    assert "\n" not in message and message.endswith(".")


def test_a_missing_file_is_one_sentence(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nothing.bplab")


def test_absurd_sizes_are_refused_before_anything_is_allocated(tmp_path):
    path, _ = write_bad_project(tmp_path, "size_absurd")
    tracemalloc.start()
    try:
        with pytest.raises(ProjectError):
            load_project(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_file_too_large_to_be_a_project_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.bplab"
    save_project(a_project(), path)
    with pytest.raises(ProjectError, match="larger than"):
        load_project(path)


def test_nothing_in_a_file_is_executed(tmp_path):
    document = json.loads(project_to_text(a_project()))
    document["name"] = "__import__('os').system('touch pwned')"
    document["settings"]["learning_rate"] = "__import__('os')"
    path = tmp_path / "evil.bplab"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectError, match="learning_rate"):
        load_project(path)
    assert not (tmp_path / "pwned").exists()


def test_a_duplicate_key_is_refused(tmp_path):
    text = project_to_text(a_project()).replace(
        '"name": "awkward",', '"name": "a", "name": "b",'
    )
    with pytest.raises(ProjectError, match="appears twice"):
        project_from_text(text, "dup.bplab")


def test_an_interrupted_save_leaves_the_old_file_loadable(tmp_path, monkeypatch):
    path = tmp_path / "p.bplab"
    save_project(a_project(), path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    changed = a_project(a_history())
    changed.name = "changed"
    with pytest.raises(ProjectError, match=r"Cannot save .*p\.bplab: no space left"):
        save_project(changed, path)
    assert path.read_bytes() == before
    assert load_project(path).name == "awkward"
    assert [p.name for p in tmp_path.iterdir()] == ["p.bplab"]


def test_a_save_killed_while_writing_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "p.bplab"
    save_project(a_project(), path)
    before = path.read_bytes()

    def killed(handle):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        save_project(a_project(a_history()), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.bplab"]


def test_saving_keeps_the_file_permissions(tmp_path):
    path = tmp_path / "p.bplab"
    save_project(a_project(), path)
    os.chmod(path, 0o640)
    save_project(a_project(), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_saving_into_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(ProjectError, match=r"Cannot save .*no_such.*\.$"):
        save_project(a_project(), tmp_path / "no_such" / "p.bplab")


def test_a_float32_network_loads_back_as_the_same_float32_values(tmp_path):
    project = a_project()
    project.network = Network([2, 4, 1], ["tanh", "sigmoid"], seed=3, dtype=np.float32)
    project.network.biases[0][:] = np.float32(1) / np.float32(3)
    path = tmp_path / "f32.bplab"
    save_project(project, path)
    assert json.loads(path.read_text())["network"]["dtype"] == "float32"
    loaded = load_project(path).network
    assert loaded.dtype == np.float32
    for a, b in zip(loaded.weights + loaded.biases, project.network.weights
                    + project.network.biases):  # fmt: skip
        assert a.dtype == np.float32 and a.tobytes() == b.tobytes()
    save_project(load_project(path), tmp_path / "again.bplab")
    assert (tmp_path / "again.bplab").read_bytes() == path.read_bytes()


def test_a_float64_network_writes_no_dtype_field(tmp_path):
    save_project(a_project(), tmp_path / "p.bplab")
    assert "dtype" not in json.loads((tmp_path / "p.bplab").read_text())["network"]


def test_a_save_in_a_process_killed_mid_write_leaves_the_old_file(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "p.bplab"
    save_project(a_project(), path)
    before = path.read_bytes()
    ready = tmp_path / "writing"
    code = (
        "import os, time\n"
        "from pathlib import Path\n"
        "from backprop_lab.files.project import load_project, save_project\n"
        "def stall(handle):\n"
        f"    Path({str(ready)!r}).touch()\n"
        "    time.sleep(60)\n"
        "os.fsync = stall\n"
        f"project = load_project({str(path)!r})\n"
        "project.name = 'changed'\n"
        f"save_project(project, {str(path)!r})\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), "the save never reached its write"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    (written,) = tmp_path.glob(".p.bplab.*.tmp")  # the new text, never renamed
    assert '"name": "changed"' in written.read_text()
    assert path.read_bytes() == before
    assert load_project(path).name == "awkward"


def test_a_long_history_is_saved_thinned_and_training_goes_on_from_its_end(
    tmp_path, monkeypatch
):
    from backprop_lab.engine.trainer import Trainer

    monkeypatch.setattr(project_module, "MAX_SAVED_ROWS", 500)
    n = 2000
    history = CostHistory.from_arrays(
        np.arange(1, n + 1), np.linspace(1.0, 0.5, n), [n], [0.6], np.ones((n, 2))
    )
    path = tmp_path / "long.bplab"
    save_project(a_project(history), path)
    loaded = load_project(path)
    assert len(loaded.history) == 500
    assert loaded.history.steps[[0, -1]].tolist() == [1, n]
    assert loaded.history.train[-1] == 0.5
    save_project(loaded, tmp_path / "again.bplab")
    assert (tmp_path / "again.bplab").read_bytes() == path.read_bytes()

    project = load_project(path)
    trainer = Trainer.from_settings(project.network, project.dataset, project.settings)
    trainer.restore_history(project.history)
    trainer.step(3)
    assert trainer.history.steps[-3:].tolist() == [n + 1, n + 2, n + 3]
