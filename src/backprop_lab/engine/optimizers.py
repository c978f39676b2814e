"""Optimizers that turn a gradient into a parameter update.

Each works on one flat vector holding every parameter, so an update costs the
same handful of NumPy calls whatever the number of layers. The conventions are
PyTorch's: momentum keeps v = mu v + g and moves w -= lr v; Adam keeps
bias-corrected first and second moments. An optimizer writes the update u into
a buffer; the trainer then moves the parameters by w -= u.
"""

import math

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")


class SGD:
    """Plain gradient descent: u = lr g."""

    name = "sgd"

    def __init__(self, size: int, dtype, learning_rate=0.1, **_ignored):
        self.size = size
        self.dtype = np.dtype(dtype)
        self.learning_rate = learning_rate

    def configure(self, learning_rate=0.1, **_ignored) -> None:
        self.learning_rate = learning_rate

    def reset(self) -> None:
        """Forget all state."""

    def state_arrays(self) -> list:
        return []

    def update(self, grad, out) -> None:
        np.multiply(grad, self.learning_rate, out=out)


class Momentum(SGD):
    """Gradient descent with momentum: v = mu v + g, u = lr v."""

    name = "momentum"

    def __init__(self, size: int, dtype, learning_rate=0.1, momentum=0.9, **_ignored):
        super().__init__(size, dtype, learning_rate)
        self.momentum = momentum
        self.velocity = np.zeros(size, self.dtype)

    def configure(self, learning_rate=0.1, momentum=0.9, **_ignored) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum

    def reset(self) -> None:
        self.velocity.fill(0.0)

    def state_arrays(self) -> list:
        return [self.velocity]

    def update(self, grad, out) -> None:
        v = self.velocity
        v *= self.momentum
        v += grad
        np.multiply(v, self.learning_rate, out=out)


class Adam(SGD):
    """Adam with bias correction, as torch.optim.Adam computes it."""

    name = "adam"

    def __init__(
        self,
        size: int,
        dtype,
        learning_rate=0.001,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        **_ignored,
    ):
        super().__init__(size, dtype, learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.first = np.zeros(size, self.dtype)
        self.second = np.zeros(size, self.dtype)
        self._scratch = np.zeros(size, self.dtype)
        self.t = 0

    def configure(
        self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, **_ignored
    ) -> None:
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def reset(self) -> None:
        self.first.fill(0.0)
        self.second.fill(0.0)
        self.t = 0

    def state_arrays(self) -> list:
        return [self.first, self.second]

    def update(self, grad, out) -> None:
        m, v, tmp = self.first, self.second, self._scratch
        b1, b2 = self.beta1, self.beta2
        self.t += 1

        # moments: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp

        # bias-corrected step: lr / c1 * m / (sqrt(v) / sqrt(c2) + eps)
        step_size = self.learning_rate / (1.0 - b1**self.t)
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2**self.t)
        tmp += self.eps
        np.divide(m, tmp, out=out)
        out *= step_size


_CLASSES = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, size: int, dtype, **settings):
    """The optimizer called `name` for `size` parameters."""
    if name not in _CLASSES:
        raise ValueError(
            f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}"
        )
    return _CLASSES[name](size, dtype, **settings)


def carry_state(old, new, pieces) -> None:
    """Copy old's state into new for each (old slice, new slice) in pieces."""
    if type(old) is not type(new):
        return
    for source, target in zip(old.state_arrays(), new.state_arrays(), strict=True):
        for old_slice, new_slice in pieces:
            target[new_slice] = source[old_slice]
    if isinstance(old, Adam):
        new.t = old.t
