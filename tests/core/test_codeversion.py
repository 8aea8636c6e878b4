import os
from pathlib import Path

import pytest

from zerollm import codeversion
from zerollm.codeversion import closure, code_version, file_digest, normalized

TREE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n",
    "pkg/b.py": "import pkg.c\n",
    "pkg/c.py": "X = 1\n",
    "pkg/lazy.py": "def f():\n    import pkg.late\n",
    "pkg/late.py": "",
    "pkg/unreached.py": "Y = 2\n",
    "pkg/sub/__init__.py": "NAME = 1\n",
    "pkg/sub/b.py": "from ..c import X\n",
    "pkg/sub/deep/__init__.py": "",
    "pkg/sub/deep/d.py": "from ... import a\nfrom .. import helper\n",
    "pkg/sub/helper.py": "",
    "pkg/rel/__init__.py": "from . import r\nfrom .. import late\n",
    "pkg/rel/r.py": "",
    "pkg/sub/name.py": "from pkg.sub import NAME\n",
    "pkg/sub/mod.py": "from pkg.sub import b\n",
    "pkg/dyn.py": "import importlib\nm = importlib.import_module('pkg.c')\n",
    "pkg/outside.py": ("import os\nimport json.decoder\nfrom collections import abc\n"
                       "import pkg.nope\nfrom pkg.c import missing\n"),
    "tests/__init__.py": "",
    "tests/t.py": "import os\nfrom pkg import a\n",
}


@pytest.fixture
def root(tmp_path):
    for rel, text in TREE.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def reach(root, *modules):
    return closure(root, modules, package="pkg")


def edit(path: Path, text: str) -> None:
    """Rewrite and move mtime on, so that the (path, mtime_ns, size) memo cannot serve the old digest."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_transitive_imports_and_unreached_modules(root):
    assert reach(root, "pkg.a") == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/c.py"]


def test_import_inside_a_function(root):
    assert "pkg/late.py" in reach(root, "pkg.lazy")


def test_relative_imports_from_package_init_and_several_levels(root):
    assert reach(root, "pkg.rel") == ["pkg/__init__.py", "pkg/late.py", "pkg/rel/__init__.py", "pkg/rel/r.py"]
    assert "pkg/c.py" in reach(root, "pkg.sub.b")
    assert {"pkg/a.py", "pkg/sub/helper.py"} <= set(reach(root, "pkg.sub.deep.d"))


def test_from_package_import_submodule_vs_plain_name(root):
    assert "pkg/sub/b.py" in reach(root, "pkg.sub.mod")
    assert reach(root, "pkg.sub.name") == ["pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/name.py"]


def test_parent_package_inits_are_included(root):
    (root / "pkg/sub/deep/e.py").write_text("")
    (root / "pkg/leaf.py").write_text("import pkg.sub.deep.e\n")
    assert {"pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/deep/__init__.py", "pkg/sub/deep/e.py"} <= set(
        reach(root, "pkg.leaf"))


def test_importlib_import_module_literal(root):
    assert "pkg/c.py" in reach(root, "pkg.dyn")


def test_outside_package_and_missing_modules_ignored(root):
    assert reach(root, "pkg.outside") == ["pkg/__init__.py", "pkg/c.py", "pkg/outside.py"]


def test_start_module_outside_package(root):
    assert reach(root, "tests.t") == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/c.py", "tests/t.py"]


def test_unknown_start_module_raises(root):
    with pytest.raises(ModuleNotFoundError):
        reach(root, "pkg.typo")


def test_syntax_error_names_the_file(root):
    (root / "pkg/c.py").write_text("def (:\n")
    with pytest.raises(SyntaxError) as err:
        reach(root, "pkg.a")
    assert err.value.filename.endswith("c.py")


BASE = '''"""Module doc."""
import os


class K:
    """Class doc."""

    def f(self, x, y=1):
        """Function doc."""
        return os.path.join("a", x) + y


async def g():
    """Only a docstring."""
'''

SAME = [
    BASE.replace("import os\n", "import os  # a comment\n# another\n"),
    BASE.replace("\n\n\nclass", "\n\n\n\n\n\nclass"),
    BASE.replace('os.path.join("a", x)', "os.path.join(\n            'a',\n            x,\n        )"),
    BASE.replace("Module doc.", "Module doc, reworded."),
    BASE.replace("Class doc.", "Another class doc."),
    BASE.replace("Function doc.", "Another function doc."),
    BASE.replace('    """Only a docstring."""', "    pass"),
]
DIFFERENT = [
    BASE.replace("y=1", "y=2"),
    BASE.replace('"a"', '"b"'),
    BASE.replace("def f(self", "def h(self"),
    BASE.replace(") + y", ") - y"),
    BASE.replace("        return", "        x = x.strip()\n        return"),
]


@pytest.mark.parametrize("text", SAME)
def test_formatting_comments_and_docstrings_keep_the_digest(tmp_path, text):
    base, other = tmp_path / "base.py", tmp_path / "other.py"
    base.write_text(BASE)
    other.write_text(text)
    assert text != BASE
    assert file_digest(other) == file_digest(base)


@pytest.mark.parametrize("text", DIFFERENT)
def test_substantive_edits_change_the_digest(tmp_path, text):
    base, other = tmp_path / "base.py", tmp_path / "other.py"
    base.write_text(BASE)
    other.write_text(text)
    assert text != BASE
    assert file_digest(other) != file_digest(base)


def test_normalized_has_no_positions_and_ignores_u_prefix():
    assert normalized("x = u'a'") == normalized("x = 'a'")
    assert "lineno" not in normalized(BASE) and "Module doc" not in normalized(BASE)


def test_code_version_follows_reached_files_only(root):
    version, files = code_version(root, ["pkg.a"], package="pkg")
    assert sorted(files) == reach(root, "pkg.a")
    assert all(len(d) == 16 for d in files.values()) and len(version) == 16

    edit(root / "pkg/unreached.py", "Y = 3\n")
    edit(root / "pkg/c.py", "X = 1  # same\n\n")
    assert code_version(root, ["pkg.a"], package="pkg") == (version, files)

    edit(root / "pkg/c.py", "X = 2\n")
    changed, changed_files = code_version(root, ["pkg.a"], package="pkg")
    assert changed != version and changed_files["pkg/c.py"] != files["pkg/c.py"]


def test_format_is_mixed_into_the_version(root, monkeypatch):
    version, _ = code_version(root, ["pkg.a"], package="pkg")
    monkeypatch.setattr(codeversion, "FORMAT", codeversion.FORMAT + 1)
    assert code_version(root, ["pkg.a"], package="pkg")[0] != version


def test_real_tree_sft_stage():
    repo = Path(__file__).resolve().parents[2]
    files = closure(repo, ["zerollm.sft.stage"])
    assert {"zerollm/sft/stage.py", "zerollm/finetune.py", "zerollm/probe.py"} <= set(files)
    assert "zerollm/runner.py" not in files
