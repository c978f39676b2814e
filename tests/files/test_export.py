"""Exports of a network: NPZ, JSON, ONNX and the history CSV; NPZ import."""

import csv
import json
import re
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.network import Network
from backprop_lab.files.export import (
    ONNX_INPUT,
    ONNX_IR_VERSION,
    ONNX_OPSET,
    ONNX_OUTPUT,
    ExportError,
    export_history_csv,
    export_json,
    export_npz,
    export_onnx,
    import_npz_weights,
)


def trained_looking(sizes, activations, seed=0):
    """A network with non-zero biases and one removed connection."""
    net = Network(sizes, activations, seed=seed)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[:] = rng.normal(0, 0.5, b.shape)
    net.masks[0][0, 0] = 0.0
    net.weights[0][0, 0] = 0.0
    return net


def test_npz_holds_each_layer_in_n_out_by_n_in_layout(tmp_path):
    net = trained_looking([3, 5, 2], ["tanh", "sigmoid"])
    path = tmp_path / "w.npz"
    export_npz(net, path, cost="quadratic")
    with np.load(path, allow_pickle=False) as npz:
        assert npz["layer1.weight"].shape == (5, 3)
        assert npz["layer2.weight"].shape == (2, 5)
        assert npz["layer2.bias"].shape == (2,)
        np.testing.assert_array_equal(npz["layer1.weight"], net.weights[0])
        np.testing.assert_array_equal(npz["layer2.bias"], net.biases[1])
        assert list(npz["activations"]) == ["tanh", "sigmoid"]
        assert str(npz["cost"]) == "quadratic"
        assert list(npz["sizes"]) == [3, 5, 2]
        assert npz["layer1.mask"][0, 0] == 0


def test_npz_import_restores_weights_biases_and_masks_exactly(tmp_path):
    net = trained_looking([4, 6, 3], ["relu", "softmax"], seed=3)
    path = tmp_path / "w.npz"
    export_npz(net, path)
    fresh = Network([4, 6, 3], ["relu", "softmax"], seed=99)
    loaded = import_npz_weights(fresh, path)
    for a, b in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.masks[0], net.masks[0])
    assert fresh.weights[0][0, 0] != 0.0  # the target network is not changed


def test_npz_import_without_metadata_keeps_the_network_masks(tmp_path):
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    path = tmp_path / "plain.npz"
    np.savez(
        path,
        **{
            "layer1.weight": np.ones((3, 2)),
            "layer1.bias": np.zeros(3),
            "layer2.weight": np.ones((1, 3)),
            "layer2.bias": np.zeros(1),
        },
    )
    loaded = import_npz_weights(net, path)
    np.testing.assert_array_equal(loaded.weights[0], np.ones((3, 2)))


def test_npz_import_refuses_shapes_that_disagree_with_the_network(tmp_path):
    path = tmp_path / "w.npz"
    export_npz(Network([2, 4, 1], ["tanh", "sigmoid"]), path)
    with pytest.raises(ExportError, match=r"w\.npz.*shape \(4, 2\).*\(3, 2\)"):
        import_npz_weights(Network([2, 3, 1], ["tanh", "sigmoid"]), path)


def test_npz_import_refuses_extra_layers_and_other_activations(tmp_path):
    path = tmp_path / "w.npz"
    export_npz(Network([2, 2, 2, 1], ["tanh", "tanh", "sigmoid"]), path)
    two_layers = Network([2, 2, 2], ["tanh", "sigmoid"])
    with pytest.raises(ExportError, match="more layers"):
        import_npz_weights(two_layers, path)
    other = Network([2, 2, 2, 1], ["relu", "tanh", "sigmoid"])
    with pytest.raises(ExportError, match="activations"):
        import_npz_weights(other, path)


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = {"not": "numbers"}
    np.savez(path, **{"layer1.weight": payload, "layer1.bias": np.zeros(1)})
    net = Network([1, 1], ["linear"])
    with pytest.raises(ExportError, match=r"evil\.npz holds pickled objects"):
        import_npz_weights(net, path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not an NPZ"),
        (b"PK\x03\x04 broken zip", "not an NPZ"),
        (b"\x80\x04K\x01.", "not an NPZ"),
    ],
)
def test_npz_import_refuses_files_that_are_not_npz(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=message):
        import_npz_weights(Network([1, 1], ["linear"]), path)


def test_npz_import_refuses_nan_and_a_folder(tmp_path):
    path = tmp_path / "nan.npz"
    np.savez(path, **{"layer1.weight": np.full((1, 1), np.nan), "layer1.bias": [0.0]})
    with pytest.raises(ExportError, match="NaN"):
        import_npz_weights(Network([1, 1], ["linear"]), path)
    with pytest.raises(ExportError, match="folder"):
        import_npz_weights(Network([1, 1], ["linear"]), tmp_path)


def test_json_export_holds_the_same_numbers_as_the_network(tmp_path):
    net = trained_looking([2, 3, 2], ["leaky_relu", "softmax"])
    path = tmp_path / "w.json"
    export_json(net, path, cost="cross_entropy")
    document = json.loads(path.read_text())
    assert document["format"] == "backprop-lab-weights"
    assert document["sizes"] == [2, 3, 2]
    assert document["activations"] == ["leaky_relu", "softmax"]
    assert document["cost"] == "cross_entropy"
    for layer, w, b in zip(document["layers"], net.weights, net.biases):
        np.testing.assert_array_equal(np.array(layer["weight"]), w)
        np.testing.assert_array_equal(np.array(layer["bias"]), b)
    assert document["layers"][0]["mask"][0][0] == 0


