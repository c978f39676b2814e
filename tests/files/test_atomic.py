"""Saves and exports replace a file whole or not at all."""

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.engine.history import CostHistory
from backprop_lab.engine.network import Network
from backprop_lab.files.atomic import write_atomically
from backprop_lab.files.export import (
    ExportError,
    export_history_csv,
    export_json,
    export_npz,
    export_onnx,
)

NET = Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
HISTORY = CostHistory.from_arrays([1, 2], [0.5, 0.25], grad_norms=np.ones((2, 2)))
EXPORTS = {
    "npz": lambda path: export_npz(NET, path),
    "json": lambda path: export_json(NET, path),
    "onnx": lambda path: export_onnx(NET, path),
    "csv": lambda path: export_history_csv(HISTORY, path),
}


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_a_failed_export_leaves_the_old_file_and_no_temporary(
    tmp_path, monkeypatch, fmt
):
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(b"the previous export")

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ExportError, match=r"Cannot write .*out\..*: no space left"):
        EXPORTS[fmt](path)
    assert path.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_an_export_replaces_the_old_file_whole(tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(b"x" * 100_000)
    EXPORTS[fmt](path)
    fresh = tmp_path / f"fresh.{fmt}"
    EXPORTS[fmt](fresh)
    assert path.read_bytes() == fresh.read_bytes()


def test_a_device_is_written_directly_and_stays_a_device():
    devnull = Path(os.devnull)
    if not devnull.exists() or not stat.S_ISCHR(devnull.stat().st_mode):
        pytest.skip("no character device to write to")
    export_json(NET, devnull)
    assert stat.S_ISCHR(devnull.stat().st_mode)


def test_a_symbolic_link_stays_a_link_to_the_new_content(tmp_path):
    target = tmp_path / "real.txt"
    target.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomically(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        write_atomically(tmp_path, b"data")
    with pytest.raises(ExportError, match="Cannot write .*: is a directory"):
        export_json(NET, tmp_path)
