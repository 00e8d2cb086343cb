"""Reference values and checks for problem set 2 (activation functions).

Students: you may read this file. Your answers must not call ``course.activations`` (or any
other part of the course package), ``scipy.special`` or a deep-learning library: the tests check
that. Every function you write is checked three ways:

* against the course's reference, :mod:`course.activations`;
* the derivative also against centred finite differences (float64) of an independent formula of
  the forward function (away from the kinks of ReLU and leaky ReLU, where finite differences
  average the two one-sided slopes);
* for large inputs, with numpy's floating-point warnings turned into errors: an overflow fails
  even when the final value happens to be right.

The checks also make sure your function returns a float64 array of the shape of ``z`` and does
not change ``z`` in place, and they name the usual mistakes (the activation where its derivative
belongs, the wrong convention at the kink ``z = 0``, the slope 0.01 instead of 0.1, ...).

Two diagnoses are added here to those of :mod:`course.checks`:

* :func:`uses_forbidden` finds C-level functions of forbidden packages (``scipy.special.expit``
  is a numpy ufunc and ``torch.sigmoid`` a builtin: the profile hook of
  :func:`course.checks.own_work` only sees Python code, so it cannot see them);
* :func:`check_stable` reports an overflow warning with the entry of ``z`` that caused it.

The course modules are imported only by the functions that need them: while the assignment is
graded, the ones it forbids are not available in your kernel (:func:`depth_table` then prints a
note instead of its table).
"""

from __future__ import annotations

import dis
import sys
import types
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from course import checks

# code that computes the activations for you: not allowed inside a student's function (packages
# that are not installed are skipped)
FORBID = (
    "course.activations",
    "course.vanishing",
    "course.mlp",
    "course.layers",
    "course.graph",
    "course.gradcheck",
    "scipy.special",  # named too: its C functions (expit) are found by uses_forbidden
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = ("depth_table", "random_inputs", "large_inputs")
LEAKY_SLOPE = 0.1  # the lectures' leaky ReLU: max(0.1 z, z)
FD_MAX_SIZE = 48  # finite differences on at most this many entries per check (they cost O(n^2))
KINK_GAP = 1e-3  # finite differences skip entries this close to a kink

Func = Callable[[np.ndarray], Any]


def reference(name: str) -> tuple[Callable, Callable]:
    """The course's reference ``(forward, derivative from z)`` for an activation, from
    :mod:`course.activations` ("sigmoid", "tanh", "relu" or "leaky_relu")."""
    from course import activations as act

    return {
        "sigmoid": (act.sigmoid, act.sigmoid_prime),
        "tanh": (act.tanh, act.tanh_prime),
        "relu": (act.relu, act.relu_prime),
        "leaky_relu": (act.leaky_relu, act.leaky_relu_prime),
    }[name]


# Forward functions written independently of course.activations, for finite differences.
INDEPENDENT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.maximum(LEAKY_SLOPE * z, z),
}
KINKED = ("relu", "leaky_relu")


# -- forbidden packages that the profile hook cannot see ------------------------------------------


def _forbidden_module(name: str) -> str | None:
    """The forbidden module ``name`` belongs to, the most specific one named (scipy.special
    rather than scipy)."""
    found = [f for f in FORBID if name == f or name.startswith(f + ".")]
    return max(found, key=len) if found else None


