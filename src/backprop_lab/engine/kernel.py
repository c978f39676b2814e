"""The trainer's lean backpropagation: preallocated buffers, no allocations.

Every parameter lives in one flat vector `theta`. Layer l's weights and
biases sit side by side in it as an augmented matrix [W | b] of shape
(n_out, n_in + 1), and every layer's activations carry an extra column of
ones, so z = a_aug @ [W | b].T and dC/d[W | b] = delta.T @ a_aug each take a
single matrix product. The network's `weights` and `biases` become views of
this vector, so the trainer updates the network in place.

The sensitivities (deltas) here are pre-divided by the batch size, so the
products give batch means directly; `Plan.gradients` undoes that for display.
"""

import numpy as np

from backprop_lab.engine import costs
from backprop_lab.engine.activations import LEAKY_SLOPE
from backprop_lab.engine.network import Gradients


class FlatParameters:
    """A network's weights and biases as views of one flat vector."""

    def __init__(self, net):
        self.sizes = list(net.sizes)
        self.activations = list(net.activations)
        self.dtype = net.dtype
        self.shapes = [
            (n_out, n_in + 1)
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ]
        bounds = np.cumsum([0] + [rows * cols for rows, cols in self.shapes])
        self.bounds = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        self.size = int(bounds[-1])

        self.theta = np.zeros(self.size, self.dtype)
        self.grad = np.zeros(self.size, self.dtype)
        self.effective = np.zeros(self.size, self.dtype)
        self.update = np.zeros(self.size, self.dtype)
        self.backup = np.zeros(self.size, self.dtype)
        self.penalty = np.zeros(self.size, self.dtype)

        self.waug = self._views(self.theta)
        self.gaug = self._views(self.grad)
        self.grad_segments = [self.grad[a:b] for a, b in self.bounds]
        self.weights = [w[:, :-1] for w in self.waug]
        self.biases = [w[:, -1] for w in self.waug]
        self.masks = list(net.masks)
        for w, b, w_old, b_old in zip(
            self.weights, self.biases, net.weights, net.biases, strict=True
        ):
            w[...] = w_old
            b[...] = b_old

        # 1 on weights, 0 on biases: the penalties act on weights only
        self.weight_flags = np.ones(self.size, self.dtype)
        for view in self._views(self.weight_flags):
            view[:, -1] = 0.0
        self.mask = None
        if not all(m.all() for m in self.masks):
            self.mask = np.ones(self.size, self.dtype)
            for view, m in zip(self._views(self.mask), self.masks, strict=True):
                view[:, :-1] = m
            self.theta *= self.mask

    def _views(self, flat):
        return [
            flat[a:b].reshape(shape)
            for (a, b), shape in zip(self.bounds, self.shapes, strict=True)
        ]

    def attach(self, net) -> None:
        """Make the network's weights and biases views of `theta`."""
        net.weights = list(self.weights)
        net.biases = list(self.biases)

    def is_attached(self, net) -> bool:
        """True while the network's arrays are still this vector's views."""
        return (
            len(net.weights) == len(self.weights)
            and all(a is b for a, b in zip(net.weights, self.weights))
            and all(a is b for a, b in zip(net.biases, self.biases))
            and all(a is b for a, b in zip(net.masks, self.masks))
            and net.activations == self.activations
        )

    def segment(self, layer: int) -> slice:
        a, b = self.bounds[layer]
        return slice(a, b)


