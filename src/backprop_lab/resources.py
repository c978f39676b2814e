"""Where the shipped resources (examples, the digits data, icons) live."""

import sys
from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "resources",
    Path(getattr(sys, "_MEIPASS", "/nonexistent")) / "resources",
    Path(sys.prefix) / "share" / "backprop-lab" / "resources",
)


def resources_dir() -> Path:
    """The resources folder of a source checkout or an installed copy."""
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("Backprop Lab's resources folder was not found.")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
