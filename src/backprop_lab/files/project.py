"""The project file (*.bplab): a network, its training and its data, as JSON.

The file is UTF-8 JSON laid out for a text editor. Floats are written with
Python's repr, which reads back to the same float64, so weights and biases
survive a save and a load bit for bit. Saving is atomic: a temporary file in
the same folder is written, flushed, synced and renamed over the old one.

Loading checks everything before anything is allocated from it and turns
every problem into a ProjectError whose message is one sentence naming the
file. Nothing read from a file is ever executed.
"""

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backprop_lab.engine.costs import COSTS
from backprop_lab.engine.datasets import DataError, Dataset, make_dataset
from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.network import MAX_LAYER_SIZE, Network, check_architecture
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.engine.trainer import TrainingSettings
from backprop_lab.files.atomic import reason, write_atomically

log = logging.getLogger(__name__)

FORMAT_NAME = "backprop-lab-project"
FORMAT_VERSION = 1
FILE_SUFFIX = ".bplab"

# a project file larger than this is refused before it is read
MAX_FILE_BYTES = 256 * 1024 * 1024
# a longer cost history is saved as this many evenly spaced steps
MAX_SAVED_ROWS = 100_000

DATA_KINDS = ("builtin", "digits", "chain", "csv")
DTYPES = {"float64": np.float64, "float32": np.float32}


class ProjectError(ValueError):
    """A project file could not be read or written; one sentence for the user."""


class _Invalid(Exception):
    """A problem found inside the document, worded without the file's name."""


@dataclass
class Project:
    """Everything a project file holds.

    data: the data source dictionary of engine.datasets; a CSV path in it is
        absolute in memory and relative to the project's folder on disk.
    history: the cost history of the training so far, or None.
    dataset: the Dataset made from `data` by load_project, checked to fit the
        network's input and output layers (None for a project built in code).
    """

    network: Network
    settings: TrainingSettings
    data: dict
    history: CostHistory | None = None
    name: str = "untitled"
    # the data made from `data` when the project was loaded; not written
    dataset: Dataset | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------- writing


def project_to_text(project: Project, base_dir=None) -> str:
    """The file's text; a CSV data path is written relative to `base_dir`."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": project.name,
        "network": _network_document(project.network),
        "settings": project.settings.to_dict(),
        "data": _data_to_document(project.data, base_dir),
        "history": _history_document(project.history),
    }
    return _dump(document, 0) + "\n"


def _network_document(net: Network) -> dict:
    layers = [
        {
            "weights": w.astype(np.float64).tolist(),
            "biases": b.astype(np.float64).tolist(),
            "mask": m.astype(np.int64).tolist(),
        }
        for w, b, m in zip(net.weights, net.biases, net.masks)
    ]
    document = {
        "sizes": [int(s) for s in net.sizes],
        "activations": list(net.activations),
    }
    if net.dtype != np.float64:
        document["dtype"] = np.dtype(net.dtype).name
    document["layers"] = layers
    return document


def _data_to_document(data: dict, base_dir) -> dict:
    document = dict(data)
    if document.get("kind") != "csv":
        return document
    path = os.fspath(document["path"])
    if base_dir is not None:
        path = os.path.abspath(path)
        try:
            path = os.path.relpath(path, os.path.abspath(base_dir))
        except ValueError:
            pass  # another drive: the absolute path is kept
    document["path"] = Path(path).as_posix()
    return document


def _history_document(history: CostHistory | None) -> dict | None:
    """The history's columns; a NaN (a value not measured) is written as null.

    A history longer than MAX_SAVED_ROWS is written as that many evenly
    spaced steps, so that the file stays quick to open.
    """
    if history is None:
        return None
    if max(len(history.steps), len(history.test_steps)) > MAX_SAVED_ROWS:
        log.info(
            "the history of %d steps is saved as %d evenly spaced steps",
            len(history.steps), MAX_SAVED_ROWS,
        )  # fmt: skip
        history = history.thinned(MAX_SAVED_ROWS)
    norms = np.asarray(history.grad_norms, dtype=np.float64)
    norms = norms.reshape(len(history.steps), -1).T
    return {
        "steps": np.asarray(history.steps, dtype=np.int64).tolist(),
        "train": _nullable(history.train),
        "test_steps": np.asarray(history.test_steps, dtype=np.int64).tolist(),
        "test": _nullable(history.test),
        "grad_norms": [_nullable(row) for row in norms],
    }


def _nullable(values) -> list:
    return [v if math.isfinite(v) else None for v in np.asarray(values).tolist()]


def _dump(value, level: int) -> str:
    """JSON with one key per line and each list of numbers on a single line."""
    if isinstance(value, np.generic):
        value = value.item()
    inner = "  " * (level + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(str(key))}: {_dump(item, level + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, (list, tuple)) and any(
        isinstance(item, (list, tuple, dict)) for item in value
    ):
        items = [inner + _dump(item, level + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
    if isinstance(value, (list, tuple)):
        value = [v.item() if isinstance(v, np.generic) else v for v in value]
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def save_project(project: Project, path) -> None:
    """Write the project to `path` atomically; ProjectError if it fails.

    A save that fails or is killed half way leaves the old file whole.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        data = project_to_text(project, folder).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ProjectError(
            f"Cannot save {os.fspath(path)}: the project holds a value that "
            f"cannot be written ({error})."
        ) from error
    try:
        write_atomically(path, data)
    except OSError as error:
        message = f"Cannot save {os.fspath(path)}: {reason(error)}."
        raise ProjectError(message) from error
    log.debug("saved project %s (%d bytes)", path, len(data))


