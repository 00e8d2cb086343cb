"""The student's side of grading: answer the grader's requests with plain data.

During grading the grader never runs a test in the student's kernel. It asks the kernel for
values and calls the kernel's functions through this small server instead, which the grader
sends to the kernel as source text when the kernel starts (it is not imported there), and which
then lives in the kernel's namespace as ``__autograder__``:

* ``lookup(name)``: what a name of the notebook holds: a function (the grader gets a handle to
  call it), a value (as plain data), or something else (its type's name);
* ``call(handle, args, kwargs)``: call that function with plain-data arguments, and answer with
  its result, the arguments the call changed (functions that update their arguments in place
  are graded on that), the warnings it raised and the exception it raised, if any.

The requests come through a Jupyter comm (target ``autograder``), not as cells: nothing of
them enters the kernel's history.

Plain data is what :func:`encode` writes: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``; lists, tuples and dicts of those; ``numpy.ndarray`` and numpy scalars of a
numeric or boolean dtype; and ``numpy.random.Generator`` on PCG64 (as its state). Types are
checked exactly (a subclass of ``float`` or of ``ndarray`` is not plain), so nothing of the
student's code runs while a result is written. Everything the kernel answers is untrusted: the
grader decodes it with :mod:`autograder.wire`, which accepts only this format.

The grader also uses :func:`encode` for the arguments it sends.
"""

import base64
import hashlib
import json
import sys
import traceback
import warnings

import numpy

DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 "
    "complex64 complex128".split()
)
MAX_DEPTH = 32
MAX_ITEMS = 10_000_000  # array elements and container items in one answer
COMM_TARGET = "autograder"  # the comm the grader asks through
MAX_ANSWER = 4 * 1024 * 1024  # characters of one answer (the grader accepts no larger message)


class Unsupported(TypeError):
    """A value that is not plain data; ``where`` says where it sits in the answer."""

    def __init__(self, where, type_name):
        super().__init__(f"{where} is a {type_name}")
        self.where = where
        self.type_name = type_name


def _array(x, where):
    if x.dtype.name not in DTYPES:
        raise Unsupported(where, f"numpy array of {x.dtype}")
    data = numpy.ascontiguousarray(x, dtype=x.dtype.newbyteorder("<"))
    return {"$a": [x.dtype.name, list(x.shape), base64.b64encode(data.tobytes()).decode()]}


def encode(x, where="the result", depth=0, budget=None):
    """``x`` as JSON-ready plain data (see the module doc), or :class:`Unsupported`."""
    if budget is None:
        budget = [MAX_ITEMS]
    if depth > MAX_DEPTH:
        raise Unsupported(where, "structure nested too deeply")
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        return x if -(2**63) <= x < 2**64 else {"$i": str(x)}
    if t is float:
        return x
    if t is complex:
        return {"$c": [x.real, x.imag]}
    if t is bytes:
        return {"$b": base64.b64encode(x).decode()}
    if t is numpy.ndarray:
        budget[0] -= x.size
        if budget[0] < 0:
            raise Unsupported(where, "array too large to grade")
        return _array(x, where)
    if t in _SCALARS:
        return {"$s": _array(numpy.asarray(x), where)["$a"]}
    if t is list or t is tuple:
        budget[0] -= len(x)
        if budget[0] < 0:
            raise Unsupported(where, "list too long to grade")
        items = [encode(v, f"{where}[{i}]", depth + 1, budget) for i, v in enumerate(x)]
        return items if t is list else {"$t": items}
    if t is dict:
        budget[0] -= len(x)
        if budget[0] < 0:
            raise Unsupported(where, "dict too large to grade")
        pairs = []
        for k, v in x.items():
            kt = type(k)
            if not (k is None or kt in (bool, int, float, str) or kt is tuple):
                raise Unsupported(f"a key of {where}", kt.__name__)
            pairs.append(
                [
                    encode(k, where, depth + 1, budget),
                    encode(v, f"{where}[{k!r}]", depth + 1, budget),
                ]
            )
        return {"$d": pairs}
    if t is numpy.random.Generator and type(x.bit_generator) is numpy.random.PCG64:
        return {"$g": x.bit_generator.state}
    raise Unsupported(where, getattr(t, "__name__", "object"))