def _loaded_forbidden_objects() -> dict[int, tuple[str, str]]:
    """id -> (module, name) of the functions of the forbidden modules imported so far.

    Functions that a forbidden module merely re-exports from elsewhere (numpy's, the standard
    library's) are left out.
    """
    allowed = {id(v) for v in vars(np).values()}
    found: dict[int, tuple[str, str]] = {}
    for forbidden in FORBID:
        mod = sys.modules.get(forbidden)
        if mod is None:
            continue
        for name, obj in list(vars(mod).items()):
            if name.startswith("_") or isinstance(obj, type) or not callable(obj):
                continue
            owner = getattr(obj, "__module__", None)
            if isinstance(owner, str) and _forbidden_module(owner) is None:
                continue
            if id(obj) not in allowed:
                found.setdefault(id(obj), (forbidden, f"{name} from {forbidden}"))
    return found


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def uses_forbidden(func: Any, depth: int = 4) -> tuple[str, str] | None:
    """``(module, what it uses)`` if ``func`` refers to a forbidden package's function, else None.

    A static look at the names the function's code reads (globals, attributes, closure cells),
    following the notebook's own helper functions ``depth`` calls deep. It finds what
    :func:`course.checks.own_work` cannot see: functions written in C, such as
    ``scipy.special.expit`` (a numpy ufunc) or ``torch.sigmoid``, however they were imported
    (``from scipy.special import expit``, ``import scipy.special as sp``, ``scipy.special.expit``).
    """
    objects = _loaded_forbidden_objects()
    seen: set[int] = set()

    def visit(obj: Any, level: int) -> tuple[str, str] | None:
        if id(obj) in seen:
            return None
        seen.add(id(obj))
        if id(obj) in objects:
            return objects[id(obj)]
        if isinstance(obj, types.ModuleType):
            module = _forbidden_module(obj.__name__)
            return (module, f"the module {obj.__name__}") if module else None
        owner = getattr(obj, "__module__", None)
        if isinstance(owner, str) and not isinstance(obj, types.FunctionType):
            module = _forbidden_module(owner)
            if module:
                return module, f"{getattr(obj, '__name__', repr(obj))} from {owner}"
        if not isinstance(obj, types.FunctionType) or level > depth:
            return None
        if isinstance(owner, str) and _forbidden_module(owner):
            return None  # Python code of a forbidden package: own_work reports it
        names: set[str] = set()
        attrs: set[str] = set()
        for code in _code_objects(obj.__code__):
            for ins in dis.get_instructions(code):
                if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                    names.add(str(ins.argval))
                elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                    attrs.add(str(ins.argval))
        values = [obj.__globals__[n] for n in sorted(names) if n in obj.__globals__]
        values += [cell.cell_contents for cell in obj.__closure__ or () if _filled(cell)]
        for value in values:
            if isinstance(value, types.ModuleType):
                # `import scipy` then `scipy.special.expit`: a parent of a forbidden module
                for forbidden in FORBID:
                    prefix = value.__name__ + "."
                    if forbidden.startswith(prefix):
                        child = forbidden[len(prefix) :].split(".")[0]
                        if child in attrs:
                            return forbidden, f"the module {forbidden}"
            found = visit(value, level + 1)
            if found:
                return found
        return None

    return visit(func, 0)


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises ValueError)
    except ValueError:
        return False
    return True


# -- running a student's function -----------------------------------------------------------------


def _describe(z: np.ndarray, hidden: str | None = None) -> str:
    """How a message names the input: its values when few (a visible test), its shape and the
    kind of case for a hidden test (see source_assignments/README.md)."""
    if hidden is not None:
        return f"z of shape {z.shape}; hidden case: {hidden}"
    if z.ndim == 0:
        return f"z = np.array({z.item():g}), a 0-d array"
    if z.size <= 6 and z.ndim == 1:
        return "z = [" + ", ".join(f"{v:g}" for v in z) + "]"
    return f"z of shape {z.shape}"


def call(func: Func, z: np.ndarray, part: str) -> Any:
    """Run ``func`` on a copy of ``z``: own work only, ``z`` left unchanged."""
    __tracebackhide__ = True
    given = z.copy()
    got = checks.call_student(func, given, part=part, forbid=FORBID)
    found = uses_forbidden(func)
    if found is not None:
        module, what = found
        name = getattr(func, "__name__", "your function")
        raise checks.CheckFailure(
            f"{part}: {checks.OWN_WORK_MESSAGE.format(module=module)}. Your function {name} "
            f"uses {what}. Such packages are there to check your answers; this "
            "exercise asks you to write the computation yourself (with numpy's np.exp, np.tanh, "
            "np.maximum, np.where, ...), so an answer that lets a package do it earns no credit "
            "for this part.",
            name=part,
            problem="own_work",
        )
    if given.shape != z.shape or not np.array_equal(given, z):
        name = getattr(func, "__name__", "your function")
        raise checks.CheckFailure(
            f"Your {name} changed its input z in place (for example z[z < 0] = 0 or z *= ...). "
            "Backprop still needs Z[l] after the forward pass, so leave z unchanged: work on a "
            "copy (z.copy()) or build a new array (np.maximum, np.where, ...).",
            name=name,
            problem="changed_input",
        )
    return got


