"""The scalar engine (course.graph.Value) against micrograd's Value, measured in the same run.

Both engines run *the same Python code*: every workload below is written once, against a
``Value`` class passed in as an argument, using only the operations the two share
(``+ - * **``, ``relu``, numbers on either side). What differs is only the engine.
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable

from course.graph import Value as CourseValue

CHAIN_OPS = 10_000


def chain(V: type, n_ops: int):
    """A chain of ``n_ops`` operations: multiply, add, and every tenth a ReLU."""
    x = V(0.5)
    v = x
    for i in range(n_ops):
        r = i % 10
        if r == 9:
            v = v.relu()
        elif r % 2:
            v = v * 1.0001
        else:
            v = v + 0.001
    return x, v


def make_mlp(V: type, n_in: int, widths: list[int], seed: int = 1337):
    """micrograd's MLP(2, [16, 16, 1]) layout: ReLU hidden units, a linear output unit."""
    rng = random.Random(seed)
    layers = []
    sizes = [n_in, *widths]
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        neurons = [([V(rng.uniform(-1, 1)) for _ in range(a)], V(0.0)) for _ in range(b)]
        layers.append((neurons, l < len(widths) - 1))
    return layers


def mlp_parameters(layers):
    return [p for neurons, _ in layers for w, b in neurons for p in (*w, b)]


def mlp_forward(layers, x):
    for neurons, nonlin in layers:
        out = []
        for w, b in neurons:
            act = sum((wi * xi for wi, xi in zip(w, x)), b)
            out.append(act.relu() if nonlin else act)
        x = out
    return x[0]


def moons_points(n: int = 100, seed: int = 0):
    """Two interleaving half circles, labels -1/+1 (plain Python, no dependencies)."""
    import math

    rng = random.Random(seed)
    pts = []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2)
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), 1
        pts.append(([x + rng.gauss(0, 0.1), y + rng.gauss(0, 0.1)], label))
    return pts


def mlp_loss(V: type, layers, data, alpha: float = 1e-4):
    """micrograd's demo loss: mean hinge loss on the points plus L2 on every parameter."""
    losses = []
    for x, y in data:
        score = mlp_forward(layers, x)
        losses.append((1 + -y * score).relu())
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in mlp_parameters(layers))
    return data_loss + reg_loss


def count_nodes(root) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        v = stack.pop()
        for p in v._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def workload_chain(V: type):
    def run():
        _, out = chain(V, CHAIN_OPS)
        out.backward()
        return out

    return run


def workload_mlp(V: type):
    data = moons_points(100)
    layers = make_mlp(V, 2, [16, 16, 1])

    def run():
        for p in mlp_parameters(layers):
            p.grad = 0.0
        loss = mlp_loss(V, layers, data)
        loss.backward()
        return loss

    return run


def peak_bytes_per_node(V: type, n_ops: int = 100_000) -> float:
    gc.collect()
    tracemalloc.start()
    _, out = chain(V, n_ops)
    out.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nodes = count_nodes(out)
    del out
    return peak / nodes


def million_chain(V: type) -> str:
    try:
        start = time.perf_counter()
        x, out = chain(V, 1_000_000)
        out.backward()
        return f"ok in {time.perf_counter() - start:.2f} s (dx = {x.grad:.4f})"
    except RecursionError:
        return "RecursionError"


def main(repeat: int = 5) -> list[dict]:
    from micrograd.engine import Value as MicroValue

    # micrograd's recursive topological sort needs a deeper stack for a 10^4 chain
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 250_000))
    rows = []
    try:
        for name, workload in (
            ("chain of 10^4 ops", workload_chain),
            ("MLP(2,[16,16,1]) loss, 100 points", workload_mlp),
        ):
            ours_fn, theirs_fn = workload(CourseValue), workload(MicroValue)
            # check both engines compute the same thing before timing them
            a, b = ours_fn(), theirs_fn()
            assert abs(a.data - b.data) <= 1e-9 * max(1.0, abs(b.data)), (a.data, b.data)
            nodes = count_nodes(a)
            t_ours = best_time(ours_fn, repeat)
            t_theirs = best_time(theirs_fn, repeat)
            rows.append(
                {
                    "workload": name,
                    "nodes (course)": nodes,
                    "nodes (micrograd)": count_nodes(b),
                    "course s": t_ours,
                    "micrograd s": t_theirs,
                    "speed-up": t_theirs / t_ours,
                    "course nodes/s": nodes / t_ours,
                }
            )
        mem = {
            "course": peak_bytes_per_node(CourseValue),
            "micrograd": peak_bytes_per_node(MicroValue),
        }
    finally:
        sys.setrecursionlimit(limit)
    million = {"course": million_chain(CourseValue), "micrograd": million_chain(MicroValue)}
    print_report(rows, mem, million)
    return rows


def print_report(rows, mem, million) -> None:
    print("Scalar engine: course.graph.Value vs micrograd 0.1.0 (forward + backward, best of 5)")
    print(
        f"{'workload':36} {'course':>10} {'micrograd':>10} {'speed-up':>9} {'course nodes/s':>15}"
    )
    for r in rows:
        print(
            f"{r['workload']:36} {r['course s'] * 1e3:8.1f}ms {r['micrograd s'] * 1e3:8.1f}ms "
            f"{r['speed-up']:8.1f}x {r['course nodes/s']:15,.0f}"
        )
    print(
        f"peak memory per node (chain of 10^5 ops, tracemalloc): course "
        f"{mem['course']:.0f} B, micrograd {mem['micrograd']:.0f} B"
    )
    print(
        f"chain of 10^6 ops, default recursion limit: course {million['course']}; "
        f"micrograd {million['micrograd']}"
    )


if __name__ == "__main__":
    main()
