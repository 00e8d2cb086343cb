"""What of an assignment's support module the student's kernel gets while it is graded.

A support module (``ps3_support.py``) holds two kinds of code: what a notebook's own cells use
(seeded example cases, a table to print) and what grades (the reference answers, the wrong
answers of the usual mistakes, independent re-implementations for finite differences). The
tests run in the grader with the whole module (``autograder/checker.py``). The kernel runs the
student's code, and any function it can reach can be called from a student's answer: a
``two_layer_loss_and_grads`` that returns ``support.network_variant(X, y, params, l2)`` would
hold the right answer without computing it.

So the kernel gets a *view*: the module's ``KERNEL`` tuple names what its cells may use, and the
view holds those definitions and the module-level definitions they refer to, found by reading
the code (names used in their bodies, defaults, decorators, bases, values), nothing else. Any
other name raises :class:`ForbiddenModuleError`, the error the stubs of forbidden modules raise
(``autograder.box.STUB``), so the report says "used the reference implementation". A module
without ``KERNEL`` is a plain helper file and is copied whole.

What ``KERNEL`` names must not compute a graded answer, and neither may what they use: it is
read by a person (the list of what each shipped assignment's view holds is a test,
``tests/test_kernel_view.py``), and the same test calls every reference function of the
assignments through the view.
"""

from __future__ import annotations

import ast
from pathlib import Path

#: the names a view keeps whatever its ``KERNEL`` says (the module's own ``__future__`` imports
#: are kept too, since they change how the rest compiles)
_ALWAYS = ("KERNEL",)

HEADER = '''"""What of {module}.py a notebook's own cells may use while {assignment} is graded.

Made by the grader from the assignment's {module}.py: the names in its KERNEL tuple and what
they need. The tests, and the reference answers they compare with, run in the grader.
"""
'''

FOOTER = '''

class ForbiddenModuleError(ImportError):
    """A name of the support module that runs only in the grader (autograder.findings knows it)."""


def __getattr__(name):
    if name.startswith("__") or name.startswith(("_repr_", "_ipython_")):
        raise AttributeError(name)  # what Python and IPython probe: a plain "not here"
    raise ForbiddenModuleError(
        f"{module}.{{name}} is not available while {assignment} is graded: it belongs to the "
        "tests, which run only in the grader, and your functions must compute their results "
        "without it. What your own cells may use of {module} here: {names}."
    )
'''


class KernelViewError(ValueError):
    """A support module whose ``KERNEL`` tuple cannot be honoured."""


def declared(tree: ast.Module) -> tuple[str, ...] | None:
    """The module's ``KERNEL`` tuple of names, or None when it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "KERNEL" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError as exc:
                raise KernelViewError(
                    "KERNEL must be a literal tuple of names (strings), such as "
                    '("affine_case", "network_case")'
                ) from exc
            if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
                raise KernelViewError(
                    f"KERNEL must be a tuple of names (strings), got {value!r}; for example "
                    '("affine_case", "network_case")'
                )
            return tuple(value)
    return None


def _defined(node: ast.stmt) -> list[str]:
    """The module-level names a top-level statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    names: list[str] = []
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                names += _defined(child)
        for handler in getattr(node, "handlers", []):
            for child in handler.body:
                names += _defined(child)
        return names
    for target in targets:
        names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def _annotations(node: ast.AST) -> list[ast.AST]:
    """The annotations inside a statement (strings under ``from __future__ import annotations``,
    never evaluated, so what they name is not needed)."""
    out: list[ast.AST] = []
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.returns is not None:
            out.append(n.returns)
        elif isinstance(n, ast.arg) and n.annotation is not None:
            out.append(n.annotation)
        elif isinstance(n, ast.AnnAssign):
            out.append(n.annotation)
    return out


def _used(node: ast.stmt, lazy_annotations: bool) -> set[str]:
    """Every name a statement reads (in bodies, defaults, decorators, bases, values)."""
    skip: set[int] = set()
    if lazy_annotations:
        skip = {id(n) for a in _annotations(node) for n in ast.walk(a)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in skip}


def closure(tree: ast.Module, names: tuple[str, ...]) -> tuple[list[ast.stmt], set[str]]:
    """The top-level statements that define ``names`` and what they use, in module order, and
    the module-level names they bind."""
    where: dict[str, list[int]] = {}
    for i, node in enumerate(tree.body):
        for name in _defined(node):
            where.setdefault(name, []).append(i)
    missing = [n for n in names if n not in where]
    if missing:
        raise KernelViewError(
            f"KERNEL names {', '.join(missing)}, which the module does not define at its top "
            "level: remove them from KERNEL or define them"
        )
    lazy = any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    keep: set[int] = set()
    todo = list(names) + list(_ALWAYS)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in where:
            continue
        seen.add(name)
        for i in where[name]:
            if i not in keep:
                keep.add(i)
                todo += sorted(_used(tree.body[i], lazy) - seen)
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            keep.add(i)
    statements = [tree.body[i] for i in sorted(keep)]
    bound = {name for node in statements for name in _defined(node)}
    return statements, bound


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The statement's own source lines, with its decorators and the comments just above it."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "".join(lines[start : node.end_lineno])


def build(source: str, module: str, assignment: str) -> str | None:
    """The source of the kernel's view of a support module, or None when it declares no
    ``KERNEL`` (a plain helper file, given to the kernel whole)."""
    tree = ast.parse(source)
    names = declared(tree)
    if names is None:
        return None
    statements, _bound = closure(tree, names)
    lines = source.splitlines(keepends=True)
    body = "\n\n\n".join(_segment(lines, node).rstrip("\n") for node in statements)
    listed = ", ".join(names) if names else "none"
    return (
        HEADER.format(module=module, assignment=assignment)
        + "\n"
        + body
        + "\n"
        + FOOTER.format(module=module, assignment=assignment, names=listed)
    )


def write(path: Path, target: Path, assignment: str) -> bool:
    """Write the kernel's view of the support module ``path`` to ``target``; False (nothing
    written) when the file is not one (no ``KERNEL``, or not Python)."""
    try:
        source = path.read_text(encoding="utf-8")
        view = build(source, path.stem, assignment)
    except (SyntaxError, UnicodeDecodeError):
        return False
    if view is None:
        return False
    target.write_text(view, encoding="utf-8")
    return True
