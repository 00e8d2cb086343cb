"""Problem set 5 (a network of any depth) end to end: the real nbgrader commands on a copy of the
course.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/`` into a temporary
course, runs ``nbgrader generate_assignment ps5``, places the bundled sample class
(``autograder/sample_class/ps5/<student>.ipynb``) under ``submitted/<student>/ps5/ps5.ipynb``, and
runs ``nbgrader autograde ps5`` and ``nbgrader generate_feedback ps5``. The tests compare every
student's points per test cell with ``expected.json`` (partial credit included: a test cell
ends with the points its groups of checks earned) and look for the words that name each bug in
the feedback. The source notebook must pass its own tests; each usual mistake of the problem set,
made on purpose, must be named by the checks of ``ps5_support.py``; a network built on wrong
layers of part (a) keeps part (b)'s points, and a mistake of part (b) itself does not (no
nbgrader needed for those). Nothing is written into the repository.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
from nbgrader_course import ROOT, Course, execute_source, graded_cells, load_expected, make_course

SOURCE = ROOT / "source_assignments" / "ps5"
SAMPLE = ROOT / "autograder" / "sample_class" / "ps5"
EXPECTED = load_expected(SAMPLE)
TOTAL = 28
GRADED = {  # grade_id -> points
    "test_a_affine": 4,
    "test_a_activations": 4,
    "test_b_visible": 5,
    "test_b_hidden": 5,
    "test_c_grad_check": 4,
    "test_d_train": 2,
    "test_d_more": 4,
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(
        tmp_path_factory,
        "ps5",
        all_sources=True,
        OPENBLAS_NUM_THREADS="1",  # small matrices: threads only fight over the cores
        OMP_NUM_THREADS="1",
    )
    start = time.perf_counter()
    c.nbgrader("generate_assignment", "ps5")
    for student in EXPECTED:
        shutil.copy(SAMPLE / f"{student}.ipynb", c.submission_folder(student) / "ps5.ipynb")
    nb = nbformat.read(SAMPLE / "correct.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = REPLAY.get(grade_id, cell.source)
    nbformat.write(nb, c.submission_folder("hostile_replay") / "ps5.ipynb")
    c.nbgrader("autograde", "ps5")
    c.nbgrader("generate_feedback", "ps5")
    c.timings["total"] = time.perf_counter() - start
    yield c
    c.report_timings("ps5 pipeline")


# -- the released version and the sample class ---------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.root / "release" / "ps5" / "ps5.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "dW = dZ @ A_prev.T",
        "return dA * (Z > 0)",
        "log_probs = shifted - np.log",
        "grad[i] = (f_plus - f_minus) / (2.0 * h)",
        "support.kink_network_case(",
        "scale=3000.0",
        "training_seeds(1)",
        "variant_shapes(",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 6 and all("raise NotImplementedError()" in s for s in stubs)
    tests = graded_cells(nb)
    assert {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in tests
    } == (GRADED)
    assert sum(GRADED.values()) == TOTAL
    assert "expected=2 * x" in text and "def grad_check_on(name, x, h):" in text  # visible
    assert (course.root / "release" / "ps5" / "ps5_support.py").exists()


def test_sample_class_is_made_from_the_current_release(course: Course) -> None:
    """Every locked cell of every sample submission is the released one (no stale samples)."""
    release = nbformat.read(course.root / "release" / "ps5" / "ps5.ipynb", as_version=4)
    locked = {c.id: c for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    assert set(EXPECTED) == {p.stem for p in SAMPLE.glob("*.ipynb")}
    for student in EXPECTED:
        nb = nbformat.read(SAMPLE / f"{student}.ipynb", as_version=4)
        theirs = {c.id: c for c in nb.cells if c.id in locked}
        assert {k: c.source for k, c in theirs.items()} == {
            k: c.source for k, c in locked.items()
        }, student
        for key, cell in theirs.items():  # the checksums nbgrader validate compares with
            assert cell.metadata == locked[key].metadata, (student, key)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in graded_cells(nb)]
        assert ids == list(EXPECTED[student]["parts"]), student


def test_the_sample_class_has_each_slip_once() -> None:
    """Correct, blank, written differently, the package, and single slips that cost one part."""
    assert {"correct", "blank", "rewritten", "bug_uses_package"} <= set(EXPECTED)
    slips = [s for s in EXPECTED if s.startswith("bug_") and s != "bug_uses_package"]
    assert 4 <= len(slips) <= 6
    parts = {"a": ("test_a_",), "b": ("test_b_",), "c": ("test_c_",), "d": ("test_d_",)}
    for student in slips:
        lost = {g for g, p in EXPECTED[student]["parts"].items() if p < GRADED[g]}
        assert lost, student
        costs = {
            part for part, prefixes in parts.items() if any(g.startswith(prefixes) for g in lost)
        }
        assert len(costs) == 1, (student, lost)


# -- the scores and the feedback ------------------------------------------------------------------


@pytest.mark.parametrize("student", list(EXPECTED))
def test_scores_per_part(course: Course, student: str) -> None:
    expected = EXPECTED[student]
    got = course.scores(student)
    assert got == expected["parts"]
    assert sum(got.values()) == expected["total"]


@pytest.mark.parametrize("student", list(EXPECTED))
def test_feedback_names_the_bug(course: Course, student: str) -> None:
    text = course.feedback(student)
    for words in EXPECTED[student]["feedback_mentions"]:
        assert words in text, (student, words)
    if student.startswith("bug_") and student != "bug_uses_package":
        assert "Likely bug" in text


def test_partial_credit_says_which_groups_failed(course: Course) -> None:
    nb = course.autograded("bug_decay_on_biases")
    cell = next(
        c for c in graded_cells(nb) if c.metadata["nbgrader"]["grade_id"] == "test_b_visible"
    )
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert [o.data["text/plain"] for o in results] == ["3.0"]  # nbgrader's partial credit
    assert "[gradients with weight decay: 0 of 2 points]" in printed
    assert "Points of this test: 3 of 5" in printed


def test_blank_submission_says_not_written_yet_in_every_test_cell(course: Course) -> None:
    nb = course.autograded("blank")
    errors = [(c, o) for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    graded = [e for e in errors if e[0].metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) == len(graded_cells(nb)) == len(GRADED)
    for _, out in graded:
        assert out.ename == "AssertionError" and "You have not written" in out.evalue


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps5", tmp_path, monkeypatch)
    graded = graded_cells(nb)
    assert len(graded) == len(GRADED)
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert not [o for o in cell.outputs if o.output_type in ("error", "execute_result")]
        assert "passes" in text or "during grading" in text, text
    use = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "c_use")
    printed = "".join(o.get("text", "") for o in use.outputs)
    errors = [float(line.rsplit(" ", 1)[1]) for line in printed.splitlines()]
    assert len(errors) == 6 and max(errors) < 1e-8  # the network agrees with the checker


# -- the checks alone: each usual mistake is named, (b) on wrong layers, partial credit ----------


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """``ps5_support`` imported from a copy, so that no ``__pycache__`` lands in the repository."""
    folder = tmp_path_factory.mktemp("support")
    shutil.copy(SOURCE / "ps5_support.py", folder)
    spec = importlib.util.spec_from_file_location("ps5_support", folder / "ps5_support.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def _answers(name: str) -> dict:
    """The functions of the source notebook's solution cells (grade_id ``name``...)."""
    nb = nbformat.read(SOURCE / "ps5.ipynb", as_version=4)
    namespace: dict = {"np": np}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("a_affine", "a_activations", name):
            exec(cell.source, namespace)
    return namespace


