"""Plain data between the grader and a kernel: ``autograder/answers.py`` writes it (in the kernel,
and in the grader for the arguments it sends), ``autograder/wire.py`` reads the kernel's answers.

* Every plain type goes through JSON text and comes back equal and of the same type, in both
  directions (:func:`wire.decode` in the grader, :func:`answers.decode` in the kernel): ints of
  any size, floats with ``-0.0``, NaN and infinities, complex, text, bytes, nested containers,
  arrays of every allowed dtype and shape (also non-contiguous and big-endian ones), numpy
  scalars, and PCG64 generators, whose draws go on the same.
* :func:`wire.decode` rejects, with :class:`wire.Malformed` and nothing else, what a hostile
  kernel could answer instead: unknown tags, dtypes outside the fixed set, shapes that do not fit
  the data, huge sizes, deep nesting, other bit generators, extra keys.
* :func:`answers.encode` accepts exact types only, and runs no code of the objects it refuses.
* :func:`wire.put_back` updates the grader's arguments in place, keeping every inner object.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import answers, wire

DTYPES = sorted(answers.DTYPES)
NAN, INF = float("nan"), float("inf")


def through_json(x, where: str = "the result"):
    """``x`` as it travels: encoded, written as JSON text (NaN allowed, as the server writes it)
    and read back."""
    return json.loads(json.dumps(answers.encode(x, where), allow_nan=True))


def same(a, b) -> bool:
    """``a`` and ``b`` equal, of the same types all the way down, -0.0 and NaN included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, np.ndarray | np.generic):
        if a.dtype != b.dtype or np.shape(a) != np.shape(b):
            return False
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype.kind in "fc":
            parts = (x.real, y.real, x.imag, y.imag) if x.dtype.kind == "c" else (x, y, x, y)
            return all(
                np.array_equal(p, q, equal_nan=True)
                and np.array_equal(np.signbit(p), np.signbit(q))
                for p, q in (parts[:2], parts[2:])
            )
        return bool(np.array_equal(x, y))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    return a == b


def fresh(arr) -> bool:
    """An array of the grader's own: writable, C-contiguous, native byte order."""
    return arr.flags.writeable and arr.flags.c_contiguous and arr.dtype.isnative


# -- round trips ----------------------------------------------------------------------------------

PLAIN = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    2**64,
    -(2**63) - 1,
    10**100,
    -(10**300),
    0.0,
    -0.0,
    1.5,
    5e-324,
    1.7976931348623157e308,
    NAN,
    INF,
    -INF,
    1 + 2j,
    complex(-0.0, NAN),
    complex(INF, -INF),
    "",
    "text ✓ 😀 שלום \x00 \ud800 \\ \" '",
    b"",
    bytes(range(256)),
    [],
    (),
    {},
    [1, [2, (3, {"a": None})], ()],
    ((), ((),), [[]]),
    {
        "k": (1, 2.5),
        7: "seven",
        -0.5: [],
        None: b"x",
        False: -0.0,
        (1, ("x", None)): {"deep": [np.arange(3)]},
    },
]


def arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for name in DTYPES:
        dtype = np.dtype(name)
        for shape in [(), (0,), (5,), (2, 3), (2, 0, 4), (1, 1, 1, 1)]:
            if dtype.kind == "b":
                a = rng.random(shape) < 0.5
            elif dtype.kind in "iu":
                info = np.iinfo(dtype)
                a = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
            else:
                a = (rng.standard_normal(shape) * 1e3).astype(dtype)
                if dtype.kind == "c":
                    a = a + 1j * a[::-1] if a.ndim else a + 1j
            out.append(np.asarray(a, dtype=dtype))
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            out.append(np.array([info.min, info.max, 0], dtype=dtype))
        if dtype.kind in "fc":
            out.append(np.array([0.0, -0.0, NAN, INF, -INF, 1e-30], dtype=dtype))
    return out


