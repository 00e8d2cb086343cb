"""Problem set 3 (matrix backprop) end to end: the real nbgrader commands on a copy of the course.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/`` into a temporary
course, runs ``nbgrader generate_assignment ps3``, places the bundled sample class
(``autograder/sample_class/ps3/<student>.ipynb``) under ``submitted/<student>/ps3/ps3.ipynb``, and
runs ``nbgrader autograde ps3`` and ``nbgrader generate_feedback ps3``. The tests compare every
student's points per test cell with ``expected.json`` and look for the words that name each bug
in the feedback. The source notebook must pass its own tests, and each usual mistake of the
problem set, made on purpose, must be named by the checks of ``ps3_support.py`` (no nbgrader
needed for that part). Nothing is written into the repository.
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

SOURCE = ROOT / "source_assignments" / "ps3"
SAMPLE = ROOT / "autograder" / "sample_class" / "ps3"
EXPECTED = load_expected(SAMPLE)
TOTAL = 28

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(
        tmp_path_factory,
        "ps3",
        all_sources=True,
        OPENBLAS_NUM_THREADS="1",  # small matrices: threads only fight over the cores
        OMP_NUM_THREADS="1",
    )
    start = time.perf_counter()
    c.nbgrader("generate_assignment", "ps3")
    for student in EXPECTED:
        shutil.copy(SAMPLE / f"{student}.ipynb", c.submission_folder(student) / "ps3.ipynb")
    for how, answers in HOSTILE.items():
        nb = nbformat.read(SAMPLE / "correct.ipynb", as_version=4)
        for cell in nb.cells:
            cell.source = answers.get(
                cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source
            )
        nbformat.write(nb, c.submission_folder(f"hostile_{how}") / "ps3.ipynb")
    c.nbgrader("autograde", "ps3")
    c.nbgrader("generate_feedback", "ps3")
    c.timings["total"] = time.perf_counter() - start
    yield c
    c.report_timings("ps3 pipeline")


# -- the released version and the sample class ---------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.root / "release" / "ps3" / "ps3.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "dW = dZ @ A_prev.T",
        "log_probs = shifted - log_sum",
        "dx = 2 * W.T @ m",
        "dZ1 = (W2.T @ dZ2) * (Z1 > 0)",
        "support.kink_case(",
        "cases[2:]",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 5 and all("raise NotImplementedError()" in s for s in stubs)
    tests = graded_cells(nb)
    assert sum(c.metadata["nbgrader"]["points"] for c in tests) == TOTAL
    assert "support.lecture_example()" in text and "0.022, 0.044" in text  # visible tests
    assert (course.root / "release" / "ps3" / "ps3_support.py").exists()


def test_sample_class_is_made_from_the_current_release(course: Course) -> None:
    """Every locked cell of every sample submission is the released one (no stale samples)."""
    release = nbformat.read(course.root / "release" / "ps3" / "ps3.ipynb", as_version=4)
    locked = {c.id: c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    assert set(EXPECTED) == {p.stem for p in SAMPLE.glob("*.ipynb")}
    for student in EXPECTED:
        nb = nbformat.read(SAMPLE / f"{student}.ipynb", as_version=4)
        theirs = {c.id: c.source for c in nb.cells if c.id in locked}
        assert theirs == locked, student
        ids = [c.metadata["nbgrader"]["grade_id"] for c in graded_cells(nb)]
        assert ids == list(EXPECTED[student]["parts"]), student


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


def test_blank_submission_says_not_written_yet_in_every_test_cell(course: Course) -> None:
    nb = nbformat.read(course.root / "autograded" / "blank" / "ps3" / "ps3.ipynb", as_version=4)
    errors = [(c, o) for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == len(graded_cells(nb)) == 8
    for cell, out in errors:
        assert cell.metadata["nbgrader"].get("grade") is True
        assert out.ename == "AssertionError" and "You have not written" in out.evalue


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps3", tmp_path, monkeypatch)
    graded = graded_cells(nb)
    assert len(graded) == 8
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert not [o for o in cell.outputs if o.output_type == "error"]
        assert "pass" in text or "during grading" in text


# -- each usual mistake is named (the checks alone, no nbgrader) ----------------------------------


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """``ps3_support`` imported from a copy, so that no ``__pycache__`` lands in the repository."""
    folder = tmp_path_factory.mktemp("support")
    shutil.copy(SOURCE / "ps3_support.py", folder)
    spec = importlib.util.spec_from_file_location("ps3_support", folder / "ps3_support.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def _backward(dA: str = "W.T @ dZ", dW: str = "dZ @ A_prev.T", db: str = "row_sum") -> str:
    db = "dZ.sum(axis=1, keepdims=True)" if db == "row_sum" else db
    return f"""