def _affine_backward(dA="W.T @ dZ", dW="dZ @ A_prev.T", db="dZ.sum(axis=1, keepdims=True)"):
    return f"""
def affine_backward(dZ, cache):
    A_prev, W, b = cache
    m = dZ.shape[1]
    return {dA}, {dW}, {db}
"""


def _relu_backward(mask: str) -> str:
    return f"def relu_backward(dA, cache):\n    Z = cache\n    return {mask}\n"


def _sigmoid_backward(body: str) -> str:
    return f"def sigmoid_backward(dA, cache):\n    A = cache\n    return {body}\n"


def _grad_check(step: str) -> str:
    return f"""
def grad_check_on(name, x, h):
    f = TEST_FUNCTIONS[name]
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
{step}
    return grad
"""


CENTRED = """        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)"""


def _network(change: tuple[str, str] | None = None) -> str:
    source = next(
        c.source
        for c in nbformat.read(SOURCE / "ps5.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "b_network"
    )
    if change is not None:
        assert change[0] in source
        source = source.replace(*change)
    return source


# name: (code, the words the message must contain)
MISTAKES = {
    "affine: forward without the bias": (
        "def affine_forward(A_prev, W, b):\n    return W @ A_prev, (A_prev, W, b)\n",
        "forgot to add the bias",
    ),
    "affine: transposed dW": (_affine_backward(dW="A_prev @ dZ.T"), "transpose of the right one"),
    "affine: dW divided by m again": (_affine_backward(dW="dZ @ A_prev.T / m"), "times too small"),
    "affine: db not summed over the batch": (
        _affine_backward(db="dZ"),
        "bias gradient was not summed over the batch",
    ),
    "affine: db of one example": (_affine_backward(db="dZ[:, :1]"), "column of example 0 alone"),
    "relu: the value A for the slope": (
        _relu_backward("dA * np.maximum(Z, 0)"),
        "multiplied by the ReLU's output A",
    ),
    "relu: the slope from dA, the wrong place": (
        _relu_backward("dA * (dA > 0)"),
        "the slope is taken at the wrong place",
    ),
    "relu: no slope": (_relu_backward("dA"), "left out the ReLU's derivative"),
    "relu: relu'(0) = 1": (_relu_backward("dA * (Z >= 0)"), "relu'(0) = 0"),
    "sigmoid: the slope at A instead of Z": (
        "def sigmoid_backward(dA, cache):\n"
        "    s = 1 / (1 + np.exp(-cache))\n"
        "    return dA * s * (1 - s)\n",
        "the slope is taken at the wrong place",
    ),
    "sigmoid: the slope without dA": (
        _sigmoid_backward("A * (1 - A)"),
        "multiply it by the upstream",
    ),
    "sigmoid: overflow": (
        "def sigmoid_forward(Z):\n    A = 1 / (1 + np.exp(-Z))\n    return A, A\n",
        "not numerically stable",
    ),
    "network: no 1/m": (_network(("    dZ /= m\n", "")), "did not divide by m = 5"),
    "network: decay on the biases": (
        _network(('grads[f"b{l}"] = db ', 'grads[f"b{l}"] = db + 2.0 * l2 * params[f"b{l}"] ')),
        "L2 weight decay applied to the biases",
    ),
    "network: decay factor l2 for 2 l2": (
        _network(("dW + 2.0 * l2 *", "dW + l2 *")),
        "off by a factor of 2",
    ),
    "network: decay factor 4 l2 (a 1/2 convention read twice)": (
        _network(("dW + 2.0 * l2 *", "dW + 4.0 * l2 *")),
        "off by a factor of 2",
    ),
    "network: penalty doubled in J": (
        _network(("+ l2 * penalty", "+ 2 * l2 * penalty")),
        "twice the stated one",
    ),
    "network: J summed over the batch": (
        _network(("-log_probs[y, columns].mean()", "-log_probs[y, columns].sum()")),
        "instead of taking the mean",
    ),
    "network: the ReLU's value for its slope": (
        _network(
            (
                "dZ = relu_backward(dA, caches[l - 2][1])",
                "dZ = dA * np.maximum(caches[l - 2][1], 0)",
            )
        ),
        "where its derivative belongs",
    ),
    "network: unstable softmax": (
        _network(
            (
                "shifted = Z - Z.max(axis=0, keepdims=True)",
                "shifted = Z",
            )
        ),
        "not numerically stable",
    ),
    "grad_check: one-sided": (
        _grad_check(
            "        base = f(x)\n"
            "        x[i] = old + h\n"
            "        grad[i] = (f(x) - base) / h\n"
            "        x[i] = old"
        ),
        "one-sided difference",
    ),
    "grad_check: divided by h": (
        _grad_check(CENTRED.replace("(2 * h)", "h")),
        "twice too large",
    ),
    "grad_check: every entry at once": (
        _grad_check("        grad[i] = (f(x + h) - f(x - h)) / (2 * h)"),
        "every entry of x at once",
    ),
    "grad_check: x not put back": (
        _grad_check(CENTRED.replace("        x[i] = old\n", "")),
        "changed x",
    ),
}


def _run_checks(support: ModuleType, name: str, func) -> None:
    if name.startswith("affine: forward"):
        case = support.affine_case(5, 3, 2, 4)
        support.check_affine_forward(func, case["A_prev"], case["W"], case["b"])
    elif name.startswith("affine"):
        support.check_affine_backward(func, **support.affine_case(5, 3, 2, 4))
    elif name.startswith("relu"):
        Z = np.array([[0.0, 1.0, -1.0, 2.5], [-0.5, 0.0, 3.0, -2.0]])
        support.check_relu_backward(
            func, Z, np.array([[0.3, -0.2, 0.5, -1.0], [0.4, 1.0, -0.6, 0.2]])
        )
    elif name.startswith("sigmoid: overflow"):
        support.check_sigmoid_forward(func, [[-1000.0, 0.0, 1000.0]])
    elif name.startswith("sigmoid"):
        case = support.activation_case(3, 3, 4)
        support.check_sigmoid_backward(func, case["Z"], case["dA"])
    elif name.startswith("network: unstable"):
        X, y, params = support.network_case(121, [3, 4, 5], 4, scale=3000.0)
        support.check_network(func, X, y, params, 0.0)
    elif name.startswith("network"):
        X, y, params = support.network_case(81, [3, 4, 3], m=5)
        support.check_network(func, X, y, params, 0.1)
    else:
        x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
        keeps = name.endswith("put back")
        support.check_grad_check(
            func, "sum of cubes", x, 0.1, None if keeps else 3 * x**2 + 0.01, keeps_x=keeps
        )


@pytest.mark.parametrize("name", list(MISTAKES))
def test_the_checks_name_each_usual_mistake(support: ModuleType, name: str) -> None:
    code, words = MISTAKES[name]
    namespace = _answers("b_network") if name.startswith("network") else {"np": np}
    namespace["TEST_FUNCTIONS"] = support.TEST_FUNCTIONS
    exec(code, namespace)
    func = namespace[code.split("def ", 1)[1].split("(", 1)[0]]
    old = np.geterr()
    try:
        with pytest.raises(AssertionError) as info:
            _run_checks(support, name, func)
    finally:
        np.seterr(**old)
    assert words in str(info.value), str(info.value)
    assert "Likely bug" in str(info.value) or "changed x" in str(info.value)


def test_a_network_on_wrong_layers_keeps_part_b(support: ModuleType, capsys) -> None:
    """Part (b) with a slip in part (a): the network chained from the student's own layers
    passes, and says why; the same network with a slip of its own does not."""
    X, y, params = support.kink_network_case(111, [3, 5, 3], 6)
    for slip in (
        ("return dA * (Z > 0)", "return dA * (Z >= 0)"),  # relu'(0) = 1
        ("dW = dZ @ A_prev.T", "dW = dZ @ A_prev.T * A_prev.shape[1]"),  # no 1/m in dW
        ("    return Z, (A_prev, W, b)", "    return W @ A_prev, (A_prev, W, b)"),  # no bias
    ):
        namespace = _answers("b_network")
        for key in ("a_affine", "a_activations"):
            cell = next(
                c.source
                for c in nbformat.read(SOURCE / "ps5.ipynb", as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == key
            )
            if slip[0] in cell:
                exec(cell.replace(*slip), namespace)
        layers = tuple(
            namespace[n]
            for n in ("affine_forward", "affine_backward", "relu_forward", "relu_backward")
        )
        with pytest.raises(AssertionError):  # wrong, against the reference
            support.check_network(namespace["loss_and_grads"], X, y, params, 0.02)
        support.check_network(namespace["loss_and_grads"], X, y, params, 0.02, layers)
        assert "your own layers of part (a)" in capsys.readouterr().out
        # a mistake of part (b) on top is still charged
        exec(_network(("    dZ /= m\n", "")), namespace)
        with pytest.raises(AssertionError):
            support.check_network(namespace["loss_and_grads"], X, y, params, 0.02, layers)


def test_a_network_on_layers_that_are_no_usual_slip_gets_no_credit(support: ModuleType) -> None:
    """The credit of part (b) holds only for a usual slip of a layer: a layer whose result is
    no mistake its own tests name (dW times 1.5), or one that answers its own tests right and
    zeros inside the chain (its kernel remembers that part (b) ran), gives the network nothing,
    even when part (b)'s answer equals that chain."""
    X, y, params = support.kink_network_case(111, [3, 5, 3], 6)
    names = ("affine_forward", "affine_backward", "relu_forward", "relu_backward")
    cells = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c.source
        for c in nbformat.read(SOURCE / "ps5.ipynb", as_version=4).cells
    }
    chain = {"on": False}
    namespace = _answers("b_network")
    exec(cells["a_affine"] + "\n" + cells["a_activations"], namespace)
    right_backward = namespace["affine_backward"]

    def hostile_backward(dZ, cache):  # right in its own tests, zeros inside the chain
        if chain["on"]:
            A_prev, W, b = cache
            return np.zeros_like(A_prev), np.zeros_like(W), np.zeros_like(b)
        return right_backward(dZ, cache)

    def forged(X_, y_, params_, l2):  # the right cost, and the weight decay as gradients
        chain["on"] = True
        grads = {k: 2 * l2 * v if k[0] == "W" else 0 * v for k, v in params_.items()}
        return support.network_cost(X_, y_, params_, l2), grads

    support.check_affine_backward(hostile_backward, **support.affine_case(3, 4, 3, 5))
    layers = tuple(hostile_backward if n == "affine_backward" else namespace[n] for n in names)
    with pytest.raises(AssertionError):
        support.check_network(forged, X, y, params, 0.02, layers)
    chain["on"] = False

    exec(cells["a_affine"].replace("dW = dZ @ A_prev.T", "dW = dZ @ A_prev.T * 1.5"), namespace)
    layers = tuple(namespace[n] for n in names)
    assert support._compose(layers, X, y, params, 0.02, "part (b)") is None
    assert support._compose(layers, X, y, params, 0.0, "part (b)") is None


# The grader's chain sends each layer's gradient into the kernel through the student's
# affine_backward; a part (b) that records them and answers a later check of the same case from
# the record computes no network. Part (b)'s answers of a case are asked for before any chain.
REPLAY = {
    "a_affine": """
_REC, _CUR = {}, [None]

def affine_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)


def affine_backward(dZ, cache):  # right in its own tests; records what the chain feeds it
    A_prev, W, b = cache
    dA, dW, db = W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
    if _CUR[0] is not None:
        db = -db  # a usual slip, so that the chain differs from the reference
        _REC[_CUR[0]].append((dW, db, dZ))
    return dA, dW, db
""",
    "b_network": """
def loss_and_grads(X, y, params, l2):
    key = X.tobytes()
    rec = _REC.get(key)
    _CUR[0], _REC[key] = key, []
    L = len(params) // 2
    if rec and len(rec) == L:  # the grader chained this case before: replay it
        grads, m, cols = {}, X.shape[1], np.arange(X.shape[1])
        J = -np.mean(np.log(m * rec[0][2][y, cols] + 1.0))
        J += l2 * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))
        for l, (dW, db, _) in zip(range(L, 0, -1), rec):
            grads[f"W{l}"] = dW + 2 * l2 * params[f"W{l}"]
            grads[f"b{l}"] = db
        return float(J), grads
    return 0.0, {k: np.zeros_like(v) for k, v in params.items()}
""",
}


def test_a_replayed_part_b_earns_nothing_through_the_sandbox(course: Course) -> None:
    """The replay, submitted: part (a) keeps its points (the recording layers pass their own
    tests) and part (b) earns nothing; it earned 4 of part (b)'s 10 points before part (b)'s
    answers of a case were asked for before any check chained the case."""
    got = course.scores("hostile_replay")
    assert got["test_a_affine"] == EXPECTED["correct"]["parts"]["test_a_affine"]
    assert got["test_b_visible"] == got["test_b_hidden"] == 0


def test_the_grader_reads_every_forbidden_module(support: ModuleType) -> None:
    """The box stubs what FORBID and FORBID_TRAINING name, read without importing the module (a
    tuple that is not a literal would be skipped)."""
    from autograder.box import declared_forbidden

    read = declared_forbidden([SOURCE / "ps5_support.py"])
    assert set(read) == set(support.FORBID) | set(support.FORBID_TRAINING)
    assert set(support.FORBID) <= set(support.FORBID_TRAINING)
    assert {"course.layers", "course.gradcheck", "sklearn"} <= set(read)
    assert "course.data" not in read  # the digits' loader


def test_the_cases_say_how_to_call_them(support: ModuleType) -> None:
    """A student's scratch cell that passes the sizes wrong is told what they are."""
    for sizes in ([3], 5, [3, 0, 2], [3, 2.5, 2]):
        with pytest.raises(ValueError, match="For example \\[3, 4, 2\\]"):
            support.network_case(0, sizes, 4)
    with pytest.raises(ValueError, match="number of examples in the batch"):
        support.kink_network_case(0, [3, 4, 2], 0)
    X, y, params = support.network_case(0, (3, 4, 2), 2)
    assert X.shape == (3, 2) and y.shape == (2,) and list(params) == ["W1", "b1", "W2", "b2"]


def test_points_give_partial_credit(support: ModuleType, capsys) -> None:
    def fail():
        raise support.checks.CheckFailure("Your thing is wrong.\n  Likely bug: a slip.")

    points = support.Points()
    with points.group("first", 1):
        pass
    with points.group("second", 3):
        fail()
    with points.group("second", 3):  # a group fails once
        fail()
    assert points.total() == 1.0 and type(points.total()) is float
    out = capsys.readouterr().out
    assert out.count("[second: 0 of 3 points]") == 1 and "Points of this test: 1 of 4" in out

    points = support.Points()
    with points.group("only", 2):
        pass
    assert points.total() is None  # every group passed: nbgrader gives the cell's points

    points = support.Points()
    with points.group("only", 2):
        fail()
    with pytest.raises(AssertionError, match="No check of this test passed"):
        points.total()

    class KernelGone(RuntimeError):  # the grader's: a dead kernel stops the test
        pass

    with pytest.raises(KernelGone), points.group("more", 1):
        raise KernelGone("the kernel died")
