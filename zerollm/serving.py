"""`zerollm chat` and `zerollm serve`: a GGUF file of a run, in a terminal or behind an
OpenAI-compatible HTTP server (llama-cpp-python's own), both on llama.cpp with the model's own chat
template (carried in the GGUF).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from zerollm import llamacpp
from zerollm.probe import END_OF_TURN


class ModelNotFound(ValueError):
    pass


def _serve_file(quantize_dir: Path) -> Path:
    """The served GGUF of a quantize stage: `summary.serve_file` is relative to its dir (an absolute
    value from before the workdir moved is read the same way, from the stage key on)."""
    try:
        manifest = json.loads((quantize_dir / "MANIFEST.json").read_text(encoding="utf-8"))
        name = Path(manifest["summary"]["serve_file"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFound(f"{quantize_dir}: no served GGUF in its MANIFEST.json ({exc})") from exc
    if name.is_absolute() and quantize_dir.name in name.parts:
        name = Path(*name.parts[name.parts.index(quantize_dir.name) + 1:])
    elif name.is_absolute():
        name = Path("gguf", name.name)
    return quantize_dir / name


def latest_gguf(workdir: Path) -> Path:
    """The served GGUF of the newest finished quantize stage: the latest run's, else the newest on disk."""
    from zerollm.records import latest_run, stage_path

    rec = latest_run(workdir)
    for s in (rec or {}).get("stages", []):
        if s["stage"] == "quantize" and (stage_path(workdir, s["dir"]) / "MANIFEST.json").is_file():
            return _serve_file(stage_path(workdir, s["dir"]))
    done = sorted(Path(workdir).glob("stages/quantize/*/MANIFEST.json"), key=lambda p: p.stat().st_mtime)
    if not done:
        raise ModelNotFound(f"no quantized model in {workdir}: run `zerollm run --workdir {workdir}` first")
    return _serve_file(done[-1].parent)


def _local_gguf(workdir: Path, tag: str) -> Path | None:
    """The registry's `gguf_path` tag as a file in this workdir. A path elsewhere (an absolute tag from
    before the workdir moved, or the original of a copy) is never used itself, only the same stage file
    here."""
    from zerollm.evaluate.registry import workdir_relative

    if not tag:
        return None
    path = Path(workdir) / workdir_relative(tag, Path(workdir).resolve())
    inside = Path(os.path.abspath(path)).is_relative_to(os.path.abspath(workdir))
    return path if inside and path.is_file() else None


def champion_gguf(workdir: Path, alias: str = "champion") -> Path:
    """The served GGUF of the registry version `alias` points at (registry and tracking settings from
    the latest run's config): the file in this workdir, else downloaded from the version's artifacts."""
    from zerollm.pipeline_config import PipelineConfig
    from zerollm.records import latest_run
    from zerollm.tracking import Tracker

    rec = latest_run(workdir)
    cfg = PipelineConfig.model_validate(rec["config"]) if rec else PipelineConfig()
    tracker = Tracker(cfg.tracking, workdir)
    name = cfg.evaluate.registry.name
    mv = tracker.alias_version(name, alias) if cfg.tracking.enabled else None
    if mv is None:
        raise ModelNotFound(f"no version of registered model {name!r} has alias {alias!r} (tracking {tracker.uri})")
    tag = mv.tags.get("gguf_path", "")
    local = _local_gguf(workdir, tag)
    if local is not None:
        return local
    import mlflow.artifacts

    src = f"{mv.source}/gguf/{Path(tag).name}"
    dest = Path(workdir) / "registry" / f"{name}-v{mv.version}"
    try:
        got = mlflow.artifacts.download_artifacts(artifact_uri=src, dst_path=str(dest), tracking_uri=tracker.uri)
    except Exception as exc:  # MlflowException, OSError: the artifact is gone too
        raise ModelNotFound(f"{name} v{mv.version}: {tag!r} is not in {workdir} and {src} cannot be "
                            f"downloaded ({type(exc).__name__})") from exc
    return Path(got)


