"""Growing histories and their min/max envelope for drawing.

A history of n steps is drawn with about two points per pixel of the plot's
width. To make that cost depend on the width and not on n, the history keeps
a pyramid of block summaries (minimum, maximum, first and last value of
blocks of 8, 64, 512, ... steps), extended as steps arrive. Drawing picks the
coarsest level whose blocks are still narrower than one pixel and merges its
blocks into pixel buckets with `reduceat`.

Plain NumPy; used on the GUI thread.
"""

from dataclasses import dataclass

import numpy as np

FACTOR = 8
# appends kept aside at most before they are summarised anyway
MAX_WAITING = 256


class GrowingArray:
    """Rows appended in amortised O(1); `values` is a view of the rows so far."""

    def __init__(self, row_shape=(), dtype=np.float64, capacity=1024):
        self._data = np.empty((capacity, *row_shape), dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._n]

    def append(self, rows) -> None:
        rows = np.asarray(rows, self._data.dtype)
        needed = self._n + len(rows)
        if needed > len(self._data):
            capacity = max(needed, 2 * len(self._data))
            grown = np.empty((capacity, *self._data.shape[1:]), self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : needed] = rows
        self._n = needed

    def clear(self) -> None:
        self._n = 0


@dataclass
class _Level:
    """Summaries of blocks of FACTOR**k steps; y arrays are (n_blocks, k)."""

    x_first: GrowingArray
    x_last: GrowingArray
    low: GrowingArray
    high: GrowingArray
    first: GrowingArray
    last: GrowingArray

    @classmethod
    def empty(cls, n_columns):
        def column():
            return GrowingArray((n_columns,))

        return cls(
            GrowingArray(), GrowingArray(), column(), column(), column(), column()
        )

    def __len__(self) -> int:
        return len(self.x_first)

    def arrays(self, start=0, stop=None):
        parts = (self.x_first, self.x_last, self.low, self.high, self.first, self.last)
        return [p.values[start:stop] for p in parts]