def _check_float64(name: str, got: Any, context: str) -> None:
    """float64 even where the values are whole numbers (a step function), in the words of every
    problem set's checks (:func:`course.checks.check_dtype`)."""
    __tracebackhide__ = True
    checks.check_dtype(
        name,
        got,
        context=context,
        like=", like z",
        integers="return floats instead of integers: a comparison or an integer array has to "
        "become float64 before it is returned (the instructions of part (c) say how).",
    )


# -- the usual mistakes ---------------------------------------------------------------------------


def forward_mistakes(name: str, z: np.ndarray) -> dict[str, np.ndarray]:
    """Known wrong forward values for ``z``, keyed by an explanation."""
    from course import activations as act

    with np.errstate(all="ignore"):
        if name == "sigmoid":
            return {
                "you computed sigma(-z) = 1 - sigma(z): the sign of the exponent is flipped. "
                "Compare your exponent with the definition of part (a).": act.sigmoid(-z),
                "you returned 1 - sigma(z) (the sigmoid mirrored: 0 where it should be 1): "
                "look at the numerator of your fraction.": 1.0 - act.sigmoid(z),
            }
        if name == "tanh":
            return {
                "you computed 2 sigma(z) - 1: tanh is a stretched sigmoid, but the argument of "
                "your sigma is wrong (see part (b)).": 2.0 * act.sigmoid(z) - 1.0,
            }
        if name == "relu":
            found = {
                "you returned min(z, 0), the negative part of z; ReLU keeps the positive "
                "part.": np.minimum(z, 0.0),
                "you returned the unit step u(z), ReLU's derivative, where ReLU itself "
                "belongs.": act.relu_prime(z),
            }
            if z.ndim:
                found[
                    "np.max(z, 0) is the largest entry of z along axis 0 (a reduction: the 0 is "
                    "the axis), not a comparison of every entry with 0. The element-wise "
                    "maximum of two arrays is another numpy function (see 'See Also' in "
                    "help(np.max))."
                ] = np.max(z, 0)
            return found
        if name == "leaky_relu":
            return {
                "your leaky ReLU has the slope 0.01 for z < 0 (a common library default), but "
                "the course's leaky ReLU has the slope 0.1 there (part (c)).": act.leaky_relu(
                    z, alpha=0.01
                ),
                "you returned plain ReLU (0 for every z < 0); the leaky ReLU keeps a slope of "
                "0.1 for z < 0.": act.relu(z),
            }
    return {}


