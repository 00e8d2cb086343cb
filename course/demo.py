"""The package demo (``make train-demo``): networks trained on bundled data, and what they learned.

1. XOR, the function a single McCulloch-Pitts unit cannot compute, learned by a 2-3-1 network.
2. The 8x8 handwritten digits (shipped with the course, nothing downloaded), learned by a
   64-32-10 ReLU network with a softmax output and mini-batch Adam.

Run with ``python -m course.demo``.
"""

from __future__ import annotations

import time

import numpy as np

from course.data import load_digits, train_test_split, xor
from course.mlp import MLP
from course.train import train


def _xor() -> None:
    X, Y = xor()
    net = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce", seed=1)
    before = net.loss(X, Y)
    history = train(net, X, Y, epochs=600, batch_size=4, optimizer="adam", lr=0.05, seed=0)
    out = net.forward(X)[0]
    print("XOR with a 2-3-1 tanh network (Adam, 600 epochs)")
    print(f"  cost {before:.3f} -> {history.train_loss[-1]:.4f}")
    print("  x1 x2 | target | network output")
    for (x1, x2), t, y in zip(X.T.astype(int), Y[0].astype(int), out):
        print(f"   {x1}  {x2} |   {t}    |   {y:.3f}")


def _digits() -> None:
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=0)
    net = MLP([64, 32, 10], hidden="relu", output="softmax", loss="cross_entropy", l2=1e-4, seed=0)
    start = time.perf_counter()
    history = train(
        net,
        X_train,
        y_train,
        epochs=30,
        batch_size=32,
        optimizer="adam",
        lr=0.01,
        X_val=X_test,
        Y_val=y_test,
        seed=0,
        progress=True,
    )
    seconds = time.perf_counter() - start
    pred = net.predict(X_test)
    print(f"\nHandwritten digits, 64-32-10 ReLU + softmax ({net.num_parameters():,} parameters)")
    print(
        f"  {X_train.shape[1]} training and {X_test.shape[1]} test images, "
        f"30 epochs of mini-batch Adam in {seconds:.1f} s"
    )
    print(f"  train accuracy {history.train_acc[-1]:.3f}, test accuracy {history.val_acc[-1]:.3f}")
    print("  test accuracy per digit:")
    print("   " + "  ".join(f"{d}:{np.mean(pred[y_test == d] == d):.2f}" for d in range(10)))
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (y_test, pred), 1)
    np.fill_diagonal(confusion, 0)
    i, j = np.unravel_index(int(np.argmax(confusion)), confusion.shape)
    print(f"  most frequent mistake: {i} read as {j} ({confusion[i, j]} times)")


def main() -> None:
    _xor()
    _digits()


if __name__ == "__main__":
    main()