def affine_backward(dZ, cache):
    A_prev, W, b = cache
    m = dZ.shape[1]
    return {dA}, {dW}, {db}
"""


def _softmax_ce(dZ: str = "(P - T) / m", J: str = "-L[y, cols].mean()", axis: int = 0) -> str:
    return f"""
def softmax_cross_entropy(Z, y):
    m = Z.shape[1]
    cols = np.arange(m)
    S = Z - Z.max(axis={axis}, keepdims=True)
    L = S - np.log(np.exp(S).sum(axis={axis}, keepdims=True))
    P = np.exp(L)
    T = np.zeros_like(Z)
    T[y, cols] = 1.0
    return {J}, {dZ}
"""


NAIVE_SOFTMAX = """
def softmax_cross_entropy(Z, y):
    m = Z.shape[1]
    P = np.exp(Z) / np.exp(Z).sum(axis=0)
    J = -np.log(P[y, np.arange(m)]).mean()
    P[y, np.arange(m)] -= 1
    return J, P / m
"""


def _sq_norm(f: str = "float(np.sum(m * m))", dW: str = "2 * m @ x.T", dx: str = "2 * W.T @ m"):
    return f"""
def sq_norm_grads(x, W):
    m = W @ x
    return {f}, {dW}, {dx}
"""


def _network(
    divide: str = "m",
    decay: str = "2 * l2",
    bias_decay: str = "0.0",
    mask: str = "Z1 > 0",
    J_extra: str = "0.0",
    db2: str = "dZ2.sum(axis=1, keepdims=True)",
) -> str:
    return f"""
def two_layer_loss_and_grads(X, y, params, l2):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    cols = np.arange(m)
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    S = Z2 - Z2.max(axis=0)
    L = S - np.log(np.exp(S).sum(axis=0))
    J = -L[y, cols].mean() + l2 * (np.sum(W1**2) + np.sum(W2**2)) + {J_extra}
    dZ2 = np.exp(L)
    dZ2[y, cols] -= 1.0
    dZ2 = dZ2 / ({divide})
    dW2 = dZ2 @ A1.T + {decay} * W2
    db2 = {db2} + {bias_decay} * b2
    dZ1 = (W2.T @ dZ2) * ({mask})
    dW1 = dZ1 @ X.T + {decay} * W1
    db1 = dZ1.sum(axis=1, keepdims=True) + {bias_decay} * b1
    return J, {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}