def derivative_mistakes(name: str, z: np.ndarray) -> dict[str, np.ndarray]:
    """Known wrong derivatives for ``z``, keyed by an explanation."""
    from course import activations as act

    zero = z == 0
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            s = act.sigmoid(z)
            return {
                "you evaluated the derivative's formula at z itself: the formula written "
                "with the forward value takes a = sigma(z), not the input z.": z * (1.0 - z),
                "you returned sigma(z) (1 + sigma(z)): a sign in your derivative is wrong. "
                "Differentiate sigma again and compare term by term.": s * (1.0 + s),
                "you returned 1 - sigma(z): a power of the denominator is missing. "
                "Differentiate 1 / (1 + e^(-z)) with the chain rule again.": 1.0 - s,
            }
        if name == "tanh":
            t = np.tanh(z)
            return {
                "you evaluated the derivative's formula at z itself: the formula written "
                "with the forward value takes a = tanh(z), not the input z.": 1.0 - z * z,
                "you returned 1 - tanh(z): a power is missing. Check the derivative of "
                "part (b) again.": 1.0 - t,
                "you returned (1 - tanh(z))^2: the square applies to the wrong quantity. "
                "Check the derivative of part (b) again.": (1.0 - t) ** 2,
            }
        if name == "relu":
            if not zero.any():
                return {}
            return {
                "wrong value at the kink z = 0: the course's convention is relu'(0) = 0 (the "
                "unit step u(0) = 0, as course.activations and most libraries), but yours gives "
                "1 at z = 0. Look at how your comparison treats z = 0 exactly.": (z >= 0).astype(
                    np.float64
                ),
                "wrong value at the kink z = 0: the course's convention is relu'(0) = 0, but "
                "yours gives 0.5 (the average of the two slopes) at z = 0.": np.where(
                    zero, 0.5, act.relu_prime(z)
                ),
            }
        if name == "leaky_relu":
            found = {
                "your leaky ReLU's slope for z < 0 is 0.01 (a common library default), but the "
                "course's leaky ReLU has the slope 0.1 there (part (c)).": np.where(
                    z > 0, 1.0, 0.01
                ),
                "you returned ReLU's derivative (0 for z < 0), but the leaky ReLU is not flat "
                "for z < 0: differentiate its left piece.": act.relu_prime(z),
            }
            if zero.any():
                found[
                    "wrong value at the kink z = 0: the course's convention is leaky_relu'(0) = "
                    "0.1 (the slope of the left piece), but yours gives 1 at z = 0. Look at how "
                    "your comparison treats z = 0 exactly."
                ] = np.where(z >= 0, 1.0, LEAKY_SLOPE)
                found[
                    "wrong value at the kink z = 0: the course's convention is leaky_relu'(0) = "
                    "0.1, but yours gives 0.55 (the average of the two slopes) at z = 0."
                ] = np.where(zero, 0.55, act.leaky_relu_prime(z))
            return found
    return {}


# -- the checks -----------------------------------------------------------------------------------


def check_pair(
    name: str,
    f: Func,
    fprime: Func,
    z: Any,
    part: str,
    *,
    context: str | None = None,
    fd: bool = True,
    hidden: str | None = None,
    only: str | None = None,
) -> None:
    """Check ``f(z)`` and ``fprime(z)`` against course.activations and finite differences.

    ``hidden``: for a hidden test, what kind of case it is; the message then names ``z`` by its
    shape and that description instead of by its values. ``only``: ``"f"`` checks ``f`` alone,
    ``"prime"`` the derivative alone (each its own points in a test), None both.
    """
    __tracebackhide__ = True
    z = np.array(z, dtype=np.float64)
    where = _describe(z, hidden) + (f", {context}" if context else "")
    ref_f, ref_d = reference(name)
    if only != "prime":
        got_f = call(f, z, part)
        checks.check_array(
            f"{name}(z)", got_f, ref_f(z), context=where, mistakes=forward_mistakes(name, z)
        )
        _check_float64(f"{name}(z)", got_f, where)
    if only == "f":
        return

    got_d = call(fprime, z, part)
    activation = (ref_f, ref_d, z)
    checks.check_array(
        f"{name}_prime(z)",
        got_d,
        ref_d(z),
        context=where,
        activation=activation,
        mistakes=derivative_mistakes(name, z),
    )
    _check_float64(f"{name}_prime(z)", got_d, where)
    if not fd:
        return
    got_d = np.asarray(got_d, dtype=np.float64)
    indep = INDEPENDENT[name]
    if z.ndim == 0:
        if name in KINKED and abs(z.item()) < KINK_GAP:
            return
        x: Any = z.item()
        analytic: Any = got_d
    else:
        keep = np.ones(z.shape, dtype=bool)
        if name in KINKED:
            keep = np.abs(z) >= KINK_GAP
        x = z[keep][:FD_MAX_SIZE].copy()
        analytic = got_d[keep][:FD_MAX_SIZE]
        if x.size == 0:
            return
    checks.numeric_gradient_check(
        lambda t: float(np.sum(indep(np.asarray(t, dtype=np.float64)))),
        x,
        analytic,
        f"{name}_prime(z)",
        context=f"{where}; entries away from the kinks",
        activation=(indep, ref_d, x),
    )


def _first_warning(func: Func, z: np.ndarray) -> float | None:
    """The first entry of ``z`` on which ``func`` alone raises a floating-point warning."""
    for value in z.reshape(-1):
        try:
            with _strict():
                func(np.array(value))
        except (RuntimeWarning, FloatingPointError):
            return float(value)
        except Exception:  # noqa: BLE001 (a function that fails on 0-d arrays: no entry found)
            return None
    return None