class Plan:
    """Buffers of one forward and backward pass over `rows` examples.

    With `inputs` and `targets` given (the whole data set, in order) the plan
    reads them directly; otherwise `load` copies a minibatch into its own.
    """

    def __init__(self, flat: FlatParameters, rows: int, inputs=None, targets=None):
        sizes, dtype = flat.sizes, flat.dtype
        n_layers = len(sizes) - 1
        self.rows = rows
        self.flat = flat
        self.activations = flat.activations

        if inputs is None:
            inputs = np.ones((rows, sizes[0] + 1), dtype)
            targets = np.zeros((rows, sizes[-1]), dtype)
        self.a_aug = [inputs]
        for n in sizes[1:-1]:
            self.a_aug.append(np.ones((rows, n + 1), dtype))
        self.a_aug.append(np.zeros((rows, sizes[-1]), dtype))
        self.a = [inputs[:, :-1]] + [x[:, :-1] for x in self.a_aug[1:-1]]
        self.a.append(self.a_aug[-1])
        self.targets = targets

        self.z = [np.zeros((rows, n), dtype) for n in sizes[1:]]
        self.delta = [np.zeros((rows, n), dtype) for n in sizes[1:]]
        self.sens = [None] + [np.zeros((rows, n), dtype) for n in sizes[1:-1]]
        self.tmp = [None] + [np.zeros((rows, n), dtype) for n in sizes[1:]]
        self.flags = [None] + [np.zeros((rows, n), bool) for n in sizes[1:]]
        self.diff = np.zeros((rows, sizes[-1]), dtype)
        self.diff_flat = self.diff.reshape(-1)
        self.row_max = np.zeros((rows, 1), dtype)
        self.row_sums = np.zeros((rows, 1), dtype)
        self.log_sums = np.zeros((rows, 1), dtype)
        self.targets_flat = self.targets.reshape(-1)
        self.z_out_flat = self.z[-1].reshape(-1)
        self.n_layers = n_layers

    def load(self, X_aug, Y, indices) -> None:
        """Copy the rows `indices` of the data into the plan's inputs."""
        # mode="clip" writes straight into the buffer; "raise" would copy twice
        np.take(X_aug, indices, axis=0, out=self.a_aug[0], mode="clip")
        np.take(Y, indices, axis=0, out=self.targets, mode="clip")

    def forward(self) -> None:
        waug, a_aug, z, a = self.flat.waug, self.a_aug, self.z, self.a
        for layer, name in enumerate(self.activations):
            np.dot(a_aug[layer], waug[layer].T, out=z[layer])
            _FORWARD[name](z[layer], a[layer + 1], self, layer + 1)

    def cost_and_output_delta(self, cost: str) -> float:
        """Batch cost; fills delta of the output layer divided by the batch size."""
        name = self.activations[-1]
        a_out, Y, rows = self.a[-1], self.targets, self.rows
        delta = self.delta[-1]
        if cost == "quadratic":
            diff = self.diff
            np.subtract(a_out, Y, out=diff)
            value = float(np.dot(self.diff_flat, self.diff_flat)) / rows
            diff *= 2.0 / rows
            _BACKWARD[name](self.z[-1], a_out, diff, delta, self, self.n_layers)
            return value
        if name == "softmax":
            # z holds z - max per row and row_sums the sum of exp of that,
            # so log a = z - log(row_sums): no log(0) however small a is
            np.log(self.row_sums, out=self.log_sums)
            np.subtract(self.z[-1], self.log_sums, out=self.z[-1])
            value = -float(np.dot(self.targets_flat, self.z_out_flat)) / rows
        else:
            value = costs.cost_value(cost, name, self.z[-1], a_out, Y)
        np.subtract(a_out, Y, out=delta)
        delta *= 1.0 / rows
        return value

    def backward(self) -> None:
        """dC/d[W | b] of every layer into the flat gradient."""
        flat, a_aug, delta = self.flat, self.a_aug, self.delta
        for layer in range(self.n_layers - 1, -1, -1):
            np.dot(delta[layer].T, a_aug[layer], out=flat.gaug[layer])
            if layer == 0:
                break
            sens = self.sens[layer]
            np.dot(delta[layer], flat.weights[layer], out=sens)
            name = self.activations[layer - 1]
            z, a = self.z[layer - 1], self.a[layer]
            _BACKWARD[name](z, a, sens, delta[layer - 1], self, layer)

    def gradients(self, value: float, cost: str) -> Gradients:
        """The last pass as a Gradients result, in the network's own units."""
        flat, rows = self.flat, self.rows
        weights = [g[:, :-1].copy() for g in flat.gaug]
        biases = [g[:, -1].copy() for g in flat.gaug]
        deltas = [d * rows for d in self.delta]
        output = costs.sensitivity(cost, self.activations[-1], self.a[-1], self.targets)
        sens = [None] + [s * rows for s in self.sens[1:]] + [output]
        return Gradients(value, weights, biases, sens, deltas)


# forward through an activation: a = s(z), written into `out`


def _sigmoid_forward(z, out, plan, index):
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


def _tanh_forward(z, out, plan, index):
    np.tanh(z, out=out)


def _relu_forward(z, out, plan, index):
    np.maximum(z, 0.0, out=out)


def _leaky_forward(z, out, plan, index):
    np.multiply(z, LEAKY_SLOPE, out=out)
    np.maximum(z, out, out=out)


def _linear_forward(z, out, plan, index):
    np.copyto(out, z)


def _softmax_forward(z, out, plan, index):
    np.maximum.reduce(z, axis=1, keepdims=True, out=plan.row_max)
    z -= plan.row_max
    np.exp(z, out=out)
    np.add.reduce(out, axis=1, keepdims=True, out=plan.row_sums)
    out /= plan.row_sums


# backward through an activation: dC/dz = s'(z) * dC/da, written into `out`


def _sigmoid_backward(z, a, sens, out, plan, index):
    tmp = plan.tmp[index]
    np.subtract(1.0, a, out=tmp)
    tmp *= a
    np.multiply(sens, tmp, out=out)


def _tanh_backward(z, a, sens, out, plan, index):
    tmp = plan.tmp[index]
    np.multiply(a, a, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.multiply(sens, tmp, out=out)


def _relu_backward(z, a, sens, out, plan, index):
    flags = plan.flags[index]
    np.greater(z, 0.0, out=flags)
    np.multiply(sens, flags, out=out)


def _leaky_backward(z, a, sens, out, plan, index):
    flags = plan.flags[index]
    np.greater(z, 0.0, out=flags)
    np.multiply(sens, LEAKY_SLOPE, out=out)
    np.copyto(out, sens, where=flags)


def _linear_backward(z, a, sens, out, plan, index):
    np.copyto(out, sens)


def _softmax_backward(z, a, sens, out, plan, index):
    # Jacobian-vector product: a * (g - sum_i g_i a_i)
    tmp = plan.tmp[index]
    np.multiply(sens, a, out=tmp)
    np.add.reduce(tmp, axis=1, keepdims=True, out=plan.row_sums)
    np.subtract(sens, plan.row_sums, out=out)
    out *= a


_FORWARD = {
    "sigmoid": _sigmoid_forward,
    "tanh": _tanh_forward,
    "relu": _relu_forward,
    "leaky_relu": _leaky_forward,
    "linear": _linear_forward,
    "softmax": _softmax_forward,
}

_BACKWARD = {
    "sigmoid": _sigmoid_backward,
    "tanh": _tanh_backward,
    "relu": _relu_backward,
    "leaky_relu": _leaky_backward,
    "linear": _linear_backward,
    "softmax": _softmax_backward,
}