# ---------------------------------------------------------------- reading


def load_project(path) -> Project:
    """Read and check a project file; ProjectError names the file and problem."""
    name = os.fspath(path)
    data = _read_bytes(Path(path), name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError(
            f"Cannot open {name}: it is not UTF-8 text "
            f"(byte {error.start} is {data[error.start]:#04x})."
        ) from error
    base_dir = Path(path).resolve().parent
    return project_from_text(text, name, base_dir)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise ProjectError(f"Cannot open {name}: it is a folder, not a file.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectError(
                f"Cannot open {name}: at {size} bytes it is larger than "
                f"a project file can be ({MAX_FILE_BYTES} bytes)."
            )
        return path.read_bytes()
    except FileNotFoundError as error:
        raise ProjectError(f"Cannot open {name}: the file does not exist.") from error
    except OSError as error:
        raise ProjectError(f"Cannot open {name}: {reason(error)}.") from error


def project_from_text(text: str, source_name="project", base_dir=None) -> Project:
    """Parse and check a project's text; a CSV path is resolved on `base_dir`."""
    base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
    try:
        document = _parse_json(text)
        return _project_from_document(document, base_dir)
    except _Invalid as problem:
        message = str(problem).rstrip(".")
        raise ProjectError(f"Cannot open {source_name}: {message}.") from None


def _reject_constant(token: str):
    raise _Invalid(f"it holds {token}, but every number must be finite")


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Invalid(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _parse_json(text: str):
    if not text.strip():
        raise _Invalid("the file is empty")
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            raise _Invalid("the file ends too early; it looks cut short") from None
        raise _Invalid(
            f"it is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg.lower()})"
        ) from None
    except RecursionError:
        raise _Invalid("it is nested too deeply to be a project") from None
    except ValueError as error:
        raise _Invalid(f"it is not valid JSON ({error})") from None


def _project_from_document(document, base_dir: Path) -> Project:
    _check_format(document)
    network = _network_from_document(_field(document, "network", dict))
    settings = _settings_from_document(_field(document, "settings", dict), network)
    data = _data_from_document(_field(document, "data", dict), base_dir)
    dataset = _dataset(data, network)
    history = _history_from_document(document.get("history"))
    name = document.get("name", "untitled")
    if not isinstance(name, str):
        raise _Invalid(f"its name must be text, not {_kind(name)}")
    return Project(network, settings, data, history, name, dataset)


def _check_format(document) -> None:
    if not isinstance(document, dict):
        raise _Invalid(f"it holds {_kind(document)}, not a Backprop Lab project")
    found = document.get("format")
    if found != FORMAT_NAME:
        if isinstance(found, str):
            raise _Invalid(f"it is a {found!r} file, not a Backprop Lab project")
        raise _Invalid("it is not a Backprop Lab project (no format name)")
    version = _field(document, "version", int)
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"it was written in format version {version} by a newer Backprop Lab; "
            f"this one reads up to version {FORMAT_VERSION}"
        )
    if version < 1:
        raise _Invalid(f"its format version {version} does not exist")


def _kind(value) -> str:
    """How a JSON value is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


_TYPE_WORDS = {dict: "an object", list: "a list", int: "a whole number", str: "text"}


def _field(document: dict, key: str, kind, where: str = "", of: str = ""):
    """document[key], which must exist and be of the JSON type `kind`.

    Messages call it '{where}{key}'{of}, as in 'network.sizes' or
    'biases' of layer 2.
    """
    label = f"'{where}{key}'{of}"
    if key not in document:
        raise _Invalid(f"the field {label} is missing")
    value = document[key]
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, kind):
        raise _Invalid(
            f"the field {label} must be {_TYPE_WORDS.get(kind, kind.__name__)}, "
            f"not {_kind(value)}"
        )
    return value


# ---------------------------------------------------------------- network


def _network_from_document(document: dict) -> Network:
    where = "network."
    sizes = _field(document, "sizes", list, where)
    activations = _field(document, "activations", list, where)
    if not all(isinstance(a, str) for a in activations):
        raise _Invalid("the activations must be names such as 'tanh'")
    try:
        check_architecture(sizes, activations)
    except ValueError as error:
        raise _Invalid(str(error)) from None

    layers = _field(document, "layers", list, where)
    if len(layers) != len(sizes) - 1:
        raise _Invalid(
            f"the network has {len(sizes) - 1} layers of weights but the file "
            f"holds {len(layers)}"
        )
    weights, biases, masks = [], [], []
    for index, layer in enumerate(layers):
        w, b, m = _layer_arrays(layer, index + 1, sizes[index], sizes[index + 1])
        weights.append(w)
        biases.append(b)
        masks.append(m)
    dtype = _dtype(document)
    try:
        return Network.from_parameters(weights, biases, activations, masks, dtype)
    except ValueError as error:
        raise _Invalid(str(error)) from None


def _dtype(document: dict):
    """The network's float type: float64 unless the file says float32."""
    if "dtype" not in document:
        return np.float64
    name = _field(document, "dtype", str, "network.")
    if name not in DTYPES:
        raise _Invalid(
            f"the network's dtype {name!r} is unknown; use one of {', '.join(DTYPES)}"
        )
    return DTYPES[name]


def _layer_arrays(layer, number: int, n_in: int, n_out: int):
    """Weights (n_out, n_in), biases (n_out,) and mask of layer `number`."""
    if not isinstance(layer, dict):
        raise _Invalid(f"layer {number} must be an object, not {_kind(layer)}")
    of = f" of layer {number}"
    where = f"layer {number} "
    weights = _field(layer, "weights", list, of=of)
    weights = _matrix(weights, n_out, n_in, where)
    biases = _field(layer, "biases", list, of=of)
    biases = _numbers(biases, n_out, f"{where}biases")
    mask = _matrix(_field(layer, "mask", list, of=of), n_out, n_in, where, "mask")
    if not np.all((mask == 0) | (mask == 1)):
        raise _Invalid(f"the mask of layer {number} holds values other than 0 and 1")
    return weights, biases, mask


def _matrix(rows: list, n_out: int, n_in: int, where: str, what="weights"):
    if len(rows) != n_out:
        raise _Invalid(
            f"the {where}{what} have {_count(len(rows), 'row')}, "
            f"but the layer has {_count(n_out, 'neuron')}"
        )
    for j, row in enumerate(rows):
        if not isinstance(row, list):
            raise _Invalid(f"row {j + 1} of the {where}{what} is not a list")
        if len(row) != n_in:
            raise _Invalid(
                f"row {j + 1} of the {where}{what} has {_count(len(row), 'number')}"
                f", but the layer has {_count(n_in, 'input')}"
            )
    return _numbers(rows, n_out * n_in, f"{where}{what}", (n_out, n_in))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _numbers(values: list, count: int, label: str, shape=None, nulls=False):
    """A float64 array from JSON numbers, checked for type, count and finiteness.

    With `nulls`, a null stands for a value that was not measured (NaN).
    """
    flat = values if shape is None else [x for row in values for x in row]
    if len(flat) != count:
        raise _Invalid(f"the {label} hold {_count(len(flat), 'number')}, not {count}")
    for value in flat:
        if value is None and nulls:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(f"the {label} hold {_kind(value)} where a number belongs")
    try:
        array = np.array([math.nan if v is None else v for v in flat], dtype=np.float64)
    except OverflowError:
        raise _Invalid(f"the {label} hold a number too large for float64") from None
    if np.any(np.isinf(array)) or (not nulls and np.any(np.isnan(array))):
        raise _Invalid(f"the {label} hold a number too large for float64")
    return array if shape is None else array.reshape(shape)


# ---------------------------------------------------------------- settings


def _settings_from_document(document: dict, network: Network) -> TrainingSettings:
    for key, known in (("cost", COSTS), ("optimizer", OPTIMIZERS)):
        value = document.get(key)
        if isinstance(value, str) and value not in known:
            raise _Invalid(
                f"its {key} {value!r} is unknown; use one of {', '.join(known)}"
            )
    try:
        settings = TrainingSettings.from_dict(document)
        settings.validate(network.activations[-1])
    except (ValueError, TypeError) as error:
        raise _Invalid(f"its training settings are wrong: {error}") from None
    return settings


# ---------------------------------------------------------------- data


def _data_from_document(document: dict, base_dir: Path) -> dict:
    kind = _field(document, "kind", str, "data.")
    if kind not in DATA_KINDS:
        raise _Invalid(
            f"the data kind {kind!r} is unknown; use one of {', '.join(DATA_KINDS)}"
        )
    data = dict(document)
    if kind == "csv":
        written = _field(document, "path", str, "data.")
        if not written:
            raise _Invalid("the data file's path is empty")
        path = Path(os.path.normpath(base_dir / Path(written)))
        if not path.is_file():
            raise _Invalid(f"its data file {path} does not exist")
        data["path"] = str(path)
        for key in ("inputs", "targets"):
            _columns(_field(document, key, list, "data."), key)
    return data


def _columns(columns: list, key: str) -> None:
    """CSV columns are picked by name or by index from 0."""
    if not columns:
        raise _Invalid(f"the data's {key} name no columns")
    for column in columns:
        is_index = isinstance(column, int) and not isinstance(column, bool)
        if not (isinstance(column, str) or (is_index and column >= 0)):
            raise _Invalid(
                f"the data's {key} must be column names or indexes, not {_kind(column)}"
            )


def _dataset(data: dict, network: Network) -> Dataset:
    """The data the source makes, which must fit the network's first and last layer."""
    try:
        dataset = make_dataset(data)
    except DataError as error:
        raise _Invalid(f"its data cannot be made: {error}") from None
    except (TypeError, ValueError) as error:
        log.warning("data source %r was refused unexpectedly", data, exc_info=True)
        raise _Invalid(f"its data source is not valid ({error})") from None
    n_in, n_out = network.sizes[0], network.sizes[-1]
    if (dataset.n_inputs, dataset.n_outputs) != (n_in, n_out):
        raise _Invalid(
            f"its data has {_count(dataset.n_inputs, 'input')} and "
            f"{_count(dataset.n_outputs, 'output')}, but the network has "
            f"{_count(n_in, 'input')} and {_count(n_out, 'output')}"
        )
    return dataset


# ---------------------------------------------------------------- history


def _history_from_document(document) -> CostHistory | None:
    if document is None:
        return None
    if not isinstance(document, dict):
        raise _Invalid(f"the history must be an object or null, not {_kind(document)}")
    where = "history."
    steps = _steps(_field(document, "steps", list, where), "history steps")
    train = _numbers(
        _field(document, "train", list, where), len(steps), "train costs", nulls=True
    )
    test_steps = _steps(_field(document, "test_steps", list, where), "test steps")
    test = _numbers(
        _field(document, "test", list, where), len(test_steps), "test costs", nulls=True
    )
    norms = _field(document, "grad_norms", list, where)
    if len(norms) > MAX_LAYER_SIZE:
        raise _Invalid("the history holds gradient norms of too many layers")
    rows = [
        _numbers(row, len(steps), f"gradient norms of layer {i + 1}", nulls=True)
        if isinstance(row, list)
        else _not_a_list(f"the gradient norms of layer {i + 1}")
        for i, row in enumerate(norms)
    ]
    grad_norms = np.array(rows).reshape(len(rows), len(steps)).T
    return CostHistory.from_arrays(steps, train, test_steps, test, grad_norms)


def _not_a_list(label: str):
    raise _Invalid(f"{label} must be a list")


def _steps(values: list, label: str) -> np.ndarray:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _Invalid(f"the {label} must be whole numbers from 0 up")
        if value > 2**62:
            raise _Invalid(f"the {label} hold a number too large to be a step")
    return np.array(values, dtype=np.int64)