def resolve(spec: str, workdir: Path) -> Path:
    """latest | champion | a .gguf file | a directory holding one (a quantize stage or a release)."""
    if spec == "latest":
        return latest_gguf(workdir)
    if spec == "champion":
        return champion_gguf(workdir)
    p = Path(spec)
    if p.is_file():
        return p
    if p.is_dir():
        if (p / "MANIFEST.json").is_file() and (p / "gguf").is_dir():
            return _serve_file(p)
        found = sorted(p.glob("*.gguf")) or sorted(p.glob("gguf/*.gguf"))
        preferred = [f for f in found if "Q8_0" in f.name] or found
        if preferred:
            return preferred[0]
    raise ModelNotFound(f"--model {spec!r}: not latest, champion, a .gguf file or a directory with one")


def chat_loop(path: Path, stdin: TextIO, stdout: TextIO, max_tokens: int = 0, temperature: float = 0.0,
              threads: int = 0, system: str = "") -> int:
    """Read a line, stream the answer. `/reset` forgets the conversation, `/quit` (or end of input)
    ends it. The conversation is kept inside the context by zerollm.conversation's rule (the chat
    page's too), and a line says when earlier turns were left out. Returns turns answered."""
    from zerollm.conversation import ChatTemplate, fit

    llm = llamacpp.open_model(path, threads=threads)
    n_ctx = llamacpp.context_length(llm)
    max_tokens = max_tokens or max(16, n_ctx // 2)
    template = ChatTemplate(llm)
    interactive = stdin.isatty() and stdin is sys.stdin
    if interactive:
        import readline  # noqa: F401  (arrow keys and history for input())
    history: list[dict] = [{"role": "system", "content": system}] if system else []
    dropped = 0
    turns = 0
    if interactive:
        stdout.write(f"zerollm chat · {path.name} · context {n_ctx} tokens · /reset, /quit\n")
    try:
        while True:
            if interactive:  # input() gives line editing and history (readline) at a terminal
                try:
                    line = input("> ") + "\n"
                except EOFError:
                    break
            else:
                line = stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if text in ("/quit", "/exit"):
                break
            if text == "/reset":
                del history[1 if system else 0:]
                dropped = 0
                stdout.write("(conversation cleared)\n")
                continue
            history.append({"role": "user", "content": text})
            kept = fit(history, template.count, n_ctx, max_tokens)
            if kept.prompt_tokens >= n_ctx:
                history.pop()
                stdout.write(f"(not sent: this message needs {kept.prompt_tokens} tokens with the system prompt; "
                             f"the model's context holds {n_ctx})\n")
                stdout.flush()
                continue
            if kept.dropped:
                dropped += kept.dropped
                history = kept.messages
                stdout.write(f"({dropped} earlier message(s) left out: the model's context holds {n_ctx} tokens)\n")
            reply = []
            finish = None
            for chunk in llm.create_chat_completion(messages=history, stream=True, max_tokens=max_tokens,
                                                    temperature=temperature, stop=[END_OF_TURN]):
                choice = chunk["choices"][0]
                piece = choice["delta"].get("content") or ""
                finish = choice.get("finish_reason") or finish
                reply.append(piece)
                stdout.write(piece)
                stdout.flush()
            answer = "".join(reply).strip()
            if not answer:
                stdout.write("(the model ended its turn without any text)")
            elif finish == "length":
                stdout.write(" [cut: max tokens]")
            stdout.write("\n")
            stdout.flush()
            history.append({"role": "assistant", "content": answer})
            turns += 1
    finally:
        llm.close()
    return turns


def gguf_info(path: Path) -> dict:
    """Quant type and context length from the GGUF's own metadata (what the chat page shows)."""
    from gguf import GGUFReader, LlamaFileType

    reader = GGUFReader(str(path))

    def field(key: str):
        f = reader.fields.get(key)
        return None if f is None else f.contents()

    arch = field("general.architecture") or "llama"
    try:
        quant = LlamaFileType(int(field("general.file_type"))).name.removeprefix("MOSTLY_")
    except (TypeError, ValueError):
        quant = "unknown"
    return {"quant": quant, "n_ctx": int(field(f"{arch}.context_length") or 0)}
