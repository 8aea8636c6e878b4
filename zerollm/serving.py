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
              threads: int = 0) -> int:
    """Read a line, stream the answer. `/reset` forgets the conversation, `/quit` (or end of input)
    ends it. Old turns are dropped when the conversation outgrows the context. Returns turns answered."""
    llm = llamacpp.open_model(path, threads=threads)
    n_ctx = llamacpp.context_length(llm)
    max_tokens = max_tokens or max(16, n_ctx // 2)
    interactive = stdin.isatty() and stdin is sys.stdin
    if interactive:
        import readline  # noqa: F401  (arrow keys and history for input())
    history: list[dict] = []
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
                history.clear()
                stdout.write("(conversation cleared)\n")
                continue
            history.append({"role": "user", "content": text})
            _fit(llm, history, n_ctx - max_tokens)
            reply = []
            for chunk in llm.create_chat_completion(messages=history, stream=True, max_tokens=max_tokens,
                                                    temperature=temperature, stop=[END_OF_TURN]):
                piece = chunk["choices"][0]["delta"].get("content") or ""
                reply.append(piece)
                stdout.write(piece)
                stdout.flush()
            stdout.write("\n")
            stdout.flush()
            history.append({"role": "assistant", "content": "".join(reply).strip()})
            turns += 1
    finally:
        llm.close()
    return turns


def _fit(llm, history: list[dict], budget: int) -> None:
    """Drop the oldest turns until the prompt fits (the newest user message always stays)."""
    def size() -> int:
        return sum(len(llm.tokenize(m["content"].encode("utf-8"), add_bos=False)) + 5 for m in history) + 3

    while len(history) > 1 and size() > budget:
        del history[0]
    if size() > budget:  # one message longer than the context: keep its end
        ids = llm.tokenize(history[0]["content"].encode("utf-8"), add_bos=False)[-max(budget - 8, 1):]
        history[0]["content"] = llm.detokenize(ids).decode("utf-8", errors="ignore")


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


def chat_page_routes(app, path: Path, alias: str) -> None:
    """`/`: the chat page (shipped in the package, no CDN); `/chat/info`: what it shows and sends."""
    from importlib import resources

    from fastapi.responses import HTMLResponse, JSONResponse

    page = resources.files("zerollm.web").joinpath("chat.html").read_text(encoding="utf-8")
    info = {"model": alias, "file": path.name, **gguf_info(path), "stop": [END_OF_TURN]}
    info["max_tokens"] = max(16, info["n_ctx"] // 2) if info["n_ctx"] else 256

    @app.get("/", include_in_schema=False)
    def chat_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/chat/info", include_in_schema=False)
    def chat_info() -> JSONResponse:
        return JSONResponse(info)


def serve(path: Path, host: str = "127.0.0.1", port: int = 8000, alias: str | None = None, threads: int = 0) -> None:
    """llama-cpp-python's OpenAI-compatible server (/v1/models, /v1/chat/completions, streaming), and a
    chat page at / that uses it."""
    import uvicorn

    llamacpp.runtime()  # repacking off before the server loads the model
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    model = ModelSettings(model=str(path), model_alias=alias or path.stem, n_ctx=0,
                          n_threads=llamacpp.cpu_threads(threads), n_threads_batch=llamacpp.cpu_threads(threads),
                          logits_all=False, verbose=False)
    app = create_app(server_settings=ServerSettings(host=host, port=port), model_settings=[model])
    chat_page_routes(app, path, model.model_alias)
    print(f"serving {path} as {model.model_alias!r}: chat page http://{host}:{port}/ · OpenAI API "
          f"http://{host}:{port}/v1", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
