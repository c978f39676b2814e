"""Trained networks out of the app: NPZ, JSON, ONNX and the history as CSV.

Every format keeps the lesson's layout: weight layer i (1-based, i = 1 .. L)
has a weight matrix of shape (n_out, n_in) and a bias vector of shape
(n_out,), so layer i computes a(i) = s(W(i) a(i-1) + b(i)).
"""

import csv
import io
import json
import logging
import math
import os
import zipfile

import numpy as np

from backprop_lab.engine.activations import LEAKY_SLOPE
from backprop_lab.engine.network import MAX_LAYER_SIZE, Network
from backprop_lab.files.atomic import reason, write_atomically

log = logging.getLogger(__name__)

WEIGHTS_FORMAT_NAME = "backprop-lab-weights"
WEIGHTS_FORMAT_VERSION = 1

# ONNX versions written by export_onnx: opset 17 and IR version 8 are read by
# onnxruntime 1.13 and every later release.
ONNX_OPSET = 17
ONNX_IR_VERSION = 8
ONNX_INPUT = "input"
ONNX_OUTPUT = "output"

_ONNX_OPS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "softmax": "Softmax",
}


class ExportError(ValueError):
    """An export or import failed; the message is one sentence for the user."""


def _name(path) -> str:
    return os.fspath(path)


def _weight_key(i: int) -> str:
    return f"layer{i}.weight"


def _bias_key(i: int) -> str:
    return f"layer{i}.bias"


def _mask_key(i: int) -> str:
    return f"layer{i}.mask"


# ---------------------------------------------------------------- NPZ


def npz_arrays(net: Network, cost: str | None = None) -> dict:
    """The arrays written to an NPZ file, keyed by their names in it."""
    arrays = {
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activations": np.array(net.activations, dtype=np.str_),
    }
    if cost is not None:
        arrays["cost"] = np.array(cost, dtype=np.str_)
    for i, (w, b, m) in enumerate(zip(net.weights, net.biases, net.masks), 1):
        arrays[_weight_key(i)] = np.array(w)
        arrays[_bias_key(i)] = np.array(b)
        arrays[_mask_key(i)] = np.array(m, dtype=np.uint8)
    return arrays


