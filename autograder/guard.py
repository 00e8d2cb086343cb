"""The guard inside a grading kernel: the tests run on the originals, whatever the answers did.

The autograder starts every grading kernel with ``install()`` (before the notebook's first cell;
see :mod:`autograder.sandbox`), its settings in the environment variable ``AUTOGRADER_GUARD``
(JSON, removed once read). Then:

* **Snapshots.** It imports the assignment's support modules and the ``course`` modules the
  tests use, and records what the tests rely on: every name of ``builtins``, of ``numpy`` (and
  ``numpy.testing``, ``numpy.linalg``), ``math``, ``sys``'s hooks, the ``course`` modules and the
  support modules, the classes those modules define, the code of their functions, and their
  entries in ``sys.modules``.
* **Before each test cell** (a cell whose source is one of the locked test cells of the
  assignment) it puts back whatever an earlier cell replaced, and hides for the length of the
  test the names of the notebook that shadow a builtin or rebind a name a locked cell defined
  (``isinstance = ...``, ``np = ...``). The test therefore runs on the student's functions and
  the originals of everything else: it gets the score that the honest code deserves. What it put
  back is reported, to the instructor and in the student's feedback.
* **After each test cell** it checks the same things again. A change made *while the test ran*
  (by a function of the student that the test called) fails the test cell with an
  ``IntegrityError``, so the test earns nothing, and the change is undone. Then it leaves a mark
  (an output of type :data:`MIME`) that the autograder looks for: a test cell without it ran
  without the guard and earns nothing either.
* **Always**, an audit hook (``sys.addaudithook``, which cannot be removed) refuses, with a
  ``PermissionError`` that says why: opening, listing, changing or deleting the course's
  protected files (sources with the hidden tests, gradebooks, other students' submissions and
  feedback), starting processes (``os.fork``, ``subprocess``, ``os.system``, ``os.exec*``,
  ``posix_spawn``), sending signals, loading C functions with ``ctypes``, and changing the code
  of a protected function. (A protected class changed is put back after the cell.)

What the guard does not stop: code written against the guard itself (it runs in the same
process as the student's code, so a student who studies it can switch it off in ways it cannot
see). The autograder's other layers and ``autograder/SECURITY.md`` say what covers the rest.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import json
import os
import sys
import types
from typing import Any

ENV = "AUTOGRADER_GUARD"
MIME = "application/vnd.backprop-course.guard+json"

#: modules the tests rely on (the support modules of the assignment are added)
PROTECTED = (
    "numpy",
    "numpy.testing",
    "numpy.linalg",
    "numpy.random",
    "math",
    "course",
    "course.graph",
    "course.activations",
    "course.losses",
    "course.mlp",
    "course.optim",
    "course.data",
    "course.train",
    "course.gradcheck",
    "course.checks",
)
SYS_HOOKS = ("setprofile", "getprofile", "settrace", "gettrace", "modules", "audit", "exit")
#: names IPython itself keeps changing in builtins
VOLATILE_BUILTINS = frozenset(
    {"_", "__", "___", "exit", "quit", "get_ipython", "display", "input", "raw_input"}
)
PROCESS_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "subprocess.Popen",
        "pty.spawn",
        "os.startfile",
    }
)
#: files with these endings are never the student's to open while grading (notebooks, among them
#: the one being graded, which holds the hidden tests, and databases such as gradebooks)
PRIVATE_SUFFIXES = (".ipynb", ".db", ".sqlite", ".sqlite3")
#: nor anything in folders with these names (nbgrader's, in any copy of a course)
PRIVATE_FOLDERS = frozenset({"source_assignments", "submitted", "autograded", "exchange"})
SIGNAL_EVENTS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill"})
#: audit events whose arguments name paths, and which of the arguments are paths
PATH_EVENTS = {
    "open": (0,),
    "os.listdir": (0,),
    "os.scandir": (0,),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (0, 1),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.chdir": (0,),
    "shutil.copyfile": (0, 1),
    "shutil.copytree": (0, 1),
    "shutil.move": (0, 1),
    "shutil.rmtree": (0,),
    "glob.glob": (0,),
    "sqlite3.connect": (0,),
}


class IntegrityError(Exception):
    """A test cell's result cannot be trusted: something it relies on changed while it ran."""


