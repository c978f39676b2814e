"""Writing a file so that a failed or killed write leaves the old one whole.

The new bytes go to a temporary file in the same folder, which is flushed,
synced to disk and renamed over the old file. A path that is not a regular
file (a terminal, a pipe such as /dev/stdout) is written directly, and a
symbolic link is followed, so the link stays and its target is replaced.
"""

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path, data: bytes) -> None:
    """Write `data` to `path` atomically; OSError if it cannot be written."""
    path = Path(path)
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", os.fspath(path))
        with open(path, "wb") as stream:
            stream.write(data)
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    folder = path.parent if str(path.parent) else Path(".")
    mode = _file_mode(path)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(folder)


def reason(error: OSError) -> str:
    """What went wrong, in lower case, as in 'no space left on device'."""
    return (error.strerror or str(error)).lower()


def _file_mode(path: Path) -> int:
    """The mode of the file being replaced, or the umask's default."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the system allows syncing a folder."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
