"""The one place zerollm opens llama.cpp (llama-cpp-python): quantizer, model loading, quiet logs.

CPU weight repacking is off by default. On CPUs with AMX (Sapphire Rapids and later, this
project's build machines included) llama.cpp repacks Q8_0/K-quant weights into an AMX buffer and
the first decode segfaults (llama.cpp issue #20824; F16 is not repacked and runs). Llama() offers no
switch for it, so the default model params are patched process-wide, which also covers the models
llama-cpp-python's own server loads. `ZEROLLM_LLAMA_REPACK=1` turns repacking back on.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from zerollm.quantize.config import QUANT_TYPES

_lock = threading.Lock()
_ready = False


def runtime():
    """`llama_cpp`, with repacking off and its C-side logging routed to the `llama-cpp-python` logger."""
    global _ready
    import llama_cpp
    import llama_cpp.llama_cpp as low

    with _lock:
        if not _ready:
            if os.environ.get("ZEROLLM_LLAMA_REPACK") != "1":
                defaults = low.llama_model_default_params

                def no_repack():
                    params = defaults()
                    params.use_extra_bufts = False
                    return params

                low.llama_model_default_params = no_repack
                llama_cpp.llama_model_default_params = no_repack
            logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
            _ready = True
    return llama_cpp


def cpu_threads(n: int = 0) -> int:
    if n:
        return n
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def open_model(path: Path, n_ctx: int = 0, threads: int = 0, logits_all: bool = False, **kw):
    """A GGUF file in llama.cpp; n_ctx 0 = the context the model was trained with."""
    llama_cpp = runtime()
    n = cpu_threads(threads)
    batch = n_ctx or 512
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=batch, n_ubatch=batch, n_threads=n,
                           n_threads_batch=n, logits_all=logits_all, verbose=False, **kw)


def context_length(llm) -> int:
    """Tokens a loaded model may hold. llama.cpp pads its context up (to 256), but llama-cpp-python's
    buffers, and the positions the model was trained on, stop at the requested length."""
    return min(llm.n_ctx(), len(llm.input_ids))


def quantize(src: Path, dst: Path, type_name: str, threads: int = 0) -> str:
    """llama.cpp's quantizer (the library call behind `llama-quantize`), written atomically. Returns
    llama.cpp's log of it (per-tensor types, fallbacks), collected instead of printed."""
    import ctypes

    llama_cpp = runtime()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[type_name]
    params.nthread = cpu_threads(threads)
    tmp = dst.with_name(dst.name + ".part")
    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def collect(level, text, user_data):
        lines.append(text.decode("utf-8", errors="replace"))

    with _lock:
        llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
        try:
            rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
        finally:
            from llama_cpp._logger import llama_log_callback

            llama_cpp.llama_log_set(llama_log_callback, ctypes.c_void_p(0))
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"quantize: llama_model_quantize to {type_name} failed (code {rc}) on {src}:\n"
                           + "".join(lines)[-2000:])
    tmp.replace(dst)
    return "".join(lines)
