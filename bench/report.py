"""What every benchmark's report shares: the machine line and its own section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    """The CPU, its cores and its widest vector/matrix instructions: on 2 cores, whether bf16 is native
    (AVX-512 bf16, AMX) moves training time by ~3x, so two timings mean little without it."""
    cpu, flags = "unknown CPU", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and cpu == "unknown CPU":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = next((name for flag, name in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 bf16"),
                                         ("avx512f", "AVX-512, no bf16"), ("avx2", "AVX2, no bf16"))
                if flag in flags), "")
    return f"{cpu}{f' ({isa})' if isa else ''}, {os.cpu_count()} cores, Python {platform.python_version()}"


def put_section(tag: str, body: str) -> None:
    """Replace `<!-- tag -->…<!-- /tag -->` in docs/benchmarks.md with `body` (which carries both
    markers), or append it: a rerun updates its own section and leaves the others alone."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {re.escape(tag)} -->.*?<!-- /{re.escape(tag)} -->", re.S)
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body + "\n"
    DOC.write_text(text)
