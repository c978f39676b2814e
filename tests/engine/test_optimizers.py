"""Optimizers against updates computed by hand, and against torch.optim."""

import math

import numpy as np
import pytest

from backprop_lab.engine import Network, Trainer
from backprop_lab.engine.optimizers import Adam, Momentum, make_optimizer


def _line(w=0.5, b=0.25):
    """A 1-1 linear network: z = w x + b, quadratic cost (z - y)^2."""
    net = Network([1, 1], ["linear"])
    net.weights[0][...] = w
    net.biases[0][...] = b
    return net


def _train_line(steps, **options):
    net = _line()
    trainer = Trainer(net, [[2.0]], [[1.0]], batch_size=1, **options)
    trainer.step(steps)
    return float(net.weights[0][0, 0]), float(net.biases[0][0])


def _grads(w, b, x=2.0, y=1.0):
    error = 2.0 * (w * x + b - y)
    return error * x, error


def test_sgd_moves_against_the_gradient():
    w, b = 0.5, 0.25
    for _ in range(2):
        gw, gb = _grads(w, b)
        w, b = w - 0.1 * gw, b - 0.1 * gb
    assert _train_line(2, learning_rate=0.1) == pytest.approx((w, b), rel=1e-14)


def test_momentum_keeps_a_velocity_the_pytorch_way():
    w, b, vw, vb = 0.5, 0.25, 0.0, 0.0
    for _ in range(3):
        gw, gb = _grads(w, b)
        vw, vb = 0.8 * vw + gw, 0.8 * vb + gb
        w, b = w - 0.05 * vw, b - 0.05 * vb
    got = _train_line(3, optimizer="momentum", momentum=0.8, learning_rate=0.05)
    assert got == pytest.approx((w, b), rel=1e-14)


def test_adam_is_bias_corrected():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p = np.array([0.5, 0.25])
    m, v = np.zeros(2), np.zeros(2)
    for t in range(1, 4):
        g = np.array(_grads(*p))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    got = _train_line(3, optimizer="adam", learning_rate=lr)
    assert got == pytest.approx(tuple(p), rel=1e-12)


def test_adams_first_step_moves_every_parameter_by_about_the_learning_rate():
    opt = Adam(3, np.float64, learning_rate=0.01)
    out = np.zeros(3)
    opt.update(np.array([1e-3, -5.0, 20.0]), out)
    assert np.allclose(np.abs(out), 0.01, rtol=1e-4)


def test_l2_adds_a_multiple_of_the_weight_and_spares_the_bias():
    gw, gb = _grads(0.5, 0.25)
    expected = (0.5 - 0.1 * (gw + 0.2 * 0.5), 0.25 - 0.1 * gb)
    assert _train_line(1, learning_rate=0.1, l2=0.2) == pytest.approx(expected)


def test_l1_adds_the_sign_of_the_weight():
    net = _line(w=-0.5)
    Trainer(net, [[2.0]], [[1.0]], learning_rate=0.1, l1=0.3).step()
    gw, _ = _grads(-0.5, 0.25)
    assert net.weights[0][0, 0] == pytest.approx(-0.5 - 0.1 * (gw - 0.3))


def test_momentum_state_and_reset():
    opt = Momentum(2, np.float64, learning_rate=1.0, momentum=0.5)
    out = np.zeros(2)
    opt.update(np.array([1.0, 2.0]), out)
    opt.update(np.array([1.0, 2.0]), out)
    assert np.array_equal(out, [1.5, 3.0])
    opt.reset()
    assert not opt.velocity.any()


def test_an_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="rmsprop"):
        make_optimizer("rmsprop", 3, np.float64)


def _torch_run(torch, net, X, Y, optimizer, lr, l2, steps):
    layers = []
    for w, b, name in zip(net.weights, net.biases, net.activations):
        linear = torch.nn.Linear(w.shape[1], w.shape[0]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.Tanh() if name == "tanh" else torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    groups = [{"params": weights, "weight_decay": l2}, {"params": biases}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lr)
    elif optimizer == "momentum":
        opt = torch.optim.SGD(groups, lr=lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(groups, lr=lr)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(steps):
        opt.zero_grad()
        cost = ((model(Xt) - Yt) ** 2).sum() / len(X)
        cost.backward()
        opt.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_updates_match_torch_optim(optimizer):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(8, 3)), rng.random((8, 2))
    net = Network([3, 4, 2], ["tanh", "sigmoid"], seed=5)
    expected = _torch_run(torch, net, X, Y, optimizer, 0.05, 0.01, steps=4)
    trainer = Trainer(
        net, X, Y, optimizer=optimizer, learning_rate=0.05, l2=0.01, batch_size=8
    )
    trainer.step(4)
    got = [p for pair in zip(net.weights, net.biases) for p in pair]
    for a, b in zip(got, expected, strict=True):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-13)
    assert math.isfinite(trainer.history.train[-1])