def cell_hash(source: str) -> str:
    """The fingerprint of a cell's source, as the autograder and the guard both compute it."""
    return hashlib.sha256(source.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _describe(module: str, name: str) -> str:
    return name if module == "builtins" else f"{module}.{name}"


class Guard:
    """The state of the guard in one kernel (one instance, made by :func:`install`)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.tests = set(settings.get("tests", []))  # cell hashes of the test cells
        self.trusted = set(settings.get("trusted", [])) | self.tests  # all locked code cells
        self.deny = [os.path.realpath(p) for p in settings.get("deny", [])]
        self.allow = [os.path.realpath(p) for p in settings.get("allow", [os.getcwd()])]
        self.support = list(settings.get("support", []))
        self.findings: list[dict[str, str]] = []
        self.checked = 0
        self.in_test = False
        self.current = ""
        self.hidden: dict[str, Any] = {}
        self.bindings: dict[str, Any] = {}  # names the locked cells defined -> their objects
        self._busy = False
        self._before: dict[str, int] = {}
        self.baseline: dict[str, int] = {}
        self.modules: dict[str, types.ModuleType] = {}
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.classes: dict[type, dict[str, Any]] = {}
        self.code: dict[Any, tuple] = {}  # function -> (code, defaults, kwdefaults)

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self) -> None:
        for name in (*PROTECTED, *self.support):
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self.modules[name] = module
        self.snapshots["builtins"] = {
            k: v for k, v in vars(builtins).items() if k not in VOLATILE_BUILTINS
        }
        self.snapshots["sys"] = {k: getattr(sys, k) for k in SYS_HOOKS if hasattr(sys, k)}
        for name, module in self.modules.items():
            # what the tests call (functions, classes, modules), not the modules' data, which
            # may change as they run (counters, caches)
            self.snapshots[name] = {k: v for k, v in vars(module).items() if _tool(v)}
            for value in vars(module).values():
                self._remember(value, name)
        ip = _ipython()
        self.baseline = {k: id(v) for k, v in (ip.user_ns if ip is not None else {}).items()}

    def _remember(self, value: Any, module: str) -> None:
        if isinstance(value, types.FunctionType) and value not in self.code:
            self.code[value] = (value.__code__, value.__defaults__, value.__kwdefaults__)
        elif (
            isinstance(value, type)
            and getattr(value, "__module__", None) == module
            and value not in self.classes
        ):
            self.classes[value] = {k: v for k, v in vars(value).items() if _tool(v)}
            for member in vars(value).values():
                inner = getattr(member, "__func__", member)
                if isinstance(inner, types.FunctionType) and inner not in self.code:
                    self.code[inner] = (inner.__code__, inner.__defaults__, inner.__kwdefaults__)

    def changes(self, restore: bool) -> list[str]:
        """What differs from the snapshots (as "numpy.allclose"); put back when ``restore``."""
        changed: list[str] = []
        targets = [("builtins", builtins), ("sys", sys), *self.modules.items()]
        for name, module in targets:
            current = vars(module)
            for key, original in self.snapshots[name].items():
                if key.startswith("__") and key.endswith("__") and name != "builtins":
                    continue  # a module's own bookkeeping (__warningregistry__, ...)
                if current.get(key, _MISSING) is not original:
                    changed.append(_describe(name, key))
                    if restore:
                        setattr(module, key, original)
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                if restore:
                    sys.modules[name] = module
        for cls, original in self.classes.items():
            current = vars(cls)
            for key, value in original.items():
                if key in ("__dict__", "__weakref__", "__doc__"):
                    continue
                if current.get(key, _MISSING) is not value:
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    if restore:
                        self._busy = True
                        try:
                            setattr(cls, key, value)
                        finally:
                            self._busy = False
        for func, (code, defaults, kwdefaults) in self.code.items():
            if (
                func.__code__ is not code
                or func.__defaults__ is not defaults
                or func.__kwdefaults__ is not kwdefaults
            ):
                changed.append(f"the code of {func.__module__}.{func.__qualname__}")
                if restore:
                    self._busy = True
                    try:
                        func.__code__, func.__defaults__ = code, defaults
                        func.__kwdefaults__ = kwdefaults
                    finally:
                        self._busy = False
        return changed

    # -- the notebook's own names ---------------------------------------------------------------

    def shadowing(self, ns: dict[str, Any]) -> list[tuple[str, str]]:
        """Names of the notebook that hide a builtin or rebind a name of a locked cell."""
        found = []
        originals = self.snapshots["builtins"]
        for key in list(ns):
            if key.startswith("_"):
                continue
            if self.baseline.get(key) == id(ns[key]):
                continue  # there before any cell ran (IPython's own)
            if key in originals and ns[key] is not originals[key]:
                found.append((key, "builtin"))
            elif key in self.bindings and ns[key] is not self.bindings[key]:
                found.append((key, "locked"))
        for key, value in self.bindings.items():
            if key not in ns and not key.startswith("_"):
                found.append((key, "deleted"))
                ns[key] = value
        return found

    def record_bindings(self, ns: dict[str, Any], before: dict[str, int]) -> None:
        """After a locked cell: the modules, functions and classes it bound are the tests'."""
        for key, value in ns.items():
            if key.startswith("_") or before.get(key) == id(value):
                continue
            if isinstance(value, types.ModuleType | types.FunctionType | type):
                self.bindings[key] = value

    # -- findings -------------------------------------------------------------------------------

    def report(self, kind: str, message: str, where: str = "") -> None:
        entry = {"kind": kind, "where": where or self.current, "message": message}
        if entry not in self.findings:
            self.findings.append(entry)

    # -- the audit hook -------------------------------------------------------------------------

    def protected(self, path: Any) -> str | None:
        """The protected path ``path`` falls in, if any (``None`` for a file descriptor...)."""
        if isinstance(path, int) or path is None:
            return None
        try:
            text = os.fsdecode(path)
        except TypeError:
            return None
        if text in ("", ":memory:") or text.startswith("file:"):
            return None
        real = os.path.realpath(text)
        if real.endswith(PRIVATE_SUFFIXES):  # even the notebook being graded: it holds the
            return real  # hidden tests while it runs
        for allowed in self.allow:
            if real == allowed or real.startswith(allowed + os.sep):
                return None
        for denied in self.deny:
            if real == denied or real.startswith(denied + os.sep):
                return real
        # wherever else they are (a copy of the course, a clone of its repository): the folders
        # nbgrader keeps sources and submissions in
        if not PRIVATE_FOLDERS.isdisjoint(real.split(os.sep)):
            return real
        return None

    def audit(self, event: str, args: tuple) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._audit(event, args)
        finally:
            self._busy = False

    def _audit(self, event: str, args: tuple) -> None:
        if event in PATH_EVENTS:
            for i in PATH_EVENTS[event]:
                if i < len(args) and (hit := self.protected(args[i])) is not None:
                    self.report("file access", f"tried to reach {hit} ({event}); refused")
                    raise PermissionError(
                        f"The autograder does not let submissions reach the course's files "
                        f"({hit}). Your code can only use the files next to your notebook."
                    )
        elif event in PROCESS_EVENTS:
            self.report("processes", f"tried to start a process ({event}); refused")
            raise PermissionError(
                f"The autograder does not let submissions start processes ({event}). "
                "Compute the answer in your own Python code."
            )
        elif event in SIGNAL_EVENTS:
            self.report("processes", f"tried to send a signal ({event}); refused")
            raise PermissionError(
                f"The autograder does not let submissions send signals ({event})."
            )
        elif event in ("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle"):
            self.report("suspicious", f"tried to load C code with ctypes ({event}); refused")
            raise PermissionError(
                f"The autograder does not let submissions load C functions ({event})."
            )
        elif event in ("object.__setattr__", "object.__delattr__") and args:
            target = args[0]
            protected_function = isinstance(target, types.FunctionType) and target in self.code
            if protected_function or (isinstance(target, type) and target in self.classes):
                what = getattr(target, "__qualname__", repr(target))
                where = f"{getattr(target, '__module__', '?')}.{what}"
                self.report("monkeypatch", f"tried to change {where}.{args[1]}; refused")
                raise PermissionError(
                    f"The autograder does not let submissions change {where}: the tests rely on "
                    "it. Write your own function instead."
                )

    # -- the IPython events ---------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        raw = getattr(info, "raw_cell", "") or ""
        digest = cell_hash(raw)
        self.in_test = digest in self.tests
        self.current = digest[:12]
        ip = _ipython()
        ns = ip.user_ns if ip is not None else {}
        self._before = {k: id(v) for k, v in ns.items()}
        if not self.in_test:
            return
        self.checked += 1
        changed = self.changes(restore=True)
        if changed:
            self.report(
                "monkeypatch",
                f"{_names(changed)} had been replaced by an earlier cell; the originals were "
                "put back for the tests",
            )
        for key, why in self.shadowing(ns):
            if why == "deleted":
                self.report("monkeypatch", f"the name {key} of a locked cell was deleted; put back")
                continue
            self.hidden[key] = ns.pop(key)
            if why == "builtin":
                self.report(
                    "monkeypatch",
                    f"the notebook redefined the builtin {key}; the tests used Python's own",
                )
            else:
                ns[key] = self.bindings[key]
                self.report(
                    "monkeypatch",
                    f"the name {key} of a locked cell was rebound; the tests used the original",
                )

    def post_run_cell(self, result: Any) -> None:
        ip = _ipython()
        ns = ip.user_ns if ip is not None else {}
        raw = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        trusted = cell_hash(raw) in self.trusted
        if trusted:
            self.record_bindings(ns, self._before)
        if not self.in_test:
            # undone at once: a replaced builtin breaks the kernel itself (its replies use them)
            changed = self.changes(restore=True)
            if changed:
                self.report(
                    "monkeypatch",
                    f"this cell replaced {_names(changed)}; the originals were put back",
                )
            self._publish(ip, test=False, mark=trusted)
            return
        changed = self.changes(restore=True)
        for key, value in self.hidden.items():  # the student's own names come back
            ns[key] = value
        self.hidden.clear()
        if changed:
            names = _names(changed)
            self.report(
                "monkeypatch",
                f"{names} changed while this test ran; the test earns nothing",
            )
            if ip is not None:
                err = IntegrityError(
                    f"While this test ran, your code changed what the tests rely on ({names}). "
                    "The originals were put back, and this test earns no points."
                )
                ip.showtraceback((IntegrityError, err, None))
        self._publish(ip, test=True, mark=True)
        self.in_test = False

    def _publish(self, ip: Any, test: bool, mark: bool) -> None:
        """The findings since the last cell, and after a locked cell the guard's mark."""
        findings, self.findings = _condensed(self.findings), []
        if ip is None or (not findings and not mark):
            return
        data: dict[str, Any] = {
            MIME: {"guard": "on", "test": test, "checked": self.checked, "findings": findings}
        }
        if findings:
            data["text/plain"] = (
                "\n".join(
                    f"[autograder] {f['message']}" for f in findings if f["kind"] != "suspicious"
                )
                or "[autograder] noted for the instructor"
            )
        try:
            from IPython.display import publish_display_data

            publish_display_data(data)
        except Exception:  # never let the guard's output break a cell
            pass


def _condensed(findings: list[dict[str, str]]) -> list[dict[str, str]]:
    """One finding for all the files a cell tried to reach (a scan can try hundreds)."""
    files = [f for f in findings if f["kind"] == "file access"]
    if len(files) <= 2:
        return findings
    paths = [f["message"].split("tried to reach ", 1)[-1].split(" (")[0] for f in files]
    first = ", ".join(paths[:3])
    merged = {
        "kind": "file access",
        "where": files[0]["where"],
        "message": f"tried to reach {len(files)} of the course's files and folders "
        f"(first {first}); all refused",
    }
    return [f for f in findings if f["kind"] != "file access"] + [merged]


def _names(changed: list[str], most: int = 6) -> str:
    """``a, b and c`` (the first ``most`` names, then how many more)."""
    names = list(dict.fromkeys(changed))
    if len(names) > most:
        names = [*names[:most], f"{len(names) - most} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _tool(value: Any) -> bool:
    """Something the tests call or look up: a function, class, module or descriptor."""
    return callable(value) or isinstance(
        value, types.ModuleType | staticmethod | classmethod | property
    )


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
_GUARD: Guard | None = None


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def settings_from_env() -> dict[str, Any]:
    text = os.environ.pop(ENV, None)
    return json.loads(text) if text else {}


def install(settings: dict[str, Any] | None = None) -> Guard:
    """Start the guard in this kernel (once); ``settings`` default to ``$AUTOGRADER_GUARD``.

    Settings: ``tests`` and ``trusted`` (cell hashes, see :func:`cell_hash`), ``deny`` and
    ``allow`` (paths), ``support`` (module names imported and protected).
    """
    global _GUARD
    if _GUARD is not None:
        return _GUARD
    guard = Guard(settings if settings is not None else settings_from_env())
    guard.snapshot()
    ip = _ipython()
    if ip is not None:
        ip.events.register("pre_run_cell", guard.pre_run_cell)
        ip.events.register("post_run_cell", guard.post_run_cell)
    sys.addaudithook(guard.audit)
    _GUARD = guard
    return guard