ODD_ARRAYS = [
    np.arange(12.0).reshape(3, 4).T,  # not C-contiguous
    np.arange(20, dtype=np.int32)[::3],  # strided
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.arange(6, dtype=">f8").reshape(3, 2),  # big-endian
    np.arange(4, dtype=">i4"),
    np.array([1 + 2j, -0.0 - 0.0j], dtype=">c16"),
]

SCALARS = [
    np.float64(-0.0),
    np.float64(1.5),
    np.float32(NAN),
    np.float16(INF),
    np.int8(-128),
    np.int64(-(2**63)),
    np.uint64(2**64 - 1),
    np.uint8(255),
    np.bool_(True),
    np.complex64(1 - 2j),
    np.complex128(complex(-0.0, INF)),
]


def generator() -> np.random.Generator:
    rng = np.random.default_rng(1234)
    rng.normal(size=3)
    rng.integers(0, 10, dtype=np.uint32)  # leaves half a 64-bit draw: has_uint32 = 1
    assert rng.bit_generator.state["has_uint32"] == 1
    return rng


CASES = PLAIN + arrays() + ODD_ARRAYS + SCALARS


@pytest.mark.parametrize("value", CASES, ids=lambda v: type(v).__name__)
def test_the_grader_reads_back_what_the_kernel_wrote(value) -> None:
    out = wire.decode(through_json(value))
    if type(value) is np.ndarray:
        assert type(out) is np.ndarray and fresh(out)
        expected = value.astype(value.dtype.newbyteorder("="))  # native order, same values
        assert same(expected, out)
    else:
        assert same(value, out), (value, out)


@pytest.mark.parametrize("value", CASES, ids=lambda v: type(v).__name__)
def test_the_kernel_reads_back_what_the_grader_sent(value) -> None:
    out = answers.decode(through_json(value))
    if type(value) is np.ndarray:
        assert type(out) is np.ndarray and out.flags.writeable
        assert same(value.astype(value.dtype.newbyteorder("=")), out)
    else:
        assert same(value, out), (value, out)


def test_a_decoded_array_owns_fresh_memory() -> None:
    a = np.arange(4.0)
    out = wire.decode(through_json(a))
    out[0] = 99.0
    assert a[0] == 0.0 and fresh(out)


def test_a_generator_goes_on_with_the_same_draws_both_ways() -> None:
    for decode in (wire.decode, answers.decode):
        rng = generator()
        copy = decode(through_json(rng))
        assert type(copy) is np.random.Generator and type(copy.bit_generator) is np.random.PCG64
        assert copy.bit_generator.state == rng.bit_generator.state
        assert copy.integers(0, 2**32, dtype=np.uint32) == rng.integers(0, 2**32, dtype=np.uint32)
        assert np.array_equal(copy.normal(size=5), rng.normal(size=5))


def test_ints_outside_64_bits_travel_as_text() -> None:
    assert answers.encode(2**64 - 1) == 2**64 - 1
    assert answers.encode(2**64) == {"$i": str(2**64)}
    assert answers.encode(-(2**63) - 1) == {"$i": str(-(2**63) - 1)}