_SCALARS = frozenset(numpy.dtype(name).type for name in DTYPES)


def decode(x):
    """The kernel's reading of the grader's arguments (the grader is trusted here)."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    ((tag, value),) = x.items()
    if tag == "$a" or tag == "$s":
        name, shape, data = value
        arr = numpy.frombuffer(base64.b64decode(data), dtype=numpy.dtype(name).newbyteorder("<"))
        arr = arr.astype(numpy.dtype(name)).reshape(shape)
        return arr if tag == "$a" else arr[()]
    if tag == "$t":
        return tuple(decode(v) for v in value)
    if tag == "$d":
        return {_key(decode(k)): decode(v) for k, v in value}
    if tag == "$c":
        return complex(*value)
    if tag == "$b":
        return base64.b64decode(value)
    if tag == "$i":
        return int(value)
    if tag == "$g":
        gen = numpy.random.Generator(numpy.random.PCG64())
        gen.bit_generator.state = value
        return gen
    raise ValueError(f"unknown tag {tag}")


def _key(k):
    return tuple(_key(v) for v in k) if isinstance(k, list) else k


MUTABLE = (list, dict, numpy.ndarray, numpy.random.Generator)


class Server:
    """Answers the grader's requests in the kernel whose namespace is ``namespace``."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.handles = {}

    def handle(self, text):
        try:
            request = json.loads(text)
            op = request["op"]
            if op == "lookup":
                answer = self.lookup(request["name"])
            elif op == "call":
                answer = self.call(request)
            elif op == "ping":
                answer = {"pong": True}
            else:
                answer = {"fault": f"unknown request {op!r}"}
        except BaseException as exc:  # noqa: BLE001 (the grader must get an answer)
            answer = {"fault": f"{type(exc).__name__}: {exc}"[:2000]}
        try:
            text = json.dumps(answer, allow_nan=True)
        except BaseException as exc:  # noqa: BLE001
            return json.dumps({"fault": f"could not write the answer: {exc}"[:2000]})
        if len(text) > MAX_ANSWER:  # larger would not reach the grader: say so instead
            answer.pop("result", None)
            answer["after"] = {}
            answer["unsupported"] = ["the result", "result too large to grade"]
            text = json.dumps(answer, allow_nan=True)[:MAX_ANSWER]
        return text

    def lookup(self, name):
        missing = object()
        obj = self.namespace.get(name, missing)
        if obj is missing:
            return {"kind": "missing"}
        try:
            return {"kind": "value", "value": encode(obj, name)}
        except Unsupported:
            pass
        if callable(obj):
            handle = len(self.handles) + 1
            self.handles[handle] = obj
            label = getattr(obj, "__name__", name)
            return {
                "kind": "function",
                "handle": handle,
                "name": label if type(label) is str and label.isidentifier() else name,
            }
        return {"kind": "object", "type": type(obj).__name__}

    def call(self, request):
        func = self.handles[request["handle"]]
        args = decode(request["args"])
        kwargs = {str(k): decode(v) for k, v in request["kwargs"].items()}
        answer = {}
        before = {
            key: _fingerprint(value)
            for key, value in [*((str(i), a) for i, a in enumerate(args)), *kwargs.items()]
            if isinstance(value, MUTABLE)
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with numpy.errstate(**request.get("errstate", {})):
                try:
                    result = func(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 (reported to the grader)
                    answer["raised"] = _raised(exc)
                    result = None
        answer["warnings"] = [[w.category.__name__, str(w.message)[:2000]] for w in caught[:20]]
        if "raised" not in answer:
            try:
                answer["result"] = encode(result, "the result")
            except Unsupported as exc:
                answer["unsupported"] = [exc.where, exc.type_name]
        after = {}  # the arguments the call changed (only those travel back)
        for key, value in [*((str(i), a) for i, a in enumerate(args)), *kwargs.items()]:
            if key in before and _fingerprint(value) != before[key]:
                try:
                    after[key] = encode(value, f"argument {key}")
                except Unsupported:
                    pass
        answer["after"] = after
        return answer


def _fingerprint(x, h=None, depth=0):
    """A digest of a mutable argument's content, to tell whether a call changed it."""
    top = h is None
    if top:
        h = hashlib.blake2b(digest_size=16)
    t = type(x)
    h.update(t.__name__.encode())
    if depth > MAX_DEPTH:
        pass
    elif t is numpy.ndarray:
        h.update(f"{x.dtype.str}{x.shape}".encode())
        h.update(numpy.ascontiguousarray(x).tobytes() if x.dtype != object else b"")
    elif t is dict:
        for k, v in x.items():
            h.update(repr(k).encode()[:200])
            _fingerprint(v, h, depth + 1)
    elif t is list or t is tuple:
        h.update(str(len(x)).encode())
        for v in x:
            _fingerprint(v, h, depth + 1)
    elif t is numpy.random.Generator:
        h.update(repr(x.bit_generator.state).encode())
    elif t in (int, float, complex, str, bytes, bool) or x is None or t in _SCALARS:
        h.update(repr(x).encode()[:10000])
    else:
        h.update(str(id(x)).encode())
    return h.digest() if top else None


def _cell_label(filename):
    """IPython's name of the cell a frame's code came from (``Cell In[3]``), or None."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    name = getattr(getattr(shell, "compile", None), "format_code_name", None)
    try:
        label = name(filename) if name is not None else None
    except Exception:  # noqa: BLE001 (an IPython without the mapping)
        label = None
    return f"{label[0]} {label[1]}" if label else None


def _frames(tb):
    """The frames of a traceback as Python prints them, each cell's named as IPython names it
    (``Cell In[3], line 2, in f``), without the exception's own line (the grader adds it)."""
    out = []
    for frame in traceback.extract_tb(tb):
        text = traceback.format_list([frame])[0]
        label = _cell_label(frame.filename)
        if label is not None:
            text = text.replace(f'File "{frame.filename}"', label, 1).lstrip()
        out.append(text)
    return "Traceback (most recent call last):\n" + "".join(out) if out else ""


def _raised(exc):
    tb = exc.__traceback__
    innermost = None
    while tb is not None:
        innermost = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    text = _frames(exc.__traceback__.tb_next if exc.__traceback__ else None)
    if len(text) > 6000:
        text = text[:2000] + "\n...\n" + text[-3000:]
    message = str(exc.args[0]) if type(exc) is KeyError and exc.args else str(exc)
    return {
        "type": type(exc).__name__,
        "message": message[:4000],
        "innermost": innermost,
        "traceback": text,
    }


def install(namespace=None):
    """Make ``__autograder__`` in the kernel's namespace (the grader calls this at start)."""
    if namespace is None:
        namespace = sys.modules["__main__"].__dict__
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        if shell is not None:
            namespace = shell.user_ns
    server = Server(namespace)
    namespace["__autograder__"] = server
    try:  # the grader asks through a comm (ipykernel's comms: no cell, no history)
        from comm import get_comm_manager
    except ImportError:
        return

    def target(comm, open_msg):
        @comm.on_msg
        def answer(msg):
            data = msg.get("content", {}).get("data", {})
            text = server.handle(data.get("request", "") if isinstance(data, dict) else "")
            comm.send({"seq": data.get("seq") if isinstance(data, dict) else None, "answer": text})

    get_comm_manager().register_target(COMM_TARGET, target)