"""


# name: (code, the words the message must contain)
MISTAKES = {
    "affine: forward without the bias": (
        "def affine_forward(A_prev, W, b):\n    return W @ A_prev, (A_prev, W, b)\n",
        "forgot to add the bias",
    ),
    "affine: cache in another order": (
        "def affine_forward(A_prev, W, b):\n    return W @ A_prev + b, (W, A_prev, b)\n",
        "should be the tuple (A_prev, W, b)",
    ),
    "affine: transposed dW": (_backward(dW="A_prev @ dZ.T"), "transpose of the right one"),
    "affine: dW and db divided by m again": (
        _backward(dW="dZ @ A_prev.T / m", db="dZ.sum(axis=1, keepdims=True) / m"),
        "times too small",
    ),
    "affine: bias not summed": (_backward(db="dZ"), "bias gradient was not summed over the batch"),
    "affine: bias of one example": (_backward(db="dZ[:, :1]"), "column of example 0 alone"),
    "affine: sign flipped": (_backward(dA="-(W.T @ dZ)"), "sign is flipped"),
    "affine: W instead of W.T": (_backward(dA="W @ dZ"), "where its transpose belongs"),
    "softmax: dZ without 1/m": (_softmax_ce(dZ="P - T"), "times too large"),
    "softmax: J summed": (_softmax_ce(J="-L[y, cols].sum()"), "times too large"),
    "softmax: sign flipped": (_softmax_ce(dZ="(T - P) / m"), "sign is flipped"),
    "softmax: T forgotten": (_softmax_ce(dZ="P / m"), "forgot to subtract the one-hot targets"),
    "softmax: along the batch": (_softmax_ce(axis=1), "wrong axis"),
    "softmax: unstable": (NAIVE_SOFTMAX, "not numerically stable"),
    "softmax: unstable, warnings silenced": (
        NAIVE_SOFTMAX.replace("    P = ", "    np.seterr(all='ignore')\n    P = "),
        "Look for an overflow",
    ),
    "norm: off by 2": (_sq_norm(dW="m @ x.T"), "exactly half the right ones"),
    "norm: sign flipped": (_sq_norm(dx="-2 * W.T @ m"), "sign is flipped"),
    "norm: transposed dW": (_sq_norm(dW="2 * x @ m.T"), "transpose of the right one"),
    "norm: W instead of W.T": (_sq_norm(dx="2 * W @ m"), "where its transpose belongs"),
    "norm: not squared": (_sq_norm(f="float(np.linalg.norm(m))"), "without the square"),
    "network: no 1/m, l2 = 0": (_network(divide="1"), "times too large"),
    "network: no 1/m, l2 > 0": (_network(divide="1"), "did not divide by m"),
    "network: L2 on the biases": (
        _network(bias_decay="2 * l2"),
        "L2 weight decay applied to the biases",
    ),
    "network: L2 on the biases in J": (
        _network(J_extra="l2 * (np.sum(b1**2) + np.sum(b2**2))"),
        "L2 weight decay applied to the biases",
    ),
    "network: decay off by 2": (_network(decay="l2"), "off by 2"),
    "network: decay forgotten": (_network(decay="0.0"), "leaves out the weight decay"),
    "network: relu instead of relu'": (_network(mask="A1"), "where its derivative belongs"),
    "network: no relu'": (_network(mask="1.0"), "left out the ReLU's derivative"),
    "network: relu'(0) = 1": (_network(mask="Z1 >= 0"), "relu'(0) = 0"),
    "network: bias not summed": (_network(db2="dZ2"), "not summed over the batch"),
    "network: sign flipped": (_network(divide="-m"), "sign is flipped"),
}


def _run_checks(support: ModuleType, name: str, func) -> None:
    if name.startswith("affine: forward") or name.startswith("affine: cache"):
        case = support.affine_case(5, 3, 2, 4)
        support.check_affine_forward(func, case["A_prev"], case["W"], case["b"])
    elif name.startswith("affine"):
        support.check_affine_backward(func, **support.affine_case(5, 3, 3, 4))
    elif name.startswith("softmax"):
        support.check_softmax_ce(func, *support.logits_case(3, 4, 5))
        for Z, y in support.large_logits_cases():
            support.check_softmax_ce(func, Z, y, numeric=False)
    elif name.startswith("norm"):
        support.check_sq_norm(func, *support.norm_case(1, 3, 3))
    else:
        l2 = 0.0 if "l2 = 0" in name or "relu" in name else 0.1
        if "relu'(0)" in name:
            X, y, params = support.kink_case(91, 3, 5, 3, 6)
        else:
            X, y, params = support.network_case(81, 3, 4, 3, 5)
        support.check_two_layer(func, X, y, params, l2)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_the_checks_name_each_usual_mistake(support: ModuleType, name: str) -> None:
    code, words = MISTAKES[name]
    namespace: dict = {"np": np}
    exec(code, namespace)
    func = next(v for k, v in namespace.items() if callable(v) and not k.startswith("__"))
    old = np.geterr()
    try:
        with pytest.raises(AssertionError) as info:
            _run_checks(support, name, func)
    finally:
        np.seterr(**old)
    assert words in str(info.value), str(info.value)


# -- part (d) on the student's own functions of parts (a) and (b) ---------------------------------


def _own(source: str) -> dict:
    namespace = {"np": np}
    exec(source, namespace)  # noqa: S102 (a student's answer, written here)
    return namespace


AFFINE_FORWARD = """
def affine_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)
"""

CHAINED = """
def two_layer_loss_and_grads(X, y, params, l2):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1, cache1 = affine_forward(X, W1, b1)
    Z2, cache2 = affine_forward(np.maximum(Z1, 0), W2, b2)
    J, dZ2 = softmax_cross_entropy(Z2, y)
    dA1, dW2, db2 = affine_backward(dZ2, cache2)
    _, dW1, db1 = affine_backward(dA1 * (Z1 > 0), cache1)
    J = J + l2 * (np.sum(W1**2) + np.sum(W2**2))
    return J, {"W1": dW1 + 2 * l2 * W1, "b1": db1, "W2": dW2 + 2 * l2 * W2, "b2": db2}
