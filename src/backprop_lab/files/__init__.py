"""Project files, exports and the shipped examples. Imports no Qt."""

from backprop_lab.files.examples import example_paths
from backprop_lab.files.export import (
    ExportError,
    export_history_csv,
    export_json,
    export_npz,
    export_onnx,
    import_npz_weights,
)
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

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ExportError",
    "Project",
    "ProjectError",
    "example_paths",
    "export_history_csv",
    "export_json",
    "export_npz",
    "export_onnx",
    "import_npz_weights",
    "load_project",
    "project_from_text",
    "project_to_text",
    "save_project",
]
