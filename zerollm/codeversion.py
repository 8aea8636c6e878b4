"""Code version: a digest of the code a stage runs, for its cache key.

A hand-kept list of the code paths each stage depends on drifts as soon as someone adds an import, and
then a changed helper silently reuses a stale result. So the version is derived from the code itself: every
project module the stage's module reaches through imports (lazy ones inside functions too), each reduced to
its AST without docstrings, so that a comment or a reflow never reruns a 400 s training stage while any
real edit does.

Works on files only and never imports what it reads, so it can be pointed at a copy of the tree.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

FORMAT = 1  # bump when the scheme changes, so that every cached version is invalidated once

_DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_digests: dict[tuple[str, int, int], str] = {}


def _in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _module_file(root: Path, name: str) -> Path | None:
    """The file Python would run for `name`, package before module as the import system prefers."""
    base = root.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_name(base.name + ".py")):
        if candidate.is_file():
            return candidate
    return None


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _relative_base(importer: str, is_package: bool, level: int) -> str | None:
    """The package a `from .. import` counts from; a package's __init__ is its own package."""
    parts = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        return None  # climbs above the top-level package: the import itself would fail
    return ".".join(parts[: len(parts) - (level - 1)])


def _imported_names(tree: ast.Module, importer: str, is_package: bool) -> Iterator[str]:
    """Every module name the file may import, wherever the import sits (functions, TYPE_CHECKING, ...).

    For `from a import b` both `a` and `a.b` are named: `b` may be a submodule; a name that is just an
    attribute resolves to no file and drops out later.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _relative_base(importer, is_package, node.level)
                if base is None:
                    continue
                base = ".".join(p for p in (base, node.module) if p)
            else:
                base = node.module or ""
            if not base:
                continue
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                yield arg.value


def _is_import_module(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module" and isinstance(func.value, ast.Name) and func.value.id == "importlib"
    return isinstance(func, ast.Name) and func.id == "import_module"


def closure(root: Path, modules: Iterable[str], package: str = "zerollm") -> list[str]:
    """The project files a module runs, found by following imports instead of trusting a hand-kept list.

    Importing `pkg.a.b` also runs `pkg/__init__.py` and `pkg/a/__init__.py`, so those count too. Start
    modules may lie outside `package` (a test module); then only their imports into `package` are followed.
    A start module with no file raises ModuleNotFoundError: an empty closure would be a constant version.
    """
    root = Path(root)
    found: dict[Path, tuple[str, bool]] = {}  # file -> (module name, is a package)
    queue: list[Path] = []

    def add(name: str, path: Path) -> None:
        if path not in found:
            found[path] = (name, path.name == "__init__.py")
            queue.append(path)

    def visit(name: str) -> None:
        if not _in_package(name, package):
            return
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # parents first: they run before the module
            prefix = ".".join(parts[:i])
            path = _module_file(root, prefix)
            if path is not None:
                add(prefix, path)

    for name in modules:
        path = _module_file(root, name)
        if path is None:
            raise ModuleNotFoundError(f"codeversion: no file for start module {name!r} under {root}", name=name)
        visit(name)
        add(name, path)
    while queue:
        path = queue.pop()
        name, is_package = found[path]
        for imported in _imported_names(_parse(path), name, is_package):
            visit(imported)
    return sorted(p.relative_to(root).as_posix() for p in found)


def _body(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """The body without its docstring; an emptied body reads as `pass`, like one that only ever had `pass`."""
    first = stmts[0] if stmts else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return stmts[1:] or [ast.Pass()]
    return stmts


def _canon(value: object, out: list[str]) -> None:
    """Hand-rolled dump: ast.dump's text gains fields between Python versions; None/[] fields are skipped."""
    if isinstance(value, ast.AST):
        out.append(type(value).__name__ + "(")
        for field in value._fields:
            if field == "kind" and isinstance(value, ast.Constant):
                continue  # 'u' for u"..." strings: spelling, not meaning
            item = getattr(value, field, None)
            if item is None or (isinstance(item, list) and not item):
                continue
            if field == "body" and isinstance(value, _DOC_OWNERS):
                item = _body(item)
            out.append(field + "=")
            _canon(item, out)
            out.append(",")
        out.append(")")
    elif isinstance(value, list):
        out.append("[")
        for item in value:
            _canon(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(repr(value))


def _normalized_tree(tree: ast.AST) -> str:
    out: list[str] = []
    _canon(tree, out)
    return "".join(out)


def normalized(source: str) -> str:
    """Source as canonical AST text: comments, layout, quote style and docstrings vanish, all else stays."""
    return _normalized_tree(ast.parse(source))


def file_digest(path: Path) -> str:
    """sha256 of the file's normalized source, memoized on (path, mtime_ns, size) so reruns skip parsing."""
    path = Path(path)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _digests:
        text = _normalized_tree(_parse(path))
        _digests[key] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _digests[key]


def code_version(root: Path, modules: Iterable[str], package: str = "zerollm") -> tuple[str, dict[str, str]]:
    """(version, {file: digest}) for a cache key; the per-file map says which file changed a version."""
    root = Path(root)
    files = {rel: file_digest(root / rel)[:16] for rel in closure(root, modules, package)}
    payload = json.dumps({"format": FORMAT, "files": files}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16], files
