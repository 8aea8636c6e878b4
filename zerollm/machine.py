"""What a run ran on: host, CPU, memory, accelerator and the versions of the stack (for the run report
and for telling two runs' numbers apart)."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata

PACKAGES = ("torch", "transformers", "trl", "peft", "datatrove", "datasketch", "sentencepiece", "lm_eval",
            "llama_cpp_python", "gguf", "mlflow", "prefect")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict:
    """Cheap to call at the start of a run: no torch import."""
    return {"host": socket.gethostname(), "platform": platform.platform(terse=True), "cpu": cpu_model(),
            "cpus": os.cpu_count(), "memory_gb": memory_gb(), "versions": versions()}


def accelerator() -> str | None:
    """The CUDA device a run used, if torch was loaded by it (asked at the end, never importing torch)."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} × {torch.cuda.device_count()}"
    except Exception:  # a broken driver must not fail a finished run
        return None
    return None
