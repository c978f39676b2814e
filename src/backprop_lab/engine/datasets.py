"""Data to train on: 2-D toy sets, the 8x8 digits, the lesson's chain, CSV files.

Every set is made from a source dict (JSON-serialisable, stored in project
files) and is deterministic given its seed. Inputs are rows of X, shape
(n_samples, n_inputs); targets rows of Y, shape (n_samples, n_outputs).
"""

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backprop_lab.resources import resource_path

logger = logging.getLogger(__name__)

CLASSIFICATION_SETS = ("circle", "xor", "gaussians", "spiral")
REGRESSION_SETS = ("plane", "multi_gaussian")
BUILTIN_SETS = CLASSIFICATION_SETS + REGRESSION_SETS

MAX_POINTS = 100_000

_BUILTIN_DEFAULTS = {"n_points": 200, "noise": 0.1, "test_ratio": 0.5, "seed": 0}
_DIGITS_DEFAULTS = {"test_ratio": 0.3, "seed": 0}
_CSV_DEFAULTS = {"task": "regression", "test_ratio": 0.3, "seed": 0}

# the 2-D sets are drawn on a square of half-width 6 and scaled to about [-1, 1]
_HALF_WIDTH = 6.0


class DataError(ValueError):
    """Data that cannot be made or read; the message is one sentence."""


@dataclass(frozen=True)
class Dataset:
    """Training and test examples and what they are for.

    X_* (n, n_inputs), Y_* (n, n_outputs), float64. For classification Y holds
    0/1 labels (one column) or one-hot rows; `n_classes` is None for regression.
    """

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    task: str
    n_classes: int | None
    source: dict
    feature_names: tuple | None = None
    class_names: tuple | None = None

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.Y_train.shape[1]

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {len(self.X_train)} train, "
            f"{len(self.X_test)} test, {self.task})"
        )


def make_dataset(source: dict, base_dir=None) -> Dataset:
    """The data set a source dict describes; a CSV path is relative to base_dir."""
    if not isinstance(source, dict) or "kind" not in source:
        raise DataError("the data source must be a mapping with a 'kind'.")
    kind = source["kind"]
    if kind == "builtin":
        values = _settle(source, {"name": None, **_BUILTIN_DEFAULTS})
        return builtin_set(**values)
    if kind == "digits":
        return digits(**_settle(source, _DIGITS_DEFAULTS))
    if kind == "chain":
        _settle(source, {})
        return chain()
    if kind == "csv":
        values = _settle(source, {"path": None, "inputs": None, "targets": None,
                                  **_CSV_DEFAULTS})  # fmt: skip
        path = Path(values.pop("path"))
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        return load_csv(path, **values, source_path=source["path"])
    raise DataError(
        f"unknown kind of data {kind!r}; use builtin, digits, chain or csv."
    )


def _settle(source: dict, defaults: dict) -> dict:
    """The source's values over the defaults; unknown or missing keys refused."""
    for key in source:
        if key != "kind" and key not in defaults:
            raise DataError(f"the data source has an unknown key {key!r}.")
    values = {**defaults, **{k: v for k, v in source.items() if k != "kind"}}
    for key, value in values.items():
        if value is None:
            raise DataError(f"the data source needs a value for {key!r}.")
    return values


def _check_split(test_ratio, seed) -> None:
    if isinstance(test_ratio, bool) or not isinstance(test_ratio, (int, float)):
        raise DataError(f"test_ratio must be a number, not {test_ratio!r}.")
    if not 0.0 <= test_ratio < 1.0:
        raise DataError(
            f"test_ratio must be at least 0 and below 1 (some rows must be left "
            f"for training), not {test_ratio}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed must be a whole number >= 0, not {seed!r}.")


def _split(X, Y, test_ratio: float, rng):
    """Shuffle the rows, then put a test_ratio share of them aside."""
    order = rng.permutation(len(X))
    n_test = min(int(round(len(X) * test_ratio)), len(X) - 1)
    test, train = order[:n_test], order[n_test:]
    return X[train], Y[train], X[test], Y[test]


# the 2-D sets


def builtin_set(name, n_points=200, noise=0.1, test_ratio=0.5, seed=0) -> Dataset:
    """One of BUILTIN_SETS, drawn with `seed`; noise is a standard deviation."""
    if name not in BUILTIN_SETS:
        raise DataError(
            f"unknown data set {name!r}; use one of {', '.join(BUILTIN_SETS)}."
        )
    if isinstance(n_points, bool) or not isinstance(n_points, int):
        raise DataError(f"n_points must be a whole number, not {n_points!r}.")
    if not 4 <= n_points <= MAX_POINTS:
        raise DataError(f"n_points must lie in [4, {MAX_POINTS}], not {n_points}.")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)):
        raise DataError(f"noise must be a number, not {noise!r}.")
    if not (math.isfinite(noise) and 0.0 <= noise <= 10.0):
        raise DataError(f"noise must lie in [0, 10], not {noise}.")
    _check_split(test_ratio, seed)

    rng = np.random.default_rng(seed)
    X, Y = _DRAWERS[name](rng, n_points, float(noise))
    X_train, Y_train, X_test, Y_test = _split(X, Y, test_ratio, rng)
    classification = name in CLASSIFICATION_SETS
    source = {"kind": "builtin", "name": name, "n_points": n_points,
              "noise": noise, "test_ratio": test_ratio, "seed": seed}  # fmt: skip
    return Dataset(
        name=name,
        X_train=X_train,
        Y_train=Y_train,
        X_test=X_test,
        Y_test=Y_test,
        task="classification" if classification else "regression",
        n_classes=2 if classification else None,
        source=source,
        feature_names=("x1", "x2"),
    )