#: the derivatives whose inherited instability was already reported (see check_stable); weak,
#: so that nothing of one notebook's functions outlives its grading
_EXCUSED: weakref.WeakSet = weakref.WeakSet()


def _inherits_instability(name: str, func: Func, forward: Func, z: np.ndarray, part: str) -> bool:
    """Whether the derivative ``func`` is unstable on ``z`` only because ``forward`` is.

    True when ``forward`` warns on ``z`` too and ``func``'s values, computed with the warnings
    let through, equal the reference derivative (a derivative built on the forward function).
    """
    try:
        with _strict():
            call(forward, z, part)
    except (RuntimeWarning, FloatingPointError):
        pass
    except Exception:  # noqa: BLE001 (a forward function that fails otherwise: no excuse)
        return False
    else:
        return False  # the forward function is stable here: the derivative's overflow is its own
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                got = call(func, z, part)
        checks.check_array("derivative", got, reference(name)[1](z))
        _check_float64("derivative", got, "")
    except Exception:  # noqa: BLE001 (wrong values: the derivative has a slip of its own)
        return False
    return True


@contextmanager
def _strict() -> Iterator[None]:
    """numpy's overflow / invalid / divide-by-zero warnings raised as errors (underflow is fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            yield


STABILITY_HINT = {
    "sigmoid": (
        "np.exp(x) overflows (inf, with a warning) for x > 709.78, so e^(-z) overflows for "
        "z < -709.78 even though the sigmoid there is simply 0. Compute the sigmoid so that "
        "np.exp only ever sees numbers <= 0: the hint of part (a) says how to rewrite the "
        "fraction for z < 0."
    ),
    "sigmoid_prime": (
        "np.exp(x) overflows (inf, with a warning) for x > 709.78, so e^(-z) overflows for "
        "z < -709.78. If your derivative calls your sigmoid, make part (a)'s sigmoid stable "
        "first; if it exponentiates z itself, rewrite it so that np.exp only ever sees "
        "numbers <= 0, as for the sigmoid."
    ),
    "tanh": (
        "np.exp(z) overflows for z > 709.78, and a quotient of exponentials then becomes "
        "inf / inf = nan. numpy's own np.tanh is allowed and stable; a formula of your own must "
        "only ever exponentiate numbers <= 0 (part (b) relates tanh to the sigmoid)."
    ),
}
WHERE_HINT = (
    " Note that np.where(condition, a, b) computes both a and b on EVERY entry before choosing, "
    "so an np.exp that overflows inside one of its branches still overflows."
)


def check_stable(
    name: str,
    func: Func,
    z: Any,
    part: str,
    *,
    label: str | None = None,
    context: str | None = None,
    hidden: str | None = None,
    forward: Func | None = None,
) -> None:
    """``func(z)`` runs without an overflow warning, is finite and matches the reference.

    ``name`` is the activation ("sigmoid", ...); ``label`` what is checked (default ``name``,
    e.g. "sigmoid_prime"); the reference is the forward function, or the derivative when
    ``label`` ends in "_prime".

    ``forward`` (a derivative's check only) is the student's forward function. A derivative that
    warns only where that function warns too, and whose values are right once the warnings are
    let through, is unstable because it calls the forward function: the slip is counted once,
    by the forward function's own check, and this one passes with a note.
    """
    __tracebackhide__ = True
    z = np.array(z, dtype=np.float64)
    label = label or name
    where = _describe(z, hidden) + (f", {context}" if context else "")
    try:
        with _strict():
            got = call(func, z, part)
    except (RuntimeWarning, FloatingPointError) as exc:
        if forward is not None and _inherits_instability(name, func, forward, z, part):
            if func not in _EXCUSED:  # said once per function, not per case
                _EXCUSED.add(func)
                print(
                    f"Your {label}(z) is not stable for large inputs either ({where}), but only "
                    f"where your {name}(z) is not, and its values are right: it inherits the "
                    f"overflow of your {name}, so it loses no points of its own. Make {name} "
                    "stable and both pass."
                )
            return
        bad = _first_warning(func, z)
        at = f" at z = {bad:g}" if bad is not None and hidden is None else ""
        raise checks.CheckFailure(
            f'Your {label}(z) is not stable for large inputs: numpy warned "{exc}"{at} '
            f"({where}). The tests turn such warnings into errors, because an overflow on the "
            f"way is a bug even when the final value happens to be right. "
            + STABILITY_HINT.get(label, STABILITY_HINT.get(name, ""))
            + WHERE_HINT,
            name=f"{label}(z)",
            problem="unstable",
        ) from None
    ref_f, ref_d = reference(name)
    expected = ref_d(z) if label.endswith("_prime") else ref_f(z)
    activation = (ref_f, ref_d, z) if label.endswith("_prime") else None
    checks.check_array(f"{label}(z)", got, expected, context=where, activation=activation)
    _check_float64(f"{label}(z)", got, where)


# -- test inputs ----------------------------------------------------------------------------------

SHAPES = [(), (1,), (7,), (1, 5), (4, 1), (3, 6), (2, 3, 4)]


def random_inputs(seed: int, scale: float = 6.0, zeros: bool = True) -> list[np.ndarray]:
    """Seeded float64 arrays of many shapes (0-d, 1-D, 2-D as (n, m) batches, 3-D).

    Values are uniform in ``[-scale, scale]``; with ``zeros`` some entries are exactly 0 or -0.0,
    some are integers, some are tiny (1e-300 in magnitude), and a 0-d zero is added.
    """
    rng = np.random.default_rng(seed)
    out = []
    for shape in SHAPES:
        z = rng.uniform(-scale, scale, size=shape)
        if zeros and z.ndim:
            flat = z.reshape(-1)
            picks = rng.random(flat.size)
            flat[picks < 0.15] = 0.0
            flat[(picks >= 0.15) & (picks < 0.2)] = -0.0
            whole = (picks >= 0.2) & (picks < 0.3)
            flat[whole] = np.round(flat[whole])
            if flat.size > 4:
                flat[-1] = 1e-300
                flat[-2] = -1e-300
        out.append(np.asarray(z, dtype=np.float64))
    if zeros:
        out.append(np.array(0.0))
    return out


def large_inputs(seed: int) -> list[np.ndarray]:
    """Seeded float64 arrays with |z| up to 1e4, the overflow limits of exp, and 0-d arrays."""
    rng = np.random.default_rng(seed)
    edges = np.array([-1e4, -746.0, -745.0, -710.0, -709.0, -100.0, 0.0, 100.0, 709.0, 710.0])
    return [
        edges,
        np.concatenate([edges, [745.0, 746.0, 1e4]]).reshape(1, -1),
        rng.uniform(-1e4, 1e4, size=(4, 6)),
        np.round(rng.uniform(-1e3, 1e3, size=(3, 2, 2))),
        np.array(-1e4),
        np.array(1e4),
        np.array(-800.0),
    ]


# -- part (d): watching gradients vanish ----------------------------------------------------------


def depth_table(depth: int = 10, names: tuple[str, ...] = ("sigmoid", "tanh", "relu")) -> str:
    """``||dJ/dW[l]||`` per layer of a fresh deep network, one column per hidden activation.

    Uses :func:`course.vanishing.layer_gradient_norms` (Xavier initialisation for sigmoid and
    tanh, He for ReLU): layer 1 is next to the inputs, the last layer is the output layer.
    Where ``course.vanishing`` is not available (while the assignment is graded), a one-line
    note says so instead.
    """
    try:
        from course.vanishing import layer_gradient_norms
    except ImportError:
        return (
            "(this table is computed with course.vanishing, which is not available while the "
            "assignment is graded)"
        )

    norms = {n: layer_gradient_norms(n, depth) for n in names}
    rows = [f"{'layer':<12}" + "".join(f"{n:>12}" for n in names)]
    for layer in range(depth + 1):
        rows.append(f"{layer + 1:<12}" + "".join(f"{norms[n][layer]:>12.2e}" for n in names))
    rows.append(
        f"{'first/last':<12}" + "".join(f"{norms[n][0] / norms[n][-1]:>12.1e}" for n in names)
    )
    return "\n".join(rows)
