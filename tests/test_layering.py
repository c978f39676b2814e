"""The engine and the file code must run without Qt."""

import subprocess
import sys

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


def test_engine_and_files_load_no_qt_module():
    code = (
        "import sys\n"
        "import backprop_lab.engine, backprop_lab.files, backprop_lab.cli\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