def _jitter(rng, X, noise):
    return X + rng.normal(0.0, noise, X.shape)


def _labels(mask):
    return mask.astype(np.float64).reshape(-1, 1)


def _circle(rng, n, noise):
    """Class 1 inside radius 2.5, class 0 on a ring from 3.5 to 5."""
    n_inside = n // 2
    radius = np.concatenate(
        [rng.uniform(0.0, 2.5, n_inside), rng.uniform(3.5, 5.0, n - n_inside)]
    )
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    Y = _labels(radius < 3.0)
    return _jitter(rng, X / _HALF_WIDTH, noise), Y


def _xor(rng, n, noise):
    """Class 1 in the quadrants where x1 and x2 have the same sign."""
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    Y = _labels(X[:, 0] * X[:, 1] > 0)
    return _jitter(rng, X / _HALF_WIDTH, noise), Y


def _gaussians(rng, n, noise):
    """Two round clouds around (2, 2), class 1, and (-2, -2), class 0."""
    positive = np.arange(n) < n // 2
    centres = np.where(positive[:, None], 2.0, -2.0)
    X = centres + rng.normal(0.0, 1.0, (n, 2))
    return _jitter(rng, X / _HALF_WIDTH, noise), _labels(positive)


def _spiral(rng, n, noise):
    """Two arms winding 1.75 turns around the origin, one per class."""
    positive = np.arange(n) < n // 2
    fraction = np.concatenate(
        [np.arange(n // 2) / max(n // 2, 1), np.arange(n - n // 2) / (n - n // 2)]
    )
    radius = 5.0 * fraction
    angle = 1.75 * 2.0 * np.pi * fraction + np.where(positive, 0.0, np.pi)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return _jitter(rng, X / _HALF_WIDTH, noise), _labels(positive)


def _plane(rng, n, noise):
    """y = (x1 + x2) / 2 on [-1, 1]^2."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = 0.5 * (X[:, 0] + X[:, 1])
    return X, (y + rng.normal(0.0, noise, n)).reshape(-1, 1)


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1],
     [4, -2.5, -1]], dtype=np.float64,
)  # fmt: skip


def _multi_gaussian(rng, n, noise):
    """Six bumps of height +1 or -1; y is the bump nearest in value to +-1."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    centres = _BUMPS[:, :2] / _HALF_WIDTH
    distance2 = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
    heights = _BUMPS[:, 2] * np.exp(-distance2 / (2 * (1.6 / _HALF_WIDTH) ** 2))
    strongest = np.abs(heights).argmax(axis=1)
    y = heights[np.arange(n), strongest]
    return X, (y + rng.normal(0.0, noise, n)).reshape(-1, 1)


_DRAWERS = {
    "circle": _circle,
    "xor": _xor,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "plane": _plane,
    "multi_gaussian": _multi_gaussian,
}


# the digits and the chain


def digits(test_ratio=0.3, seed=0) -> Dataset:
    """The 1,797 8x8 handwritten digits: 64 pixels in [0, 1], one-hot labels."""
    _check_split(test_ratio, seed)
    path = resource_path("digits", "digits.npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as error:
        raise DataError(f"{path}: the digits cannot be read ({error}).") from None
    X = images.reshape(len(images), 64).astype(np.float64) / 16.0
    Y = np.eye(10)[labels]
    rng = np.random.default_rng(seed)
    X_train, Y_train, X_test, Y_test = _split(X, Y, test_ratio, rng)
    return Dataset(
        name="digits",
        X_train=X_train,
        Y_train=Y_train,
        X_test=X_test,
        Y_test=Y_test,
        task="classification",
        n_classes=10,
        source={"kind": "digits", "test_ratio": test_ratio, "seed": seed},
        feature_names=tuple(f"pixel {r},{c}" for r in range(8) for c in range(8)),
        class_names=tuple(str(d) for d in range(10)),
    )


CHAIN_INPUT = 1.0
CHAIN_TARGET = 0.0


def chain() -> Dataset:
    """The lesson's one example for a 1-1-1-1 chain: x = 1.0 should give 0.0."""
    return Dataset(
        name="chain",
        X_train=np.array([[CHAIN_INPUT]]),
        Y_train=np.array([[CHAIN_TARGET]]),
        X_test=np.zeros((0, 1)),
        Y_test=np.zeros((0, 1)),
        task="regression",
        n_classes=None,
        source={"kind": "chain"},
        feature_names=("x",),
    )


# CSV files


def load_csv(
    path,
    inputs,
    targets,
    task="regression",
    test_ratio=0.3,
    seed=0,
    source_path=None,
) -> Dataset:
    """Examples from a CSV file with a header row; columns by name or index.

    Inputs are standardised (mean 0, standard deviation 1 over the training
    rows). Regression targets are taken as numbers; for classification the
    one target column holds class labels, turned into one-hot rows.
    """
    path = Path(path)
    if task not in ("regression", "classification"):
        raise DataError(f"task must be regression or classification, not {task!r}.")
    _check_split(test_ratio, seed)
    header_line, header, rows = _read_rows(path)
    input_columns = _columns(path, header_line, header, inputs, "input")
    target_columns = _columns(path, header_line, header, targets, "target")
    _check_apart(path, header, input_columns, target_columns)
    if task == "classification" and len(target_columns) != 1:
        raise DataError(f"{path}: classification needs exactly one target column.")
    X = _numbers(path, header, rows, input_columns)
    if task == "regression":
        Y = _numbers(path, header, rows, target_columns)
        class_names = None
    else:
        Y, class_names = _one_hot(path, rows, target_columns[0])

    rng = np.random.default_rng(seed)
    X_train, Y_train, X_test, Y_test = _split(X, Y, test_ratio, rng)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    source = {
        "kind": "csv",
        "path": str(source_path if source_path is not None else path),
        "inputs": _as_list(inputs),
        "targets": _as_list(targets),
        "task": task,
        "test_ratio": test_ratio,
        "seed": seed,
    }
    return Dataset(
        name=path.stem,
        X_train=(X_train - mean) / std,
        Y_train=Y_train,
        X_test=(X_test - mean) / std,
        Y_test=Y_test,
        task=task,
        n_classes=None if class_names is None else len(class_names),
        source=source,
        feature_names=tuple(header[c] for c in input_columns),
        class_names=class_names,
    )


def _read_rows(path: Path):
    """The header's line number, the header, the rows as (line, cells) pairs."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file.") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: the file is not UTF-8 text.") from None
    except OSError as error:
        raise DataError(
            f"{path}: the file cannot be read ({error.strerror})."
        ) from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise DataError(f"{path}, line 1: the file is empty.")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(lines, delimiter=delimiter)
    rows = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            rows.append((reader.line_num, [cell.strip() for cell in cells]))
    (header_line, header), rows = rows[0], rows[1:]
    if not rows:
        raise DataError(f"{path}, line {header_line + 1}: there are no data rows.")
    for number, cells in rows:
        if len(cells) != len(header):
            raise DataError(
                f"{path}, line {number}: {len(cells)} values where the header "
                f"has {len(header)} columns."
            )
    return header_line, header, rows


def _as_list(columns) -> list:
    """One column name or index, or several, as a list."""
    return [columns] if isinstance(columns, (str, int)) else list(columns)


def _columns(path, header_line, header, wanted, role) -> list:
    """Column indexes for names or indexes; DataError for unknown ones."""
    wanted = _as_list(wanted)
    if not wanted:
        raise DataError(f"{path}: choose at least one {role} column.")
    indexes = []
    for column in wanted:
        if isinstance(column, bool):
            column = str(column)
        if isinstance(column, int) and 0 <= column < len(header):
            indexes.append(column)
        elif isinstance(column, str) and column in header:
            if header.count(column) > 1:
                raise DataError(
                    f"{path}, line {header_line}: the header names {column!r} "
                    f"{header.count(column)} times; pick the column by its index."
                )
            indexes.append(header.index(column))
        else:
            raise DataError(
                f"{path}, line {header_line}: there is no {role} column {column!r}; "
                f"the columns are {', '.join(header)}."
            )
    return indexes


def _check_apart(path, header, input_columns, target_columns) -> None:
    """A target column among the inputs would hand the network the answer."""
    shared = sorted(set(input_columns) & set(target_columns))
    if shared:
        raise DataError(
            f"{path}: column {header[shared[0]]!r} is both an input and a target."
        )


def _numbers(path, header, rows, columns):
    values = np.empty((len(rows), len(columns)))
    for i, (number, cells) in enumerate(rows):
        for j, column in enumerate(columns):
            cell = cells[column]
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
                problem = "is empty" if cell == "" else f"holds {cell!r}, not a number"
            else:
                problem = f"holds {cell!r}, which is not a finite number"
            if not math.isfinite(value):
                raise DataError(
                    f"{path}, line {number}: column {header[column]!r} {problem}."
                )
            values[i, j] = value
    return values


def _one_hot(path, rows, column):
    labels = [cells[column] for _, cells in rows]
    for (number, _), label in zip(rows, labels, strict=True):
        if label == "":
            raise DataError(f"{path}, line {number}: the class label is empty.")
    names = sorted(set(labels), key=_label_order)
    if len(names) < 2:
        raise DataError(f"{path}: the target column holds only one class.")
    position = {name: i for i, name in enumerate(names)}
    Y = np.zeros((len(labels), len(names)))
    Y[np.arange(len(labels)), [position[label] for label in labels]] = 1.0
    return Y, tuple(names)


def _label_order(label: str):
    """Numbers in numeric order first, then text in alphabetical order."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)
