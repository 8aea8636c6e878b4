"""A real technical-documentation corpus made offline: the reStructuredText docstrings of the installed
numpy (prose, parameter tables, `>>>` examples, code), one JSON line per documented object."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path


def write_corpus(path: Path, package: str = "numpy", min_chars: int = 400, max_modules: int = 300) -> int:
    root = importlib.import_module(package)
    names = [package] + sorted(m.name for m in pkgutil.walk_packages(root.__path__, package + ".")
                               if "test" not in m.name and "._" not in m.name)[:max_modules]
    seen: set[str] = set()
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for name in names:
            try:
                module = importlib.import_module(name)
            except Exception:
                continue
            for attr in sorted(a for a in dir(module) if not a.startswith("_")):
                obj = getattr(module, attr, None)
                if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                    continue
                doc = inspect.getdoc(obj)
                if doc and len(doc) >= min_chars and doc not in seen:
                    seen.add(doc)
                    f.write(json.dumps({"id": f"{name}.{attr}", "text": doc}) + "\n")
                    n += 1
    return n