class Envelope:
    """A history x (n,) with values y (n, n_columns) and its block pyramid.

    Non-finite values (a diverged cost) are kept as NaN: the curve breaks
    there instead of stretching the axis to infinity.
    """

    def __init__(self, n_columns=1):
        self.n_columns = n_columns
        self._x = GrowingArray()
        self._y = GrowingArray((n_columns,))
        self._levels: list[_Level] = []
        # appended rows not yet in the arrays: they are added in one go when
        # read, so many small appends between two drawings cost one
        self._waiting: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        self._take_waiting()
        return len(self._x)

    @property
    def x(self) -> np.ndarray:
        self._take_waiting()
        return self._x.values

    @property
    def y(self) -> np.ndarray:
        self._take_waiting()
        return self._y.values

    def clear(self) -> None:
        self._x.clear()
        self._y.clear()
        self._levels = []
        self._waiting = []

    def append(self, x, y) -> None:
        """Add steps x (m,) with values y (m,) or (m, n_columns)."""
        x = np.asarray(x, np.float64).reshape(-1)
        y = np.asarray(y, np.float64)
        if y.size != len(x) * self.n_columns:
            raise ValueError(
                f"{len(x)} steps need {len(x) * self.n_columns} values, not {y.size}"
            )
        y = y.reshape(len(x), self.n_columns)
        if not len(x):
            return
        self._waiting.append((x, y))
        if len(self._waiting) >= MAX_WAITING:
            self._take_waiting()  # a view not drawn for long keeps little aside

    def _take_waiting(self) -> None:
        if not self._waiting:
            return
        waiting, self._waiting = self._waiting, []
        y = np.concatenate([rows for _, rows in waiting])
        self._x.append(np.concatenate([steps for steps, _ in waiting]))
        self._y.append(np.where(np.isfinite(y), y, np.nan))
        self._extend_levels()

    def _extend_levels(self) -> None:
        below = self._raw_arrays()
        k = 0
        while len(below[0]) >= FACTOR:
            if k == len(self._levels):
                self._levels.append(_Level.empty(self.n_columns))
            level = self._levels[k]
            start = len(level) * FACTOR
            stop = (len(below[0]) // FACTOR) * FACTOR
            if stop > start:
                _append_blocks(level, [a[start:stop] for a in below])
            below = level.arrays()
            k += 1

    def _raw_arrays(self):
        x, y = self._x.values, self._y.values
        return [x, x, y, y, y, y]

    def _level_arrays(self, k):
        return self._raw_arrays() if k == 0 else self._levels[k - 1].arrays()

    def _level_sizes(self):
        return [len(self._x)] + [len(level) for level in self._levels]

    def points(self, n_buckets: int, x_range=None):
        """About 2 * n_buckets points (x, y) tracing the history's envelope.

        x_range: (x0, x1) to draw only that part of the steps (plus one step
        either side so the curve reaches the edges), or None for all.
        """
        n_buckets = max(int(n_buckets), 1)
        self._take_waiting()
        sizes = self._level_sizes()
        if sizes[0] == 0:
            return np.zeros(0), np.zeros((0, self.n_columns))
        start, stop = self._visible_raw(x_range)
        k = self._pick_level(stop - start, n_buckets, sizes)
        parts = self._entries(k, start, stop, sizes)
        if k == 0 and len(parts[0]) <= 2 * n_buckets:
            return parts[0], parts[2]
        return _buckets(parts, n_buckets)

    def _visible_raw(self, x_range):
        n = len(self._x)
        if x_range is None:
            return 0, n
        x = self._x.values
        start = max(int(np.searchsorted(x, x_range[0], "left")) - 1, 0)
        stop = min(int(np.searchsorted(x, x_range[1], "right")) + 1, n)
        return start, max(stop, start)

    @staticmethod
    def _pick_level(n_visible, n_buckets, sizes):
        per_bucket = n_visible / n_buckets
        k = 0
        while k + 1 < len(sizes) and FACTOR ** (k + 1) <= per_bucket:
            k += 1
        return k

    def _entries(self, k, start, stop, sizes):
        """Level-k blocks covering raw steps [start, stop), plus finer tails."""
        width = FACTOR**k
        first_block = start // width
        last_block = min(stop // width, sizes[k])
        pieces = [[a[first_block:last_block] for a in self._level_arrays(k)]]
        covered = last_block * width
        for j in range(k - 1, -1, -1):
            block = FACTOR**j
            lo = covered // block
            hi = min(stop // block, sizes[j]) if j else stop
            if hi > lo:
                pieces.append([a[lo:hi] for a in self._level_arrays(j)])
                covered = hi * block
        if len(pieces) == 1:
            return pieces[0]
        return [np.concatenate(column) for column in zip(*pieces)]


def _append_blocks(level: _Level, arrays) -> None:
    x_first, x_last, low, high, first, last = arrays
    n_columns = low.shape[1]
    shape = (-1, FACTOR, n_columns)
    level.x_first.append(x_first[::FACTOR])
    level.x_last.append(x_last[FACTOR - 1 :: FACTOR])
    level.low.append(np.fmin.reduce(low.reshape(shape), axis=1))
    level.high.append(np.fmax.reduce(high.reshape(shape), axis=1))
    level.first.append(first[::FACTOR])
    level.last.append(last[FACTOR - 1 :: FACTOR])


def _buckets(parts, n_buckets):
    """Merge block summaries into n_buckets; two points per bucket."""
    x_first, x_last, low, high, first, last = parts
    n = len(x_first)
    starts = np.unique(np.linspace(0, n, min(n_buckets, n) + 1).astype(np.intp)[:-1])
    ends = np.append(starts[1:], n) - 1
    low = np.fmin.reduceat(low, starts, axis=0)
    high = np.fmax.reduceat(high, starts, axis=0)

    # a falling bucket is drawn from its maximum to its minimum
    falling = first[starts] > last[ends]
    y = np.empty((2 * len(starts), low.shape[1]))
    y[0::2] = np.where(falling, high, low)
    y[1::2] = np.where(falling, low, high)
    x = np.empty(2 * len(starts))
    x[0::2] = x_first[starts]
    x[1::2] = x_last[ends]
    return x, y


class BlockMeans:
    """Means of consecutive blocks of `size` values, fed in pieces.

    The minibatch cost of single steps is noisy; the mean of a block of steps
    shows the trend. Each complete block gives one point at its last step.
    """

    def __init__(self, size: int):
        self.size = int(size)
        self.clear()

    def clear(self) -> None:
        self._x = np.zeros(0)
        self._y = np.zeros(0)

    def push(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """The (step, mean) points of the blocks that `x`, `y` complete."""
        x = np.concatenate([self._x, np.asarray(x, dtype=float)])
        y = np.concatenate([self._y, np.asarray(y, dtype=float)])
        done = len(x) // self.size * self.size
        self._x, self._y = x[done:], y[done:]
        blocks = y[:done].reshape(-1, self.size)
        return x[self.size - 1 : done : self.size], blocks.mean(axis=1)