@pytest.mark.parametrize("hidden", [a for a in ACTIVATIONS if a != "softmax"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_onnx_runs_in_onnxruntime_with_the_engine_outputs(tmp_path, hidden, output):
    ort = pytest.importorskip("onnxruntime")
    net = trained_looking([5, 7, 6, 3], [hidden, hidden, output], seed=4)
    path = tmp_path / "net.onnx"
    export_onnx(net, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(5).normal(0, 2, (50, 5))
    (outputs,) = session.run([ONNX_OUTPUT], {ONNX_INPUT: X})
    assert outputs.shape == (50, 3)
    assert np.max(np.abs(outputs - net.predict(X))) <= 1e-6


def test_onnx_float32_export_stays_within_float32_rounding(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = trained_looking([64, 16, 16, 10], ["relu", "tanh", "softmax"])
    path = tmp_path / "net32.onnx"
    export_onnx(net, path, dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(6).uniform(0, 1, (100, 64))
    (outputs,) = session.run(None, {ONNX_INPUT: X.astype(np.float32)})
    assert np.max(np.abs(outputs - net.predict(X))) <= 1e-5


def test_onnx_declares_its_opset_ir_version_and_named_shapes(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "net.onnx"
    export_onnx(Network([3, 4, 2], ["relu", "softmax"]), path)
    model = onnx.load(str(path))
    assert model.ir_version == ONNX_IR_VERSION
    assert model.opset_import[0].version == ONNX_OPSET
    (given,) = model.graph.input
    dims = given.type.tensor_type.shape.dim
    assert given.name == "input"
    assert [dims[0].dim_param, dims[1].dim_value] == ["batch", 3]
    assert model.graph.output[0].name == "output"
    ops = [node.op_type for node in model.graph.node]
    assert ops == ["Gemm", "Relu", "Gemm", "Softmax"]


def test_onnx_export_without_the_onnx_package_says_how_to_install(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError, match="pip install onnx"):
        export_onnx(Network([1, 1], ["linear"]), tmp_path / "x.onnx")


def test_export_into_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(ExportError, match=r"Cannot write .*w\.npz"):
        export_npz(Network([1, 1], ["linear"]), tmp_path / "no" / "w.npz")


def fake_history():
    return SimpleNamespace(
        steps=np.array([1, 2, 3]),
        train=np.array([0.5, 0.25, 0.125]),
        test_steps=np.array([0, 3]),
        test=np.array([0.75, 0.2]),
        grad_norms=np.array([[1.0, 2.0], [0.5, 1.5], [0.25, 1.0]]),
    )


def test_history_csv_has_a_row_per_step_and_a_norm_per_layer(tmp_path):
    path = tmp_path / "history.csv"
    export_history_csv(fake_history(), path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == [
        "step",
        "train_cost",
        "test_cost",
        "grad_norm_layer1",
        "grad_norm_layer2",
    ]
    assert rows[1] == ["0", "", "0.75", "", ""]
    assert rows[2] == ["1", "0.5", "", "1.0", "2.0"]
    assert rows[4] == ["3", "0.125", "0.2", "0.25", "1.0"]


def test_history_csv_of_an_untrained_project_is_refused(tmp_path):
    with pytest.raises(ExportError, match="no training history"):
        export_history_csv(None, tmp_path / "h.csv")


def npz_snippets() -> dict:
    """The NumPy code blocks of docs/formats.md and README.md that read an NPZ.

    Both must hold one, and every such block is run.
    """
    root = Path(__file__).parents[2]
    found = {}
    for name in ("docs/formats.md", "README.md"):
        text = (root / name).read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        found.update(
            (f"{name} #{i}", b) for i, b in enumerate(blocks) if "net.npz" in b
        )
    for name in ("docs/formats.md", "README.md"):
        assert any(key.startswith(name) for key in found), name
    return found


@pytest.mark.parametrize(
    "sizes, activations",
    [
        ([64, 16, 16, 10], ["relu", "leaky_relu", "softmax"]),
        ([2, 8, 8, 1], ["tanh", "linear", "sigmoid"]),
    ],
)
def test_the_documented_numpy_snippet_reproduces_the_engine_outputs(
    tmp_path, monkeypatch, sizes, activations
):
    net = trained_looking(sizes, activations, seed=7)
    export_npz(net, tmp_path / "net.npz", cost="quadratic")
    X = np.random.default_rng(8).normal(0, 1, (40, sizes[0]))
    monkeypatch.chdir(tmp_path)
    for where, snippet in npz_snippets().items():
        namespace = {"X": X}
        exec(snippet, namespace)
        np.testing.assert_allclose(
            namespace["outputs"], net.predict(X), rtol=0, atol=1e-12, err_msg=where
        )


def test_npz_import_refuses_a_huge_array_from_its_header_alone(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("layer1.weight.npy", "w") as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
            np.lib.format.write_array_header_1_0(member, header)
    with pytest.raises(ExportError, match="too large"):
        import_npz_weights(Network([1, 1], ["linear"]), path)
