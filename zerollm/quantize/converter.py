"""llama.cpp's own HF → GGUF converter, taken from the sdist of the installed llama-cpp-python.

No wheel ships `convert_hf_to_gguf.py`; the sdist does (`vendor/llama.cpp/`), together with its
`conversion/` package and the matching `gguf-py`. Using the sdist of the very version installed
keeps the converter and the runtime that loads its files in step. `make setup` downloads that sdist
(pip checks it against the index's sha256) and builds llama-cpp-python from the same file; this
module only extracts the three converter parts from it, once, next to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")


class ConverterMissing(RuntimeError):
    pass


def installed_version() -> str:
    from importlib.metadata import version

    return version("llama_cpp_python")


def sdist_dir() -> Path:
    """Where `make setup` keeps the sdist: `$ZEROLLM_SDIST_DIR`, else `<venv>/share/zerollm`."""
    return Path(os.environ.get("ZEROLLM_SDIST_DIR") or Path(sys.prefix) / "share" / "zerollm")


def sdist_path(version: str | None = None) -> Path:
    version = version or installed_version()
    return sdist_dir() / f"llama_cpp_python-{version}.tar.gz"


def fetch_sdist(version: str | None = None) -> Path:
    """`pip download` of the installed version's sdist (pip verifies the index's sha256)."""
    version = version or installed_version()
    dest = sdist_dir()
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    f"llama-cpp-python=={version}", "-d", str(dest)], check=True)
    return sdist_path(version)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def converter_dir(version: str | None = None) -> Path:
    """The extracted converter for the installed llama-cpp-python (extracted on first use)."""
    version = version or installed_version()
    target = sdist_dir() / f"llama.cpp-convert-{version}"
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    archive = sdist_path(version)
    if not archive.is_file():
        raise ConverterMissing(
            f"quantize: llama.cpp's converter comes from the llama-cpp-python {version} sdist, not found at "
            f"{archive}; run `make setup` or `python -m zerollm.quantize.converter fetch`")
    prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(prefix)
                       and m.name[len(prefix):].startswith(CONVERTER_PARTS)]
            if not any(m.name.endswith("convert_hf_to_gguf.py") for m in members):
                raise ConverterMissing(f"quantize: {archive} holds no vendor/llama.cpp/convert_hf_to_gguf.py")
            for m in members:
                dest = tmp / m.name[len(prefix):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(m) as src, open(dest, "wb") as out:  # no links, no absolute paths
                    shutil.copyfileobj(src, out)
        try:
            tmp.rename(target)
        except OSError:  # extracted concurrently by another process
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def convert(model_dir: Path, outfile: Path, outtype: str = "f16", log=None) -> None:
    """Run the converter in a child process (its module globals and logging stay out of ours)."""
    conv = converter_dir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(conv / "gguf-py"), str(conv)]),
           "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, str(conv / "convert_hf_to_gguf.py"), str(model_dir), "--outfile", str(outfile),
           "--outtype", outtype]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not outfile.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"quantize: convert_hf_to_gguf.py failed on {model_dir} (exit {proc.returncode}):\n{tail}")
    if log is not None:
        log.debug("converter output:\n%s", proc.stderr[-4000:])


if __name__ == "__main__":
    if sys.argv[1:] == ["fetch"]:
        print(fetch_sdist())
        print(converter_dir())
    else:
        print("usage: python -m zerollm.quantize.converter fetch", file=sys.stderr)
        sys.exit(2)
