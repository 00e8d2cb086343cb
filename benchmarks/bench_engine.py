"""The scalar engine (course.graph.Value) against micrograd's Value, measured in the same run.

Both engines run *the same Python code*: every workload below is written once, against a
``Value`` class passed in as an argument, using only the operations the two share
(``+ - * **``, ``relu``, numbers on either side). What differs is only the engine.

Both are timed from the same state of Python's garbage collector, since its work is most of what
separates them (micrograd's nodes hold closures, cells and sets, ours two tuples): nothing made by
either engine is alive when a run starts, the objects that were alive before the benchmark
(numpy, torch, ... whatever was imported) are frozen out of the collector's sight, so the figures
do not depend on them, and the engines take turns, so a busy moment of the machine hits both.
Each workload is timed with the collector on (as a user runs it) and off (the engines' own work).
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


def best_times(fns: list[Callable[[], object]], repeat: int, collector: bool) -> list[float]:
    """Best of ``repeat`` runs of each function, the functions taking turns.

    Before each run the garbage of the previous runs is collected; what a run returns is kept
    until its clock has stopped, so neither engine pays for freeing its graph inside the
    measurement (ours is freed by reference counting, micrograd's, full of cycles, by the
    collector). ``collector=False`` switches the garbage collector off during the runs.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            if not collector:
                gc.disable()
            try:
                start = time.perf_counter()
                result = fn()
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            del result
            best[i] = min(best[i], elapsed)
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


@contextmanager
def deep_recursion() -> Iterator[None]:
    """micrograd's recursive topological sort needs a deeper stack for chains of 10^4 and 10^5."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 250_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """What is alive now (numpy, torch, ... whatever was imported) is left out of the garbage
    collector's scans until the end, so the timings do not depend on what else was imported."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def time_workloads(repeat: int = 7) -> list[dict]:
    """Both workloads on both engines: checked equal, then timed with the collector on and off."""
    from micrograd.engine import Value as MicroValue

    rows = []
    with deep_recursion(), frozen_heap():
        for name, workload in (
            ("chain of 10^4 ops", workload_chain),
            ("MLP(2,[16,16,1]) loss, 100 points", workload_mlp),
        ):
            ours_fn, theirs_fn = workload(CourseValue), workload(MicroValue)
            # check both engines compute the same thing before timing them
            a, b = ours_fn(), theirs_fn()
            assert abs(a.data - b.data) <= 1e-9 * max(1.0, abs(b.data)), (a.data, b.data)
            nodes, nodes_theirs = count_nodes(a), count_nodes(b)
            del a, b  # timed runs start with neither graph alive
            t_ours, t_theirs = best_times([ours_fn, theirs_fn], repeat, collector=True)
            c_ours, c_theirs = best_times([ours_fn, theirs_fn], repeat, collector=False)
            rows.append(
                {
                    "workload": name,
                    "nodes (course)": nodes,
                    "nodes (micrograd)": nodes_theirs,
                    "course s": t_ours,
                    "micrograd s": t_theirs,
                    "speed-up": t_theirs / t_ours,
                    "course s, gc off": c_ours,
                    "micrograd s, gc off": c_theirs,
                    "speed-up, gc off": c_theirs / c_ours,
                    "course nodes/s": nodes / t_ours,
                }
            )
    return rows


def main(repeat: int = 7) -> list[dict]:
    from micrograd.engine import Value as MicroValue

    rows = time_workloads(repeat)
    with deep_recursion():
        mem = {
            "course": peak_bytes_per_node(CourseValue),
            "micrograd": peak_bytes_per_node(MicroValue),
        }
    million = {"course": million_chain(CourseValue), "micrograd": million_chain(MicroValue)}
    print_report(rows, mem, million, repeat)
    return rows


def print_report(rows, mem, million, repeat) -> None:
    print(
        "Scalar engine: course.graph.Value vs micrograd 0.1.0 "
        f"(forward + backward, best of {repeat}; gc off: the garbage collector switched off)"
    )
    print(
        f"{'workload':36} {'course':>10} {'micrograd':>10} {'speed-up':>9} "
        f"{'course':>10} {'micrograd':>10} {'speed-up':>9}"
    )
    print(f"{'':36} {'':>10} {'':>10} {'':>9} {'gc off':>10} {'gc off':>10} {'gc off':>9}")
    for r in rows:
        print(
            f"{r['workload']:36} {r['course s'] * 1e3:8.1f}ms {r['micrograd s'] * 1e3:8.1f}ms "
            f"{r['speed-up']:8.1f}x {r['course s, gc off'] * 1e3:8.1f}ms "
            f"{r['micrograd s, gc off'] * 1e3:8.1f}ms {r['speed-up, gc off']:8.1f}x"
        )
    for r in rows:
        print(f"{r['workload']}: course {r['course nodes/s']:,.0f} nodes/s")
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
