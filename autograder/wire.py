"""The grader's reading of what a kernel answers: plain data only, checked strictly.

The kernel writes its answers with :func:`autograder.answers.encode`, but the kernel runs
student code, so an answer may be anything at all. :func:`decode` accepts only that format and
builds fresh objects of the grader's own: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``, lists, tuples, dicts, ``numpy.ndarray`` (exactly, C-contiguous, of a numeric or
boolean dtype from :data:`autograder.answers.DTYPES`), numpy scalars of those dtypes, and
``numpy.random.Generator`` on PCG64. Nothing is unpickled, no name chosen by the kernel is looked
up (a dtype is one of a fixed set of strings), and sizes are bounded. Anything else raises
:class:`Malformed`.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

from autograder.answers import DTYPES, MAX_DEPTH, MAX_ITEMS

MAX_TEXT = 64 * 1024 * 1024  # characters of one answer
MAX_INT_DIGITS = 4000


class Malformed(ValueError):
    """An answer that is not plain data of the agreed format."""


def decode(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """A fresh object of the grader's own from a kernel's encoded ``value`` (see module doc)."""
    if budget is None:
        budget = [MAX_ITEMS]
    if depth > MAX_DEPTH:
        raise Malformed("nested too deeply")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return int(value)
    if t is float:
        return float(value)
    if t is list:
        _spend(budget, len(value))
        return [decode(v, budget, depth + 1) for v in value]
    if t is not dict or len(value) != 1:
        raise Malformed(f"unexpected {t.__name__}")
    ((tag, body),) = value.items()
    if tag == "$a" or tag == "$s":
        arr = _array(body, budget)
        if tag == "$s":
            if arr.shape != ():
                raise Malformed("a scalar with a shape")
            return arr[()]
        return arr
    if tag == "$t":
        if type(body) is not list:
            raise Malformed("tuple")
        _spend(budget, len(body))
        return tuple(decode(v, budget, depth + 1) for v in body)
    if tag == "$d":
        if type(body) is not list:
            raise Malformed("dict")
        _spend(budget, len(body))
        out: dict[Any, Any] = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise Malformed("dict item")
            key = decode(pair[0], budget, depth + 1)
            if not (key is None or type(key) in (bool, int, float, str, tuple)):
                raise Malformed("dict key")
            try:
                out[key] = decode(pair[1], budget, depth + 1)
            except TypeError as exc:  # an unhashable tuple key
                raise Malformed("dict key") from exc
        return out
    if tag == "$c":
        if (
            type(body) is not list
            or len(body) != 2
            or any(type(v) not in (int, float) for v in body)
        ):
            raise Malformed("complex")
        return complex(float(body[0]), float(body[1]))
    if tag == "$b":
        return _b64(body, budget)
    if tag == "$i":
        if type(body) is not str or len(body) > MAX_INT_DIGITS:
            raise Malformed("int")
        try:
            return int(body, 10)
        except ValueError as exc:
            raise Malformed("int") from exc
    if tag == "$g":
        return _generator(body)
    raise Malformed(f"unknown tag {tag[:20]!r}")


def _spend(budget: list[int], n: int) -> None:
    budget[0] -= n
    if budget[0] < 0:
        raise Malformed("too large")


def _b64(body: Any, budget: list[int]) -> bytes:
    if type(body) is not str:
        raise Malformed("bytes")
    _spend(budget, len(body) // 8)
    try:
        return base64.b64decode(body.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise Malformed("bytes") from exc


def _array(body: Any, budget: list[int]) -> np.ndarray:
    if type(body) is not list or len(body) != 3:
        raise Malformed("array")
    name, shape, data = body
    if type(name) is not str or name not in DTYPES:
        raise Malformed("array dtype")
    if (
        type(shape) is not list
        or len(shape) > 32
        or any(type(n) is not int or n < 0 for n in shape)
    ):
        raise Malformed("array shape")
    size = math.prod(shape)
    _spend(budget, size)
    raw = _b64(data, [MAX_ITEMS])
    dtype = np.dtype(name)
    if len(raw) != size * dtype.itemsize:
        raise Malformed("array data")
    arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True)
    try:
        return arr.reshape(shape)
    except ValueError as exc:  # an empty array with a dimension numpy cannot hold
        raise Malformed("array shape") from exc


PCG64_KEYS = {"bit_generator", "state", "has_uint32", "uinteger"}


def _generator(body: Any) -> np.random.Generator:
    if type(body) is not dict or set(body) != PCG64_KEYS or body["bit_generator"] != "PCG64":
        raise Malformed("random generator")
    state = body["state"]
    if type(state) is not dict or set(state) != {"state", "inc"}:
        raise Malformed("random generator")
    numbers = [state["state"], state["inc"], body["has_uint32"], body["uinteger"]]
    if any(type(v) is not int or not 0 <= v < 2**128 for v in numbers):
        raise Malformed("random generator")
    if body["has_uint32"] not in (0, 1) or body["uinteger"] >= 2**32:
        raise Malformed("random generator")
    gen = np.random.Generator(np.random.PCG64())
    gen.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": state["state"], "inc": state["inc"]},
        "has_uint32": body["has_uint32"],
        "uinteger": body["uinteger"],
    }
    return gen


def put_back(target: Any, new: Any) -> bool:
    """Make ``target`` (an argument the grader passed) hold ``new`` (the same argument as the
    kernel's call left it), in place, keeping every inner object the grader may hold on to.
    Returns whether it could (a change of type or shape cannot be made in place)."""
    if type(target) is np.ndarray:
        if type(new) is np.ndarray and new.shape == target.shape:
            try:
                target[...] = new
            except (TypeError, ValueError):
                return False
            return True
        return False
    if type(target) is dict and type(new) is dict:
        for key in list(target):
            if key not in new:
                del target[key]
        for key, value in new.items():
            if key in target and put_back(target[key], value):
                continue
            target[key] = value
        return True
    if type(target) is list and type(new) is list:
        kept = [t if i < len(new) and put_back(t, new[i]) else None for i, t in enumerate(target)]
        target[:] = [
            kept[i] if i < len(kept) and kept[i] is not None else v for i, v in enumerate(new)
        ]
        return True
    if type(target) is np.random.Generator and type(new) is np.random.Generator:
        target.bit_generator.state = new.bit_generator.state
        return True
    return False