plain_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.complex_numbers(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
plain_keys = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
plain_data = st.recursive(
    plain_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(plain_keys, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(plain_data)
def test_any_nesting_of_plain_data_round_trips(value) -> None:
    assert same(value, wire.decode(through_json(value)))
    assert same(value, answers.decode(through_json(value)))


# -- what the grader refuses to read ---------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ONE_FLOAT = b64(np.float64(1.0).tobytes())
PCG = np.random.default_rng(0).bit_generator.state


def pcg(**changes) -> dict:
    state = json.loads(json.dumps(PCG))
    state.update(changes)
    return {"$g": state}


def nested(depth: int, leaf=1):
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def nested_tuples(depth: int):
    leaf = 1
    for _ in range(depth):
        leaf = {"$t": [leaf]}
    return leaf


MALFORMED = {
    "unknown tag": {"$x": 1},
    "unknown tag that looks like a name": {"__class__": "os.system"},
    "pickle tag": {"$p": b64(b"cos\nsystem\n")},
    "empty dict": {},
    "extra key beside a tag": {"$a": ["float64", [1], ONE_FLOAT], "extra": 1},
    "two tags": {"$i": "1", "$b": ""},
    "dtype object": {"$a": ["object", [1], ONE_FLOAT]},
    "dtype O": {"$a": ["O", [1], ONE_FLOAT]},
    "dtype code <f8": {"$a": ["<f8", [1], ONE_FLOAT]},
    "dtype f8": {"$a": ["f8", [1], ONE_FLOAT]},
    "dtype void": {"$a": ["V8", [1], ONE_FLOAT]},
    "dtype unicode": {"$a": ["U2", [1], ONE_FLOAT]},
    "dtype datetime": {"$a": ["datetime64[s]", [1], ONE_FLOAT]},
    "dtype record": {"$a": [[["x", "<f8"]], [1], ONE_FLOAT]},
    "dtype float128": {"$a": ["float128", [1], ONE_FLOAT + ONE_FLOAT]},
    "array too short": {"$a": ["float64", [2], ONE_FLOAT]},
    "array too long": {"$a": ["float64", [], ONE_FLOAT + ONE_FLOAT]},
    "array shape mismatch": {"$a": ["float64", [3, 3], ONE_FLOAT]},
    "negative dimension": {"$a": ["float64", [-1], ""]},
    "float dimension": {"$a": ["float64", [1.0], ONE_FLOAT]},
    "bool dimension": {"$a": ["float64", [True], ONE_FLOAT]},
    "shape not a list": {"$a": ["float64", 1, ONE_FLOAT]},
    "too many dimensions": {"$a": ["float64", [1] * 33, ONE_FLOAT]},
    "empty with a dimension numpy cannot hold": {"$a": ["float64", [0, 2**63], ""]},
    "array of two parts": {"$a": ["float64", [1]]},
    "array of four parts": {"$a": ["float64", [1], ONE_FLOAT, 0]},
    "array body a string": {"$a": "float64"},
    "array data not base64": {"$a": ["float64", [1], "not base64!"]},
    "array data not a string": {"$a": ["float64", [1], [1.0]]},
    "huge array": {"$a": ["uint8", [answers.MAX_ITEMS + 1], ""]},
    "huge array by its shape": {"$a": ["float64", [2**40, 2**40], ""]},
    "scalar with a shape": {"$s": ["float64", [1], ONE_FLOAT]},
    "scalar of dtype object": {"$s": ["object", [], ONE_FLOAT]},
    "tuple body a dict": {"$t": {"a": 1}},
    "dict body a dict": {"$d": {"a": 1}},
    "dict item of one": {"$d": [["a"]]},
    "dict item a dict": {"$d": [{"a": 1}]},
    "dict key a list": {"$d": [[[1, 2], 3]]},
    "dict key an array": {"$d": [[{"$a": ["float64", [1], ONE_FLOAT]}, 1]]},
    "dict key a dict": {"$d": [[{"$d": []}, 1]]},
    "dict key a tuple holding a list": {"$d": [[{"$t": [[1]]}, 1]]},
    "complex of one": {"$c": [1.0]},
    "complex of text": {"$c": [1.0, "2"]},
    "complex of bools": {"$c": [True, False]},
    "bytes not base64": {"$b": "&&&"},
    "bytes not text": {"$b": 12},
    "int not text": {"$i": 12},
    "int in hex": {"$i": "0x10"},
    "int too long": {"$i": "9" * (wire.MAX_INT_DIGITS + 1)},
    "generator MT19937": {
        "$g": np.random.Generator(np.random.MT19937(0)).bit_generator.state | {"state": {}}
    },
    "generator named MT19937": pcg(bit_generator="MT19937"),
    "generator extra key": pcg(extra=1),
    "generator missing key": {"$g": {k: v for k, v in PCG.items() if k != "uinteger"}},
    "generator state extra key": pcg(state={"state": 1, "inc": 1, "x": 1}),
    "generator state too large": pcg(state={"state": 2**128, "inc": 1}),
    "generator state negative": pcg(state={"state": -1, "inc": 1}),
    "generator state float": pcg(state={"state": 1.0, "inc": 1}),
    "generator has_uint32 huge": pcg(has_uint32=2**100),
    "generator uinteger too large": pcg(uinteger=2**32),
    "generator body a list": {"$g": [1, 2]},
    "nested too deeply": nested(answers.MAX_DEPTH + 5),
    "tuples nested too deeply": nested_tuples(answers.MAX_DEPTH + 5),
    "a tuple (not JSON)": (1, 2),
    "a set (not JSON)": {1, 2},
    "bytes (not JSON)": b"raw",
}


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
def test_hostile_answers_are_malformed(value) -> None:
    with pytest.raises(wire.Malformed):
        wire.decode(value)
    with pytest.raises(wire.Malformed):  # also inside a container
        wire.decode([1, {"$d": [["k", value]]}])


def test_sizes_are_counted_over_the_whole_answer() -> None:
    half = answers.MAX_ITEMS // 2 + 1
    array = {"$a": ["uint8", [half], b64(bytes(half))]}
    assert wire.decode(array).size == half  # one is fine
    with pytest.raises(wire.Malformed, match="too large"):
        wire.decode([array, array])  # two are too much
    items = [0] * half
    with pytest.raises(wire.Malformed, match="too large"):
        wire.decode([items, items])


def test_nesting_up_to_the_limit_is_read() -> None:
    assert wire.decode(nested(answers.MAX_DEPTH - 1)) == nested(answers.MAX_DEPTH - 1)


# -- what the kernel refuses to write --------------------------------------------------------------

RAN: list[str] = []  # code of the refused objects that ran: must stay empty


class Spy:
    """An object whose every conversion hook records that it ran."""

    def _ran(self, name):
        RAN.append(name)

    def __array__(self, *a, **k):
        self._ran("__array__")
        return np.zeros(2)

    def __float__(self):
        self._ran("__float__")
        return 1.0

    def __int__(self):
        self._ran("__int__")
        return 1

    def __index__(self):
        self._ran("__index__")
        return 1

    def __len__(self):
        self._ran("__len__")
        return 1

    def __iter__(self):
        self._ran("__iter__")
        return iter([1.0])

    def __getitem__(self, i):
        self._ran("__getitem__")
        return 1.0

    def __reduce__(self):
        self._ran("__reduce__")
        return (float, (1.0,))

    def __repr__(self):
        self._ran("__repr__")
        return "Spy()"


class F(float):
    def __repr__(self):
        RAN.append("F.__repr__")
        return "1.0"


class I(int):  # noqa: E742
    pass


class A(np.ndarray):
    def __array_finalize__(self, obj):
        RAN.append("A.__array_finalize__")


class D(dict):
    def items(self):
        RAN.append("D.items")
        return super().items()


class L(list):
    def __iter__(self):
        RAN.append("L.__iter__")
        return super().__iter__()


class S(str):
    pass


def gen():
    yield RAN.append("generator ran")


REFUSED = {
    "float subclass": (lambda: F(1.0), "F"),
    "int subclass": (lambda: I(1), "I"),
    "bool-like int subclass in a list": (lambda: [1, I(0)], "I"),
    "str subclass": (lambda: S("x"), "S"),
    "ndarray subclass": (lambda: np.zeros(3).view(A), "A"),
    "np.matrix": (lambda: np.matrix([[1.0]]), "matrix"),
    "masked array": (lambda: np.ma.masked_array([1.0]), "MaskedArray"),
    "dict subclass": (lambda: D(a=1), "D"),
    "list subclass": (lambda: L([1]), "L"),
    "object with __array__ and __float__": (Spy, "Spy"),
    "generator": (gen, "generator"),
    "function": (lambda: lambda x: x, "function"),
    "builtin function": (lambda: len, "builtin_function_or_method"),
    "class": (lambda: Spy, "type"),
    "module": (lambda: np, "module"),
    "set": (lambda: {1}, "set"),
    "frozenset": (lambda: frozenset(), "frozenset"),
    "bytearray": (lambda: bytearray(b"x"), "bytearray"),
    "object array": (lambda: np.array([Spy()], dtype=object), "numpy array of object"),
    "string array": (lambda: np.array(["a"]), "numpy array of <U1"),
    "datetime array": (lambda: np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
    "record array": (lambda: np.zeros(2, dtype=[("x", "f8")]), "numpy array of"),
    "np.str_": (lambda: np.str_("x"), "str_"),
    "np.datetime64": (lambda: np.datetime64("2020-01-01"), "datetime64"),
    "MT19937 generator": (lambda: np.random.Generator(np.random.MT19937(0)), "Generator"),
    "RandomState": (lambda: np.random.RandomState(0), "RandomState"),
    "key of a float subclass": (lambda: {F(1.0): 1}, "F"),
    "key a frozenset": (lambda: {frozenset(): 1}, "frozenset"),
    "key a tuple holding a subclass": (lambda: {(1, F(2.0)): 1}, "F"),
    "spy deep in a dict": (lambda: {"a": [1, (2, {"b": Spy()})]}, "Spy"),
    "too deep": (lambda: nested(answers.MAX_DEPTH + 2), "nested too deeply"),
    "too large": (lambda: np.zeros(answers.MAX_ITEMS + 1, dtype=np.uint8), "too large"),
}


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("make, type_name", REFUSED.values(), ids=REFUSED.keys())
def test_the_kernel_encodes_exact_types_only(make, type_name: str) -> None:
    value = make()
    RAN.clear()
    with pytest.raises(answers.Unsupported) as caught:
        answers.encode(value, "the result")
    assert type_name in caught.value.type_name
    assert RAN == [], f"code of the refused object ran: {RAN}"


def test_unsupported_says_where() -> None:
    with pytest.raises(answers.Unsupported) as caught:
        answers.encode({"a": [1, (2, Spy())]}, "the result")
    assert caught.value.where == "the result['a'][1][1]" and caught.value.type_name == "Spy"
    with pytest.raises(answers.Unsupported) as caught:
        answers.encode([np.float64(1), {F(1.0): 2}], "argument 2")
    assert caught.value.where == "a key of argument 2[1]"


# -- putting the kernel's changes back into the grader's arguments --------------------------------


def test_put_back_keeps_the_identity_of_nested_arrays_and_dicts() -> None:
    w, b, inner = np.zeros((2, 2)), np.zeros(2), np.ones(3)
    sub = {"x": inner}
    items = [np.zeros(1), {"y": 1}]
    params = {"W": w, "b": b, "sub": sub, "items": items, "gone": 1, "shape": np.zeros(2)}
    after = through_json(
        {
            "W": np.full((2, 2), 2.0),
            "b": np.array([1.0, -0.0]),
            "sub": {"x": np.array([5.0, 6.0, 7.0]), "new": "n"},
            "items": [np.array([3.0]), {"y": 2}, "more"],
            "shape": np.zeros(3),  # a new shape cannot be made in place
        }
    )
    assert wire.put_back(params, wire.decode(after))
    assert params["W"] is w and np.array_equal(w, np.full((2, 2), 2.0))
    assert params["b"] is b and np.signbit(b[1])
    assert params["sub"] is sub and sub["x"] is inner and list(inner) == [5.0, 6.0, 7.0]
    assert sub["new"] == "n"
    assert params["items"] is items and items[0][0] == 3.0 and items[1] == {"y": 2}
    assert items[2] == "more"
    assert "gone" not in params
    assert params["shape"].shape == (3,)


def test_put_back_of_arrays_and_generators() -> None:
    a = np.zeros(3)
    assert wire.put_back(a, np.arange(3.0)) and list(a) == [0.0, 1.0, 2.0]
    assert not wire.put_back(a, np.zeros(4))  # another shape
    assert not wire.put_back(a, [1.0, 2.0, 3.0])  # another type
    assert not wire.put_back((1, 2), (3, 4))  # immutable
    rng, moved = np.random.default_rng(0), generator()
    assert wire.put_back(rng, wire.decode(through_json(moved)))
    assert rng.bit_generator.state == moved.bit_generator.state
