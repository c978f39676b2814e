"""How many threads NumPy's BLAS may use while the trainer steps.

On the small matrices of this app extra BLAS threads cost more than they give,
and on a busy machine (the GUI thread draws while the worker trains) they can
make a step several times slower; on products of millions of multiply-adds
they start to pay. `limit_blas_threads(n)` sets the count for a
with-block and restores it afterwards. It talks to the OpenBLAS that NumPy
loaded through ctypes (a microsecond per call); failing that it uses
threadpoolctl when that is installed; otherwise it changes nothing.
"""

import contextlib
import ctypes
import functools
import logging

logger = logging.getLogger(__name__)

_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@functools.cache
def _openblas():
    """(get, set) functions of the loaded OpenBLAS, or None."""
    import numpy  # noqa: F401  (loads the BLAS library first)

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return None
    paths = sorted({line.split()[-1] for line in lines if "openblas" in line.lower()})
    for path in paths:
        if not path.startswith("/"):
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _SYMBOLS:
            if hasattr(library, get_name) and hasattr(library, set_name):
                get, put = getattr(library, get_name), getattr(library, set_name)
                get.restype = ctypes.c_int
                put.argtypes = [ctypes.c_int]
                logger.debug("BLAS threads set through %s", path)
                return get, put
    return None


@functools.cache
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        logger.debug("the BLAS thread count cannot be set here")
        return None
    return ThreadpoolController()


def current_blas_threads() -> int | None:
    """The BLAS thread count now, if it can be read."""
    functions = _openblas()
    if functions is not None:
        return int(functions[0]())
    controller = _controller()
    if controller is None:
        return None
    counts = [lib.num_threads for lib in controller.lib_controllers]
    return max(counts, default=None)


# above this many multiply-adds in one matrix product, threads start to pay
AUTO_THRESHOLD = 4_000_000


def auto_blas_threads(sizes, batch_size: int) -> int | None:
    """1 when every product of a step is small, else None (the library decides)."""
    largest = max((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return 1 if largest * batch_size < AUTO_THRESHOLD else None


@contextlib.contextmanager
def limit_blas_threads(n: int | None):
    """Run the block with at most n BLAS threads; None leaves the count alone."""
    if n is None:
        yield
        return
    functions = _openblas()
    if functions is not None:
        get, put = functions
        before = get()
        if before == n:
            yield
            return
        put(n)
        try:
            yield
        finally:
            put(before)
        return
    controller = _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=n, user_api="blas"):
        yield
