"""One MLP training step (784-100-10, softmax cross-entropy, SGD) against PyTorch on the CPU.

For each setting (hidden activation, batch size, dtype, thread count) three things are timed in
the same run, interleaved:

* **course**: ``net.step(X, y, opt)``: input checks, forward, backward, SGD update;
* **torch**: the same network as ``nn.Sequential``, ``CrossEntropyLoss``, ``optim.SGD``
  (zero_grad, forward, backward, step), same dtype, same number of threads;
* **bare**: only the matrix products a step needs (W1 X, W2 A1, dZ2 A1^T, W2^T dZ2, dZ1 X^T),
  the lower bound of any implementation built on the same BLAS.

Thread counts are set for numpy's BLAS with threadpoolctl and for torch with set_num_threads.
"""

from __future__ import annotations

import gc
import time

import numpy as np

from course.mlp import MLP
from course.optim import SGD

SIZES = [784, 100, 10]
LR = 0.1


def timeit(fn, min_time: float = 0.3, rounds: int = 9) -> float:
    """Best over ``rounds`` of the mean time per call, each round running >= min_time/rounds.

    The minimum, not the median: on a small shared machine, noise only ever adds time.
    """
    fn()
    fn()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < min_time / rounds:
        fn()
        n += 1
    n = max(n, 1)
    samples = []
    gc.disable()
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples.append((time.perf_counter() - t0) / n)
    finally:
        gc.enable()
    return min(samples)


def course_step(hidden: str, X: np.ndarray, y: np.ndarray, dtype):
    net = MLP(SIZES, hidden=hidden, output="softmax", loss="cross_entropy", seed=0, dtype=dtype)
    opt = SGD(lr=LR)

    def step():
        net.step(X, y, opt)

    return step


def torch_step(hidden: str, X: np.ndarray, y: np.ndarray, dtype):
    import torch

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    act = torch.nn.ReLU() if hidden == "relu" else torch.nn.Sigmoid()
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), act, torch.nn.Linear(SIZES[1], SIZES[2])
    ).to(tdtype)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T)).to(tdtype)  # torch layout: rows
    yt = torch.from_numpy(y).long()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(Xt), yt)
        loss.backward()
        opt.step()

    return step


def bare_step(X: np.ndarray, dtype):
    rng = np.random.default_rng(0)
    W1 = rng.normal(size=(SIZES[1], SIZES[0])).astype(dtype)
    W2 = rng.normal(size=(SIZES[2], SIZES[1])).astype(dtype)
    A1 = rng.random((SIZES[1], X.shape[1])).astype(dtype)
    dZ2 = rng.random((SIZES[2], X.shape[1])).astype(dtype)
    dZ1 = rng.random((SIZES[1], X.shape[1])).astype(dtype)

    def step():
        W1 @ X
        W2 @ A1
        dZ2 @ A1.T
        W2.T @ dZ2
        dZ1 @ X.T

    return step


def main(threads: tuple[int, ...] = (1, 2)) -> list[dict]:
    import torch
    from threadpoolctl import threadpool_limits

    rows = []
    rng = np.random.default_rng(0)
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        with threadpool_limits(limits=n_threads):
            for dtype in (np.float64, np.float32):
                for m in (64, 256):
                    X = rng.random((SIZES[0], m)).astype(dtype)
                    y = rng.integers(0, SIZES[2], size=m)
                    for hidden in ("relu", "sigmoid"):
                        fns = {
                            "course": course_step(hidden, X, y, dtype),
                            "torch": torch_step(hidden, X, y, dtype),
                            "bare": bare_step(X, dtype),
                        }
                        times = {k: [] for k in fns}
                        for _ in range(3):  # interleave to share any drift of the machine
                            for k, fn in fns.items():
                                times[k].append(timeit(fn))
                        t = {k: min(v) for k, v in times.items()}
                        rows.append(
                            {
                                "threads": n_threads,
                                "dtype": np.dtype(dtype).name,
                                "batch": m,
                                "hidden": hidden,
                                **t,
                                "torch/course": t["torch"] / t["course"],
                                "course/bare": t["course"] / t["bare"],
                            }
                        )
    print_report(rows)
    return rows


def print_report(rows) -> None:
    print("MLP training step 784-100-10, softmax cross-entropy, SGD (best time per step)")
    print(
        f"{'threads':>7} {'dtype':>8} {'batch':>5} {'hidden':>8} {'course':>9} {'torch':>9} "
        f"{'bare':>9} {'torch/course':>12} {'course/bare':>11}"
    )
    for r in rows:
        print(
            f"{r['threads']:>7} {r['dtype']:>8} {r['batch']:>5} {r['hidden']:>8} "
            f"{r['course'] * 1e6:7.0f}us {r['torch'] * 1e6:7.0f}us {r['bare'] * 1e6:7.0f}us "
            f"{r['torch/course']:11.2f}x {r['course/bare']:10.2f}x"
        )
    slowest = min(rows, key=lambda r: r["torch/course"])
    at_256 = [r for r in rows if r["batch"] == 256]
    print(
        f"goal torch/course >= 1.0 in every setting: lowest {slowest['torch/course']:.2f}x "
        f"({slowest['threads']} thread(s), {slowest['dtype']}, batch {slowest['batch']}, "
        f"{slowest['hidden']}): {'met' if slowest['torch/course'] >= 1.0 else 'NOT met'}"
    )
    if at_256:
        worst = max(at_256, key=lambda r: r["course/bare"])
        print(
            f"goal course/bare <= 1.3 at batch 256: highest {worst['course/bare']:.2f}x "
            f"({worst['threads']} thread(s), {worst['dtype']}, {worst['hidden']}): "
            f"{'met' if worst['course/bare'] <= 1.3 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
