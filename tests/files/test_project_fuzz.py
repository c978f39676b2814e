"""Damaged project files load correctly or raise ProjectError, nothing else."""

import json
import tempfile
from pathlib import Path

import numpy as np
from bad_projects import valid_document
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backprop_lab.engine.history import CostHistory
from backprop_lab.files.project import (
    ProjectError,
    load_project,
    project_from_text,
    project_to_text,
    save_project,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_FOLDER = Path(tempfile.mkdtemp(prefix="bplab-fuzz-"))


def _base_text() -> str:
    """A valid project with a CSV source and a history, as saved text."""
    document = valid_document(_FOLDER)
    project = project_from_text(json.dumps(document), "base", _FOLDER)
    project.history = CostHistory.from_arrays(
        [1, 2, 3], [0.5, 0.4, 0.3], [2], [0.45], np.full((3, 2), 0.1)
    )
    return project_to_text(project, _FOLDER)


BASE_TEXT = _base_text()
BASE = json.loads(BASE_TEXT)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value, prefix=()):
    """Every place in a JSON document: tuples of keys and indexes."""
    found = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return found
    for key, item in items:
        found.append(prefix + (key,))
        found.extend(paths(item, prefix + (key,)))
    return found


BASE_PATHS = paths(BASE)


def holder(document, path):
    for key in path[:-1]:
        document = document[key]
    return document


def outcome(load):
    """Load; a project must then save and load again to the same text."""
    try:
        project = load()
    except ProjectError as error:
        message = str(error)
        assert message.startswith("Cannot open ") and "\n" not in message
        return
    text = project_to_text(project, _FOLDER)
    again = project_from_text(text, "again", _FOLDER)
    assert project_to_text(again, _FOLDER) == text


def load_bytes(data: bytes):
    path = _FOLDER / "damaged.bplab"
    path.write_bytes(data)
    return load_project(path)


@FUZZ
@given(st.integers(0, len(BASE_TEXT.encode())))
def test_a_cut_file_loads_or_is_refused_clearly(cut):
    outcome(lambda: load_bytes(BASE_TEXT.encode()[:cut]))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(BASE_TEXT.encode()) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_flipped_bytes_load_or_are_refused_clearly(flips):
    data = bytearray(BASE_TEXT.encode())
    for position, value in flips:
        data[position] = value
    outcome(lambda: load_bytes(bytes(data)))


@FUZZ
@given(st.sampled_from(BASE_PATHS))
def test_a_deleted_field_loads_or_is_refused_clearly(path):
    document = json.loads(BASE_TEXT)
    del holder(document, path)[path[-1]]
    text = json.dumps(document)
    outcome(lambda: project_from_text(text, "deleted.bplab", _FOLDER))


@FUZZ
@given(st.sampled_from(BASE_PATHS), json_values)
@example(path=("data", "targets"), value=0)
def test_a_retyped_field_loads_or_is_refused_clearly(path, value):
    document = json.loads(BASE_TEXT)
    holder(document, path)[path[-1]] = value
    text = json.dumps(document)
    outcome(lambda: project_from_text(text, "retyped.bplab", _FOLDER))


def test_the_undamaged_base_loads_and_saves_to_the_same_text(tmp_path):
    project = project_from_text(BASE_TEXT, "base", _FOLDER)
    save_project(project, _FOLDER / "base.bplab")
    assert (_FOLDER / "base.bplab").read_text() == BASE_TEXT