def export_npz(net: Network, path, cost: str | None = None) -> None:
    """Write the weights, biases and masks, with the activations and cost.

    Keys: layer{i}.weight (n_out, n_in), layer{i}.bias (n_out,) and
    layer{i}.mask (n_out, n_in) of 0/1 for i = 1 .. L; `sizes` (int64),
    `activations` (strings, one per weight layer) and, when given, `cost`
    (a 0-d string). Nothing in the file needs pickle to be read.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **npz_arrays(net, cost))
    _write(path, buffer.getvalue())
    log.debug("wrote NPZ weights to %s", path)


def _write(path, data: bytes) -> None:
    """Write an export atomically; ExportError with one sentence if it fails."""
    try:
        write_atomically(path, data)
    except OSError as error:
        raise ExportError(f"Cannot write {_name(path)}: {reason(error)}.") from error


def _npz_header_shape(archive: zipfile.ZipFile, key: str):
    """Shape and dtype of one member, read from its header alone."""
    with archive.open(key + ".npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    return shape, dtype


def import_npz_weights(net: Network, path) -> Network:
    """A copy of `net` holding the weights and biases stored in an NPZ file.

    The file must use the layout of export_npz: layer{i}.weight of shape
    (n_out, n_in) and layer{i}.bias (n_out,) for every layer of `net`, and no
    more layers. Masks are taken from the file when it holds them. Pickled
    objects are never loaded.
    """
    name = _name(path)
    arrays = _read_npz(path, name)
    weights, biases, masks = [], [], []
    for i in range(1, net.n_layers + 1):
        n_out, n_in = net.weights[i - 1].shape
        weights.append(_npz_matrix(arrays, name, _weight_key(i), (n_out, n_in)))
        biases.append(_npz_matrix(arrays, name, _bias_key(i), (n_out,)))
        if _mask_key(i) in arrays:
            mask = _npz_matrix(arrays, name, _mask_key(i), (n_out, n_in))
            if not np.all((mask == 0) | (mask == 1)):
                raise ExportError(
                    f"{name} holds a mask for layer {i} with values other than 0 and 1."
                )
            masks.append(mask)
        else:
            masks.append(net.masks[i - 1])
    if _weight_key(net.n_layers + 1) in arrays:
        raise ExportError(
            f"{name} holds more layers than the network's {net.n_layers}."
        )
    _check_npz_activations(arrays, name, net)
    return Network.from_parameters(weights, biases, net.activations, masks, net.dtype)


def _read_npz(path, name: str) -> dict:
    """All arrays of an NPZ file; refuses pickles, huge and foreign files."""
    try:
        with zipfile.ZipFile(path) as archive:
            keys = [k[:-4] for k in archive.namelist() if k.endswith(".npy")]
            for key in keys:
                shape, dtype = _npz_header_shape(archive, key)
                if dtype.hasobject:
                    raise ExportError(
                        f"{name} holds pickled objects, which are never loaded."
                    )
                if math.prod(shape) > MAX_LAYER_SIZE * MAX_LAYER_SIZE:
                    raise ExportError(f"{name} holds an array too large to load.")
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ExportError:
        raise
    except IsADirectoryError as error:
        raise ExportError(f"Cannot read {name}: it is a folder.") from error
    except OSError as error:
        raise ExportError(f"Cannot read {name}: {reason(error)}.") from error
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ExportError(f"{name} is not an NPZ file of weights.") from error


def _npz_matrix(arrays: dict, name: str, key: str, shape: tuple) -> np.ndarray:
    if key not in arrays:
        raise ExportError(f"{name} has no array {key!r}.")
    array = arrays[key]
    if array.shape != shape:
        raise ExportError(
            f"{name} holds {key} of shape {array.shape}, but the network needs {shape}."
        )
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ExportError(f"{name} holds {key} of type {array.dtype}, not numbers.")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ExportError(f"{name} holds NaN or infinite numbers in {key}.")
    return array


def _check_npz_activations(arrays: dict, name: str, net: Network) -> None:
    if "activations" not in arrays:
        return
    stored = arrays["activations"]
    if stored.dtype.kind != "U" or stored.ndim != 1:
        raise ExportError(f"{name} holds activations that are not a list of names.")
    if list(stored) != net.activations:
        raise ExportError(
            f"{name} was saved with the activations {', '.join(stored)}, "
            f"but the network uses {', '.join(net.activations)}."
        )


# ---------------------------------------------------------------- JSON


def weights_document(net: Network, cost: str | None = None) -> dict:
    """The JSON export as a dictionary of plain Python values."""
    layers = [
        {
            "weight": w.tolist(),
            "bias": b.tolist(),
            "mask": m.astype(np.int64).tolist(),
        }
        for w, b, m in zip(net.weights, net.biases, net.masks)
    ]
    return {
        "format": WEIGHTS_FORMAT_NAME,
        "version": WEIGHTS_FORMAT_VERSION,
        "sizes": list(net.sizes),
        "activations": list(net.activations),
        "cost": cost,
        "layers": layers,
    }


def export_json(net: Network, path, cost: str | None = None) -> None:
    """Write the same content as export_npz as readable JSON.

    `layers[i - 1]` holds layer i's "weight" (rows of n_in numbers, one row per
    neuron), "bias" and "mask". Floats are written with Python's repr, so they
    read back exactly.
    """
    text = json.dumps(weights_document(net, cost), indent=1, allow_nan=False)
    _write(path, (text + "\n").encode("utf-8"))
    log.debug("wrote JSON weights to %s", path)


# ---------------------------------------------------------------- ONNX


def onnx_model(net: Network, dtype=None):
    """The network as an onnx.ModelProto: Gemm and the activation per layer.

    Input "input" of shape [batch, n_in], output "output" of shape
    [batch, n_out]; numbers in the network's dtype unless `dtype` is given
    (float64 or float32).
    """
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as error:
        raise ExportError(
            "Exporting to ONNX needs the onnx package; install it with "
            "'pip install onnx'."
        ) from error

    dtype = np.dtype(dtype or net.dtype)
    if dtype not in (np.float64, np.float32):
        raise ExportError(f"ONNX export supports float64 and float32, not {dtype}.")
    elem_type = helper.np_dtype_to_tensor_dtype(dtype)
    nodes, initializers = [], []
    current = ONNX_INPUT
    for i, (w, b, name) in enumerate(zip(net.weights, net.biases, net.activations), 1):
        last = i == net.n_layers
        z_name = f"layer{i}.z"
        a_name = ONNX_OUTPUT if last else f"layer{i}.a"
        initializers.append(numpy_helper.from_array(w.astype(dtype), _weight_key(i)))
        initializers.append(numpy_helper.from_array(b.astype(dtype), _bias_key(i)))
        nodes.append(
            helper.make_node(
                "Gemm",
                [current, _weight_key(i), _bias_key(i)],
                [z_name],
                name=f"layer{i}.gemm",
                transB=1,
            )
        )
        if name == "leaky_relu":
            slope = np.array([LEAKY_SLOPE], dtype)
            initializers.append(numpy_helper.from_array(slope, f"layer{i}.slope"))
        nodes.append(_activation_node(helper, name, z_name, a_name, i))
        current = a_name

    graph = helper.make_graph(
        nodes,
        "backprop_lab_network",
        [helper.make_tensor_value_info(ONNX_INPUT, elem_type, ["batch", net.sizes[0]])],
        [
            helper.make_tensor_value_info(
                ONNX_OUTPUT, elem_type, ["batch", net.sizes[-1]]
            )
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        ir_version=ONNX_IR_VERSION,
        producer_name="backprop-lab",
        doc_string=f"{'-'.join(map(str, net.sizes))} {', '.join(net.activations)}",
    )
    onnx.checker.check_model(model)
    return model


def _activation_node(helper, name: str, z_name: str, a_name: str, i: int):
    node_name = f"layer{i}.{name}"
    if name == "linear":
        return helper.make_node("Identity", [z_name], [a_name], name=node_name)
    if name == "leaky_relu":
        # PRelu with a slope tensor keeps 0.01 in the model's precision;
        # LeakyRelu's alpha attribute would round it to float32
        return helper.make_node(
            "PRelu", [z_name, f"layer{i}.slope"], [a_name], name=node_name
        )
    if name == "softmax":
        return helper.make_node("Softmax", [z_name], [a_name], name=node_name, axis=1)
    return helper.make_node(_ONNX_OPS[name], [z_name], [a_name], name=node_name)


def export_onnx(net: Network, path, dtype=None) -> None:
    """Write the network as an ONNX model (see onnx_model)."""
    model = onnx_model(net, dtype)
    _write(path, model.SerializeToString())
    log.debug("wrote ONNX model to %s", path)


# ---------------------------------------------------------------- CSV


def history_rows(history) -> tuple[list, list]:
    """Header and rows of the history table, one row per step.

    Columns: step, train_cost, test_cost, then grad_norm_layer1 ..
    grad_norm_layerL. A cell is empty where that value was not measured at
    that step (the test cost is evaluated every few steps only).
    """
    steps = np.asarray(history.steps).tolist()
    norms = np.asarray(history.grad_norms, dtype=np.float64)
    n_layers = norms.shape[1] if norms.ndim == 2 else 0
    train = {
        step: [history.train[i], *norms[i]] if n_layers else [history.train[i]]
        for i, step in enumerate(steps)
    }
    test = dict(zip(np.asarray(history.test_steps).tolist(), history.test))
    header = ["step", "train_cost", "test_cost"]
    header += [f"grad_norm_layer{i}" for i in range(1, n_layers + 1)]
    rows = []
    for step in sorted(set(train) | set(test)):
        values = train.get(step, [None] * (n_layers + 1))
        row = [int(step), _cell(values[0]), _cell(test.get(step))]
        rows.append(row + [_cell(v) for v in values[1:]])
    return header, rows


def _cell(value) -> str:
    return "" if value is None else repr(float(value))


def export_history_csv(history, path) -> None:
    """Write the cost history and the per-layer gradient norms as CSV."""
    if history is None or len(history.steps) + len(history.test_steps) == 0:
        raise ExportError(
            f"There is no training history to write to {_name(path)}; train first."
        )
    header, rows = history_rows(history)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _write(path, text.getvalue().encode("utf-8"))
    log.debug("wrote %d history rows to %s", len(rows), path)