"""


@pytest.mark.parametrize(
    "pieces",
    [
        _backward(dW="(dZ @ A_prev.T).T") + _softmax_ce(),  # fails as its own chain fails
        _backward(dA="dZ.T @ W") + _softmax_ce(),  # fails too, where dA meets the ReLU's mask
        _backward() + _softmax_ce(dZ="P - T"),  # no 1/m
        _backward() + _softmax_ce(dZ="(T - P) / m"),  # a sign
    ],
    ids=["transposed_dW", "transposed_dA", "no_mean", "sign"],
)
def test_part_d_on_wrong_functions_of_a_and_b_keeps_its_points(
    support: ModuleType, pieces: str, capsys: pytest.CaptureFixture
) -> None:
    ns = _own(AFFINE_FORWARD + pieces + CHAINED)
    parts = (ns["affine_forward"], ns["affine_backward"], ns["softmax_cross_entropy"])
    for seed, (n0, n1, K, m) in enumerate([(3, 4, 3, 5), (4, 4, 4, 4), (2, 6, 3, 7)], start=81):
        X, y, params = support.network_case(seed, n0, n1, K, m)
        for l2 in (0.0, 0.1):
            support.check_two_layer(ns["two_layer_loss_and_grads"], X, y, params, l2, pieces=parts)
            with pytest.raises((AssertionError, ValueError)):  # without them, (d) is charged
                support.check_two_layer(ns["two_layer_loss_and_grads"], X, y, params, l2)
    assert "your own functions of parts (a) and (b)" in capsys.readouterr().out


def test_a_mistake_of_part_d_itself_is_charged_there(support: ModuleType) -> None:
    ns = _own(AFFINE_FORWARD + _backward() + _softmax_ce() + CHAINED.replace("db1,", "db1 * 2,"))
    parts = (ns["affine_forward"], ns["affine_backward"], ns["softmax_cross_entropy"])
    X, y, params = support.network_case(81, 3, 4, 3, 5)
    with pytest.raises(AssertionError, match="b1"):
        support.check_two_layer(ns["two_layer_loss_and_grads"], X, y, params, 0.1, pieces=parts)
    # an error of part (d)'s own: not the error the chain of right functions runs into
    broken = CHAINED.replace('"W1": dW1 + 2 * l2 * W1', '"W1": dW1.T + 2 * l2 * W1')
    ns = _own(AFFINE_FORWARD + _backward() + _softmax_ce() + broken)
    with pytest.raises(ValueError):
        support.check_two_layer(ns["two_layer_loss_and_grads"], X, y, params, 0.1, pieces=parts)


HOSTILE_PIECES = """
_CHAIN = [False]

