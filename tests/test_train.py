"""Tests of course.train: the loop, determinism, schedules, early stopping, the digits goal."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import load_digits, moons, noisy_regression, train_test_split, xor
from course.mlp import MLP
from course.optim import SGD, step_decay
from course.train import History, evaluate, train


def test_one_epoch_of_full_batch_sgd_is_one_gradient_step():
    X, Y = xor()
    net = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce", seed=0)
    reference = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce", seed=0)
    g = reference.gradients(X, Y)
    train(net, X, Y, epochs=1, batch_size=4, optimizer="sgd", lr=0.5)
    for k in net.params:
        np.testing.assert_allclose(net.params[k], reference.params[k] - 0.5 * g[k], rtol=1e-14)


def test_history_records_every_epoch_and_the_cost_falls():
    X, y = moons(200, seed=1)
    net = MLP([2, 16, 2], hidden="relu", output="softmax", loss="cross_entropy", seed=0)
    h = train(net, X, y, epochs=15, batch_size=20, optimizer="adam", lr=0.02, X_val=X, Y_val=y)
    assert isinstance(h, History)
    assert len(h.train_loss) == len(h.val_loss) == len(h.train_acc) == len(h.lr) == 15
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert h.train_acc[-1] > 0.9
    loss, acc = evaluate(net, X, y)
    assert loss == pytest.approx(h.train_loss[-1]) and acc == pytest.approx(h.train_acc[-1])


def test_same_seed_same_run_and_different_seed_differs():
    X, y = moons(120, seed=2)

    def run(seed):
        net = MLP([2, 8, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=0)
        train(net, X, y, epochs=3, batch_size=16, optimizer="momentum", lr=0.1, seed=seed)
        return net.params["W1"].copy()

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))


def test_schedule_sets_the_learning_rate_each_epoch():
    X, Y = xor()
    net = MLP([2, 3, 1], seed=0)
    opt = SGD(lr=1.0)
    h = train(
        net,
        X,
        Y,
        epochs=5,
        batch_size=2,
        optimizer=opt,
        schedule=step_decay(0.8, drop=0.5, every=2),
    )
    assert h.lr == [0.8, 0.8, 0.4, 0.4, 0.2]


def test_callback_sees_each_epoch_and_can_stop():
    X, Y = xor()
    seen = []

    def callback(epoch, history, net):
        seen.append((epoch, history.epochs))
        return epoch == 2

    train(MLP([2, 3, 1]), X, Y, epochs=10, callback=callback)
    assert seen == [(0, 1), (1, 2), (2, 3)]


def test_early_stopping_restores_the_best_epoch():
    X, Y = noisy_regression(30, noise=0.3, seed=0)
    Xv, Yv = noisy_regression(30, noise=0.3, seed=1)
    net = MLP([1, 64, 64, 1], hidden="tanh", output="identity", seed=0)
    h = train(
        net,
        X,
        Y,
        epochs=3000,
        batch_size=30,
        optimizer="adam",
        lr=0.01,
        X_val=Xv,
        Y_val=Yv,
        early_stopping=50,
    )
    assert h.stopped_early and h.best_epoch is not None
    assert h.epochs == h.best_epoch + 50
    assert net.loss(Xv, Yv) == pytest.approx(min(h.val_loss), rel=1e-12)


def test_argument_errors():
    X, Y = xor()
    net = MLP([2, 3, 1])
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        train(net, X, Y, early_stopping=3)
    with pytest.raises(ValueError, match="pass both X_val and Y_val"):
        train(net, X, Y, X_val=X)
    with pytest.raises(ValueError, match="train: optimizer must be one of 'sgd'.*, got 'lbfgs'"):
        train(net, X, Y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="samples look like rows"):
        train(MLP([3, 1]), np.zeros((4, 3)), np.zeros((1, 4)))
    with pytest.raises(FloatingPointError, match="learning rate"):
        big = MLP([2, 8, 1], hidden="tanh", output="identity", seed=0)
        train(big, X, Y * 1e3, epochs=500, batch_size=4, lr=10.0)


def test_digits_reach_95_percent_test_accuracy():
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=0)
    net = MLP([64, 32, 10], hidden="relu", output="softmax", loss="cross_entropy", l2=1e-4, seed=0)
    train(net, X_train, y_train, epochs=30, batch_size=32, optimizer="adam", lr=0.01, seed=0)
    assert net.accuracy(X_test, y_test) >= 0.95
