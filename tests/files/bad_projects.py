"""Broken project files, one per kind of bad input, shared by loader and CLI tests.

Each case writes a file into a folder and names a fragment that the one
sentence of the error must contain.
"""

import json
from pathlib import Path

from backprop_lab.engine.network import Network
from backprop_lab.engine.trainer import TrainingSettings
from backprop_lab.files.project import Project, project_to_text


def valid_document(folder: Path) -> dict:
    """A small valid project as a JSON document, with a CSV data file beside it."""
    (folder / "points.csv").write_text("x,y,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    project = Project(
        network=Network([2, 3, 1], ["tanh", "sigmoid"], seed=2),
        settings=TrainingSettings(cost="quadratic", optimizer="sgd"),
        data={
            "kind": "csv",
            "path": str(folder / "points.csv"),
            "inputs": ["x", "y"],
            "targets": ["label"],
            "task": "regression",
            "test_ratio": 0.0,
            "seed": 0,
        },
        name="small",
    )
    return json.loads(project_to_text(project, folder))


def _edited(edit):
    """A case that changes the valid document with edit(document)."""

    def write(path: Path) -> None:
        document = valid_document(path.parent)
        edit(document)
        path.write_text(json.dumps(document))

    return write


def _text(text: str):
    return lambda path: path.write_text(text)


def _bytes(data: bytes):
    return lambda path: path.write_bytes(data)


def _truncated(path: Path) -> None:
    text = json.dumps(valid_document(path.parent), indent=1)
    path.write_text(text[: len(text) // 2])


def _not_utf8(path: Path) -> None:
    text = json.dumps(valid_document(path.parent))
    path.write_bytes(text.replace('"small"', '"sm\xe4ll"').encode("latin-1"))


def _folder(path: Path) -> None:
    path.mkdir()


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _delete(*keys):
    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


def _layer(key: str, value):
    def edit(document):
        document["network"]["layers"][0][key] = value

    return edit


def _replaced(old: str, new: str):
    """A case that replaces the first `old` in the valid file's text."""

    def write(path: Path) -> None:
        text = json.dumps(valid_document(path.parent))
        assert old in text
        path.write_text(text.replace(old, new, 1))

    return write


def _csv_line(line: int, text: str | None):
    """A valid project whose CSV data has `text` as its line `line`.

    With text None the CSV file is left empty.
    """

    def write(path: Path) -> None:
        path.write_text(json.dumps(valid_document(path.parent)))
        csv_path = path.parent / "points.csv"
        lines = csv_path.read_text().splitlines()
        lines[line - 1] = text
        csv_path.write_text("" if text is None else "\n".join(lines) + "\n")

    return write


def _absurd_sizes(document) -> None:
    document["network"]["sizes"] = [10**9, 10**9, 1]


# name -> (write(path), fragment expected in the message)
BAD_CASES = {
    "not_json": (_text("this is not JSON at all"), "not valid JSON"),
    "truncated": (_truncated, "cut short"),
    "empty": (_bytes(b""), "empty"),
    "folder": (_folder, "folder"),
    "not_utf8": (_not_utf8, "not UTF-8"),
    "other_format": (_edited(_set("format", "kicad-project")), "not a Backprop"),
    "no_format": (_text('{"sizes": [1, 1]}'), "not a Backprop"),
    "json_list": (_text("[1, 2, 3]"), "not a Backprop"),
    "newer_version": (_edited(_set("version", 7)), "newer"),
    "missing_network": (_edited(_delete("network")), "'network' is missing"),
    "missing_settings": (_edited(_delete("settings")), "'settings' is missing"),
    "missing_sizes": (
        _edited(_delete("network", "sizes")),
        "'network.sizes' is missing",
    ),
    "missing_biases": (
        _edited(lambda d: d["network"]["layers"][1].pop("biases")),
        "'biases' of layer 2 is missing",
    ),
    "wrong_type_version": (_edited(_set("version", "1")), "must be a whole number"),
    "wrong_type_layers": (_edited(_set("network", "layers", {})), "must be a list"),
    "wrong_type_weight": (
        _edited(_layer("weights", [[1, "2"], [3, 4], [5, 6]])),
        "text where a number belongs",
    ),
    "size_zero": (_edited(_set("network", "sizes", [2, 0, 1])), "at least 1"),
    "size_negative": (_edited(_set("network", "sizes", [2, -3, 1])), "at least 1"),
    "size_not_integer": (_edited(_set("network", "sizes", [2, 2.5, 1])), "whole"),
    "size_absurd": (_edited(_absurd_sizes), "neurons is more than"),
    "weights_shape": (
        _edited(_layer("weights", [[1.0, 2.0], [3.0, 4.0]])),
        "have 2 rows, but the layer has 3 neurons",
    ),
    "row_length": (
        _edited(_layer("weights", [[1.0], [3.0], [4.0]])),
        "has 1 number, but the layer has 2 inputs",
    ),
    "biases_length": (_edited(_layer("biases", [0.0])), "1 number, not 3"),
    "mask_values": (_edited(_layer("mask", [[1, 2], [1, 1], [0, 1]])), "0 and 1"),
    "nan": (_replaced('"biases": [0.0', '"biases": [NaN'), "NaN"),
    "infinity": (_replaced('"biases": [0.0', '"biases": [1e999'), "too large"),
    "unknown_activation": (
        _edited(_set("network", "activations", ["tanh", "swish"])),
        "unknown activation 'swish'",
    ),
    "unknown_dtype": (
        _edited(_set("network", "dtype", "float16")),
        "dtype 'float16' is unknown",
    ),
    "unknown_cost": (
        _edited(_set("settings", "cost", "hinge")),
        "cost 'hinge' is unknown",
    ),
    "learning_rate_zero": (
        _edited(_set("settings", "learning_rate", 0)),
        "learning_rate must be a finite number greater than 0, not 0",
    ),
    "batch_size_zero": (
        _edited(_set("settings", "batch_size", 0)),
        "batch_size must be at least 1, not 0",
    ),
    "test_ratio_one": (
        _edited(_set("data", "test_ratio", 1.0)),
        "some rows must be left for training",
    ),
    "unknown_optimizer": (
        _edited(_set("settings", "optimizer", "lbfgs")),
        "optimizer 'lbfgs' is unknown",
    ),
    "data_unknown_set": (
        _edited(lambda d: d.update(data={"kind": "builtin", "name": "moons"})),
        "unknown data set 'moons'",
    ),
    "data_does_not_fit": (
        _edited(lambda d: d.update(data={"kind": "digits"})),
        "its data has 64 inputs and 10 outputs, but the network has 2 inputs",
    ),
    "missing_csv": (
        _edited(_set("data", "path", "nowhere/points.csv")),
        "nowhere/points.csv does not exist",
    ),
    "csv_ragged": (_csv_line(3, "1,1"), "line 3: 2 values where the header has 3"),
    "csv_text": (_csv_line(4, "0,one,1"), "line 4: column 'y' holds 'one'"),
    "csv_empty": (_csv_line(1, None), "points.csv, line 1: the file is empty"),
}


def write_bad_project(folder: Path, case: str) -> tuple[Path, str]:
    """Write the broken file of `case` in `folder`; returns (path, fragment)."""
    write, fragment = BAD_CASES[case]
    path = folder / f"{case}.bplab"
    write(path)
    return path, fragment