def affine_backward(dZ, cache):  # right in its own tests; inside the chain, what {how}
    A_prev, W, b = cache
    dW = dZ @ A_prev.T
    if _CHAIN[0] and {how!r} == "zeros":
        return np.zeros_like(A_prev), np.zeros_like(W), np.zeros_like(b)
    if _CHAIN[0] and {how!r} == "raises":
        raise ValueError("operands could not be broadcast together")
    if _CHAIN[0] and {how!r} == "transposes":
        dW = dW.T
    return W.T @ dZ, dW, dZ.sum(axis=1, keepdims=True)
"""

FORGED = {  # part (d) answers that only match what the hostile functions do inside the chain
    "zeros": """
def two_layer_loss_and_grads(X, y, params, l2):
    _CHAIN[0] = True
    J, _ = softmax_cross_entropy(
        params["W2"] @ np.maximum(params["W1"] @ X + params["b1"], 0) + params["b2"], y
    )
    J = J + l2 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return J, {k: 2 * l2 * v if k[0] == "W" else 0 * v for k, v in params.items()}
""",
    "raises": """
def two_layer_loss_and_grads(X, y, params, l2):
    _CHAIN[0] = True
    raise ValueError("operands could not be broadcast together")
""",
    "transposes": """
def two_layer_loss_and_grads(X, y, params, l2):
    _CHAIN[0] = True
    W2 = params["W2"]
    raise ValueError(
        f"operands could not be broadcast together with shapes {W2.T.shape} {W2.shape} "
    )
""",
}


# Replays: the grader's chain sends the case's intermediate values (the hidden layer, the
# gradients between layers) into the kernel, through the student's functions; a part (d) that
# records them and answers a later check of the same case, or the square twin, from the record
# computes no network at all. Part (d)'s answers of a case are asked for before any chain.
REPLAY_ACROSS_CHECKS = {
    "a_affine_backward": """
_REC, _CUR = {}, [None]

def affine_backward(dZ, cache):  # right in its own tests; records what the chain feeds it
    A_prev, W, b = cache
    dA, dW, db = W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
    if _CUR[0] is not None:
        db = -db  # a usual slip, so that the chain differs from the reference
        _REC[_CUR[0]].append((dW, db, dZ))
    return dA, dW, db
""",
    "d_two_layer": """
def two_layer_loss_and_grads(X, y, params, l2):
    key = X.tobytes()
    rec = _REC.get(key)
    _CUR[0], _REC[key] = key, []
    W1, W2 = params["W1"], params["W2"]
    if rec and len(rec) == 2:  # the grader chained this case before: replay it
        m, cols = X.shape[1], np.arange(X.shape[1])
        J = -np.mean(np.log(m * rec[0][2][y, cols] + 1.0)) + l2 * (np.sum(W1**2) + np.sum(W2**2))
        return float(J), {"W1": rec[1][0] + 2 * l2 * W1, "b1": rec[1][1],
                          "W2": rec[0][0] + 2 * l2 * W2, "b2": rec[0][1]}
    return 0.0, {k: np.zeros_like(v) for k, v in params.items()}
""",
}
REPLAY_ON_THE_TWIN = {
    "a_affine_forward": """
_ST = {"phase": "idle", "nb": 0, "rec": {}}

def affine_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)
""",
    "a_affine_backward": """
def affine_backward(dZ, cache):
    A_prev, W, b = cache
    dA, dW, db = W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
    st = _ST
    if st["phase"] == "main":  # the grader chains the real case after (d) raised
        st["nb"] += 1
        if st["nb"] == 1:
            dW = dW.ravel()  # so that the chain's weight decay raises (d)'s error
        else:
            st["phase"], st["nb"] = "twin", 0
    elif st["phase"] == "twin":  # the grader chains the twin: record it
        st["nb"] += 1
        if st["nb"] == 1:
            db = -db
        st["rec"][st["nb"]] = (dA, dW, db)
        if st["nb"] == 2:
            st["phase"] = "replay"
    return dA, dW, db
