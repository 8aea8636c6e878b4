"""What a run ran on: host, CPU, memory, accelerator and the versions of the stack (for the run report
and for telling two runs' numbers apart)."""

from __future__ import annotations

import logging
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


BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 flags for native bf16 matmuls (ARM: "bf16")
log = logging.getLogger("zerollm.machine")


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_bf16() -> bool:
    """Whether this CPU computes bf16 matmuls natively rather than emulating them."""
    flags = cpu_flags()
    return any(f in flags for f in (*BF16_CPU_FLAGS, "bf16"))


def use_bf16(dtype: str, cuda: bool) -> bool:
    """Whether a training stage autocasts to bf16: `auto` on CUDA; `bf16` on a CUDA device or a CPU
    that computes bf16 natively. Elsewhere torch emulates bf16 matmuls, measured ~30x slower than fp32
    on a 2-core EPYC without avx512_bf16: fp32 then, with one warning line."""
    if cuda:
        return dtype in ("auto", "bf16")
    if dtype != "bf16":
        return False
    if cpu_bf16():
        return True
    log.warning("dtype bf16: this CPU has no native bf16 (none of %s): training in fp32 instead",
                ", ".join(BF16_CPU_FLAGS))
    return False


def accelerator() -> str | None:
    """The CUDA device a run used, if torch was loaded by it (asked at the end, never importing torch)."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} × {torch.cuda.device_count()}"
    except Exception:  # a broken driver must not fail a finished run
        return None
    return None