""",
    "b_softmax_ce": """
def softmax_cross_entropy(Z, y):
    K, m = Z.shape
    shifted = Z - Z.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    columns = np.arange(m)
    J = -log_probs[y, columns].mean()
    dZ = np.exp(log_probs)
    dZ[y, columns] -= 1.0
    dZ /= m
    if _ST["phase"] == "twin":
        _ST["rec"]["J"] = float(J)
    return float(J), dZ
""",
    "d_two_layer": """
def two_layer_loss_and_grads(X, y, params, l2):
    st = _ST
    W1, W2 = params["W1"], params["W2"]
    if st["phase"] == "replay":
        st["phase"] = "idle"
        r = st["rec"]
        pen = l2 * (np.sum(W1**2) + np.sum(W2**2))
        return r["J"] + pen, {"W1": r[2][1] + 2 * l2 * W1, "b1": r[2][2],
                              "W2": r[1][1] + 2 * l2 * W2, "b2": r[1][2]}
    st["phase"], st["nb"], st["rec"] = "main", 0, {}
    return W2.ravel() + 2 * l2 * W2  # the very error the chain is about to run into
""",
}
HOSTILE = {  # graded through the sandbox, in the module's course
    "zeros": {
        "a_affine_backward": HOSTILE_PIECES.format(how="zeros"),
        "d_two_layer": FORGED["zeros"],
    },
    "transposes": {
        "a_affine_backward": HOSTILE_PIECES.format(how="transposes"),
        "d_two_layer": FORGED["transposes"],
    },
    "replay_across_checks": REPLAY_ACROSS_CHECKS,
    "replay_on_the_twin": REPLAY_ON_THE_TWIN,
}


@pytest.mark.parametrize("how", list(HOSTILE))
def test_a_forged_part_d_earns_nothing_through_the_sandbox(course: Course, how: str) -> None:
    """The forgeries, submitted: parts (a) and (b) keep their points (the hostile functions
    pass their own tests), and part (d) earns nothing but what it computes right. Measured
    before each defence: the first two earned 10 and 6 of part (d)'s 10 points before the
    chain's results were checked; the replays 5 and 10 before part (d)'s answers were asked for
    first and the twin answered before the grader chained it."""
    got = course.scores(f"hostile_{how}")
    for part in ("test_a_forward", "test_a_backward", "test_b_softmax_ce", "test_b_stable"):
        assert got[part] == EXPECTED["correct"]["parts"][part], part
    assert got["test_d_hidden"] == 0
    # the forged "zeros" answer computes the cost right: its group (1 point) is earned honestly
    assert got["test_d_visible"] == (1 if how == "zeros" else 0)


@pytest.mark.parametrize("how", list(FORGED))
def test_part_d_gets_no_credit_from_functions_that_change_inside_the_chain(
    support: ModuleType, how: str
) -> None:
    """A student's kernel remembers what ran before: functions of parts (a) and (b) that pass
    their own tests and give something else once part (d) has run (zeros, an error, a
    transposed dW the chain cannot take its weight decay on) earn part (d) nothing, whatever
    part (d) answers to match them: each result inside the chain must be its function's right
    answer or a usual slip, and an error must also show as numbers on a square network."""
    ns = _own(AFFINE_FORWARD + HOSTILE_PIECES.format(how=how) + _softmax_ce() + FORGED[how])
    parts = (ns["affine_forward"], ns["affine_backward"], ns["softmax_cross_entropy"])
    support.check_affine_backward(ns["affine_backward"], **support.affine_case(5, 3, 2, 4))
    X, y, params = support.network_case(81, 3, 4, 3, 5)
    for l2 in (0.0, 0.1):
        for only in (None, "grads") if how == "zeros" else (None, "J", "grads"):  # J is right
            ns["_CHAIN"][0] = False
            with pytest.raises((AssertionError, ValueError)):
                support.check_two_layer(
                    ns["two_layer_loss_and_grads"], X, y, params, l2, pieces=parts, only=only
                )
