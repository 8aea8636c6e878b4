"""`zerollm run | plan | resume | status | report | compare | stages | chat | serve | ui | deploy | worker`."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from flows import env

app = typer.Typer(add_completion=False, no_args_is_help=True, help="zerollm: raw text to a chat model, stage by stage.")
console = Console()
err = Console(stderr=True)


def _load(config: Optional[Path], overrides: List[str]):
    from zerollm.config import ConfigError, load_config
    from zerollm.pipeline_config import PipelineConfig

    try:
        return load_config(PipelineConfig, config, overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # plain: one unwrapped line per problem
        raise typer.Exit(2)


# the options `run` and `plan` share: plan answers for exactly the run the same words would start
CONFIG = typer.Option(None, "--config", "-c", help="Pipeline YAML (default: built-in defaults).")
WORKDIR = typer.Option(env.workdir_default(), "--workdir", "-w", help="Where stages, runs and tracking live.")
SET = typer.Option([], "--set", help="Override a field: a.b=VALUE (VALUE parsed as YAML).")
UNTIL = typer.Option(None, "--until", help="Stop after this stage.")
FORCE = typer.Option([], "--force", help="Rerun this stage even if cached (repeatable).")

STOP_GRACE_S = 8.0  # after SIGTERM/Ctrl-C: time to unwind (tmp dir, MLflow KILLED, run record) before a hard exit


@app.command()
def run(
    config: Optional[Path] = CONFIG,
    workdir: Path = WORKDIR,
    set_: List[str] = SET,
    until: Optional[str] = UNTIL,
    force: List[str] = FORCE,
):
    """Run the pipeline; cached stages are reused, a killed stage starts over cleanly."""
    from zerollm import lifeline

    lifeline.adopt()  # first: every process this run starts dies with it, even after a kill -9
    cfg = _load(config, set_)
    _run(cfg, workdir, until, list(force))


@app.command()
def plan(
    config: Optional[Path] = CONFIG,
    workdir: Path = WORKDIR,
    set_: List[str] = SET,
    until: Optional[str] = UNTIL,
    force: List[str] = FORCE,
    as_json: bool = typer.Option(False, "--json", help='Print {"stages": [{stage, key, action, reasons}, ...]}.'),
):
    """What `run` would do, without running anything: each stage's key, reuse or run, and why."""
    from zerollm.config import ConfigError
    from zerollm.runner import plan as make_plan

    cfg = _load(config, set_)
    try:
        plans = make_plan(cfg, workdir, until, tuple(force))
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(2)
    if as_json:
        print(json.dumps({"workdir": str(workdir.resolve()), "stages": [p.to_json() for p in plans]}, indent=2,
                         ensure_ascii=False))
        return
    table = Table(title=f"plan for {workdir}")
    for col in ("stage", "key", "action", "why"):
        table.add_column(col)
    for p in plans:
        table.add_row(p.stage, p.key, "[green]reuse[/]" if p.action == "reuse" else "[cyan]run[/]",
                      "\n".join(p.reasons) or "-")
    console.print(table)


@app.command()
def resume(workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w")):
    """Rerun the latest failed run with its own config: finished stages are cache hits, so it goes on
    from the stage that failed (pretrain, sft and rlhf from their last checkpoint)."""
    from zerollm import lifeline
    from zerollm.config import ConfigError, format_validation_error
    from zerollm.pipeline_config import PipelineConfig
    from zerollm.records import latest_failed_run, latest_run, mark_stale_runs, run_records
    from zerollm.tracking import Tracker

    lifeline.adopt()

    recs = run_records(workdir)
    if recs and recs[-1].get("status") == "running":  # killed with -9: say so first, then resume it
        cfg_last = PipelineConfig.model_validate(recs[-1]["config"])
        mark_stale_runs(workdir, Tracker(cfg_last.tracking, workdir))
    rec = latest_failed_run(workdir)
    if rec is None:
        last = latest_run(workdir)
        what = f"the latest run ({last['run_id']}) is {last['status']}" if last else "there are no runs"
        err.print(f"nothing to resume in {workdir}: {what}")
        raise typer.Exit(1)
    try:
        cfg = PipelineConfig.model_validate(rec["config"])
    except Exception as exc:  # a record from an older zerollm whose config no longer validates
        msg = format_validation_error(exc, PipelineConfig) if hasattr(exc, "errors") else str(exc)
        print(ConfigError(msg), file=sys.stderr)
        raise typer.Exit(2)
    console.print(f"resuming run {rec['run_id']} ({rec.get('error') or 'failed'})")
    _run(cfg, workdir, rec.get("until"), [], resumed_from=rec["run_id"])


def _run(cfg, workdir: Path, until: Optional[str], force: list[str], resumed_from: Optional[str] = None) -> None:
    from zerollm.config import ConfigError
    from zerollm.diskfull import DiskFull
    from zerollm.records import new_run_id
    from zerollm.runner import plan as make_plan
    from zerollm.runner import preflight

    names = type(cfg).registry.names
    for name in ([until] if until else []) + list(force):
        if name not in names:
            print(f"unknown stage {name!r}; stages: {', '.join(names)}", file=sys.stderr)
            raise typer.Exit(2)
    workdir.mkdir(parents=True, exist_ok=True)
    env.prepare(workdir)
    server = _start_prefect_server(workdir)  # in the background, while this process plans and imports
    try:  # a run that must fail fails in seconds, before any stage; the flow runs this plan
        plans = make_plan(cfg, workdir, until, tuple(force))
        preflight(cfg, workdir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        if server is not None:
            server.stop()
        raise typer.Exit(2)
    import mlflow.tracking  # noqa: F401  (the tracker needs it; importing it here overlaps the server's start)

    from flows import pipeline as pipeline_mod

    try:
        if server is not None:
            server.wait()
    except RuntimeError as exc:
        err.print(f"[red]{exc}[/]")
        server.stop()
        raise typer.Exit(1)
    t0 = time.time()
    run_id = new_run_id()
    stopping: dict = {}

    def on_signal(signum, frame):
        """SIGTERM (workers, Kubernetes) and Ctrl-C: unwind the running stage, then exit; a second
        signal or a stuck unwind ends the process at once."""
        if stopping:
            os._exit(128 + signum)
        stopping["signal"] = signum
        watchdog = threading.Timer(STOP_GRACE_S, lambda: os._exit(128 + signum))
        watchdog.daemon = True
        watchdog.start()
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    status = console.status("starting Prefect…")
    status.start()

    reports: list = []

    def on_event(event: str, payload) -> None:
        if event == "report":
            reports.append(payload)
        elif event == "start":
            status.update(f"[bold]{payload.stage}[/] running… (key {payload.key[:8]})")
            if payload.action == "run":
                console.print(f"  [cyan]run[/]    {payload.stage:<10} because " + "; ".join(payload.reasons),
                              soft_wrap=True, highlight=False)
        elif event == "done":
            o = payload
            tag = "[green]cached[/]" if o.cache_hit else "[cyan]ran[/]   "
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in _headline(o.metrics)[:4])
            built = f" (built by run {o.built_by_run} in {o.built_seconds or 0:.0f}s)" if o.cache_hit else ""
            console.print(f"  {tag} {o.stage:<10} {o.seconds:7.1f}s  {shown}{built}", soft_wrap=True)

    pipeline_mod.listeners.append(on_event)
    code = 0
    try:
        pipeline_mod.pipeline(cfg, str(workdir.resolve()), until, list(force), run_id=run_id,
                              resumed_from=resumed_from, plans=plans)
    except BaseException as exc:  # noqa: BLE001 — every way out gets one line and a non-zero exit
        status.stop()
        sig = stopping.get("signal")
        if sig is not None or isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "TerminationSignal":
            name = signal.Signals(sig).name if sig else type(exc).__name__
            err.print(f"[yellow]stopped[/] ({name}) — checkpoints kept; {_next_step(workdir, run_id)}", soft_wrap=True)
            code = 128 + (sig or signal.SIGINT)
        else:
            what = str(exc) if isinstance(exc, DiskFull) else f"{type(exc).__name__}: {exc}"
            err.print(f"[red]pipeline failed:[/] {what}", soft_wrap=True, highlight=False)
            err.print(f"inspect: zerollm status --workdir {workdir}; {_next_step(workdir, run_id)}", soft_wrap=True)
            code = 1
    finally:
        status.stop()
        pipeline_mod.listeners.remove(on_event)
    _say_report(reports)
    if code:
        _reap_children()  # Prefect's temporary server, datatrove workers: nothing outlives the run
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # background threads (Prefect event workers, MLflow monitors) must not keep a dead run alive
    for s, h in previous.items():
        signal.signal(s, h)
    _say_gate(workdir, t0)
    console.print(f"done in {time.time() - t0:.1f}s — zerollm status --workdir {workdir}")


def _next_step(workdir: Path, run_id: str) -> str:
    """Resume only what can be resumed: a run that failed before writing its record cannot be."""
    from zerollm.records import latest_failed_run

    rec = latest_failed_run(workdir)
    if rec is not None and rec.get("run_id") == run_id:
        return f"resume: zerollm resume --workdir {workdir}"
    if (Path(workdir) / "runs" / f"{run_id}.json").is_file():  # another run on this workdir is the latest now
        return "rerun: the same command again (what finished is reused)"
    return "this run left no record to resume (it stopped before its first stage): run the same command again"


def _start_prefect_server(workdir: Path):
    """A Prefect API for this run, starting while the run plans and imports; None when one is configured."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    from flows.servers import RunServer

    server = RunServer(workdir)
    server.start()
    return server


def _say_report(reports: list) -> None:
    """The report's path, and one line per stage that lost more than half of its input."""
    for rep in reports:
        for line in rep.warnings:
            err.print(line, style="yellow", soft_wrap=True, markup=False, highlight=False)
        console.print(f"  report: {rep.html}", soft_wrap=True, markup=False, highlight=False)


def _reap_children(timeout: float = 3.0) -> None:
    import psutil

    kids = psutil.Process().children(recursive=True)
    for k in kids:
        try:
            k.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(kids, timeout=timeout)
    for k in alive:
        try:
            k.kill()
        except psutil.Error:
            pass


def _say_gate(workdir: Path, since: float) -> None:
    """What the quantization gate decided in this run, if evaluate ran."""
    from zerollm.evaluate.registry import GATE_RECORD

    path = workdir / "registry" / GATE_RECORD
    if not path.is_file():
        return
    g = json.loads(path.read_text(encoding="utf-8"))
    if g.get("time", 0) < since:
        return
    line = g.get("line") or ("promoted" if g["passed"] else "not promoted")
    if g["passed"]:
        console.print(f"  {line}", highlight=False)
    else:
        console.print(f"  [yellow]{line}[/]", highlight=False)
        for failure in g["failures"]:
            console.print(f"    {failure}", highlight=False)


HEADLINE = ("qa_exact_match", "qa_mc_accuracy", "qa_exact_match_seen",  # a model stage's numbers that matter
            "f16_top1", "q8_0_ppl_delta_pct", "q8_0_speedup", "gate_passed", "registry_version",
            "rlhf.qa_gen.exact_match", "Q8_0.qa_gen.exact_match")


def _headline(metrics: dict) -> list[tuple[str, object]]:
    first = [(k, metrics[k]) for k in HEADLINE if k in metrics]
    return first + [(k, v) for k, v in metrics.items() if k not in HEADLINE]


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@app.command()
def status(
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    as_json: bool = typer.Option(False, "--json", help="Print {\"stages\": [...]} as JSON."),
):
    """Per stage of the latest run: key, cache hit, seconds, metrics, output dir, MLflow run."""
    from zerollm.records import status as run_status

    rec = run_status(workdir)
    if rec is None:
        err.print(f"no runs in {workdir} yet: zerollm run --workdir {workdir}")
        raise typer.Exit(1)
    stages = rec["stages"]
    if as_json:
        print(json.dumps(rec, indent=2))
        return
    table = Table(title=f"run {rec['run_id']} — {rec['status']}")
    for col in ("stage", "key", "cache", "seconds", "metrics", "MLflow run"):
        table.add_column(col)
    for s in stages:
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in list(s["metrics"].items())[:5])
        table.add_row(s["stage"], s["key"], "hit" if s["cache_hit"] else "ran", f"{s['seconds']:.1f}", metrics,
                      s["mlflow_run_id"] or "-")
    console.print(table)


@app.command()
def report(
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    run_ref: str = typer.Option("latest", "--run", help="Run id, unique prefix, MLflow run id, latest or latest~N."),
):
    """Write the run's report: <workdir>/reports/<run>/report.html (self-contained) and report.md."""
    from zerollm import report as report_mod
    from zerollm.compare import RunNotFound, resolve

    try:
        rec = resolve(workdir, run_ref)
    except RunNotFound as exc:
        err.print(str(exc))
        raise typer.Exit(2)
    rep = report_mod.write(workdir, rec)
    _say_report([rep])


DEFAULT_WATCH_SECONDS = 900  # a watched folder is looked at every 15 minutes unless --cron/--every says otherwise


@app.command()
def deploy(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Pipeline YAML."),
    set_: List[str] = typer.Option([], "--set", help="Override a field: a.b=VALUE."),
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w", help="The workdir scheduled runs use."),
    cron: Optional[str] = typer.Option(None, "--cron", help='Schedule, e.g. "0 2 * * *" (none: run on demand).'),
    every: Optional[int] = typer.Option(None, "--every", min=60, help="Or run every N seconds (with --watch: "
                                                                     "how often the folder is looked at)."),
    watch: Optional[Path] = typer.Option(None, "--watch", help="A folder of new data (*.txt, *.jsonl): each run "
                                                               "takes in what arrived, continues the last model, and "
                                                               "promotes it only if the gate passes."),
    name: Optional[str] = typer.Option(None, "--name", help="Deployment name (default: the config's name)."),
    until: Optional[str] = typer.Option(None, "--until", help="Stop after this stage."),
):
    """Create or update a Prefect deployment of the pipeline (process pool `zerollm`; `zerollm worker` runs it).
    Needs a Prefect server: PREFECT_API_URL (e.g. from `zerollm ui`)."""
    if watch is not None:
        from flows.deploy import watching

        set_ = [*set_, *watching(watch, _load(config, set_))]
        every = every or (None if cron else DEFAULT_WATCH_SECONDS)
    cfg = _load(config, set_)
    if not os.environ.get("PREFECT_API_URL"):
        err.print("zerollm deploy needs a Prefect server: start one (zerollm ui) and export "
                  "PREFECT_API_URL=http://127.0.0.1:4200/api")
        raise typer.Exit(2)
    from flows.deploy import POOL
    from flows.deploy import deploy as make_deployment

    dep_name = name or cfg.name
    dep_id = make_deployment(dep_name, cfg.model_dump(mode="json"), workdir, cron, until, every=every)
    when = f"on schedule {cron!r}" if cron else f"every {every} s" if every else "on demand"
    console.print(f"deployment zerollm-pipeline/{dep_name} ({dep_id}) {when}, pool {POOL!r}; start a worker: "
                  f"zerollm worker; run now: prefect deployment run 'zerollm-pipeline/{dep_name}'")


@app.command()
def worker(pool: str = typer.Option("zerollm", help="Work pool to serve.")):
    """Start a Prefect worker on the pipeline's process pool (needs PREFECT_API_URL)."""
    os.execv(sys.executable, [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"])


@app.command()
def compare(
    run_a: str = typer.Argument(..., help="A run: latest, latest~N, a run id (or a unique prefix), an MLflow run id."),
    run_b: str = typer.Argument("latest", help="The other run (default: latest)."),
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    as_json: bool = typer.Option(False, "--json", help="The comparison as JSON."),
):
    """Two runs side by side: per stage, shared through the cache or not, config differences, metrics."""
    from zerollm.compare import RunNotFound, render
    from zerollm.compare import compare as compare_runs

    try:
        result = compare_runs(workdir, run_a, run_b)
    except RunNotFound as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(2)
    print(json.dumps(result, indent=2) if as_json else render(result))


@app.command()
def stages():
    """The stages in order, with what each reads and writes."""
    from zerollm.registry import STAGES

    table = Table()
    for col in ("stage", "inputs", "model", "reads", "writes"):
        table.add_column(col)
    for s in STAGES.stages:
        table.add_row(s.name, ", ".join(STAGES.inputs(s.name)) or "-", "yes" if s.produces_model else "",
                      s.reads, s.writes)
    console.print(table)


MODEL_HELP = "latest (the newest run's served GGUF), champion (the registry alias), or a .gguf file / directory."


def _resolve(model: str, workdir: Path) -> Path:
    from zerollm.serving import ModelNotFound, resolve

    try:
        return resolve(model, workdir)
    except ModelNotFound as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(2)


@app.command()
def chat(
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    model: str = typer.Option("latest", "--model", "-m", help=MODEL_HELP),
    max_tokens: int = typer.Option(0, help="Tokens per answer (0: half the context)."),
    temperature: float = typer.Option(0.0, help="0: greedy."),
    system: str = typer.Option("", help="A system prompt, kept when old turns make way for new ones."),
):
    """Chat with a GGUF model in the terminal (streaming; /reset, /quit). Works piped too. When the
    conversation outgrows the model's context, the oldest turns are left out, and a line says so."""
    from zerollm.serving import chat_loop

    path = _resolve(model, workdir)
    chat_loop(path, sys.stdin, sys.stdout, max_tokens=max_tokens, temperature=temperature, system=system)


@app.command()
def serve(
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    model: str = typer.Option("latest", "--model", "-m", help=MODEL_HELP),
    host: str = typer.Option("127.0.0.1", help="Bind address (loopback unless you mean to expose it)."),
    port: int = typer.Option(8000),
    parallel: int = typer.Option(2, min=1, help="Model instances answering at once (each its own context; "
                                                 "the CPU threads are split between them, at least 1 each)."),
    queue: int = typer.Option(32, min=0, help="Requests that may wait for an instance; more get 503 + Retry-After."),
    threads: int = typer.Option(0, min=0, help="CPU threads in all (0: every core but one, which is left to "
                                               "the event loop that streams the answers)."),
    name: str = typer.Option("", help="The model's name in the API (default: the GGUF file's stem)."),
):
    """An OpenAI-compatible HTTP server (/v1/models, /v1/chat/completions, /v1/completions) and a
    chat page at /, on a GGUF model."""
    from zerollm.server import serve as serve_model

    serve_model(_resolve(model, workdir), host=host, port=port, alias=name or None, threads=threads,
                parallel=parallel, queue=queue)


@app.command()
def ui(
    workdir: Path = typer.Option(env.workdir_default(), "--workdir", "-w"),
    host: str = typer.Option("127.0.0.1", help="Bind address (loopback unless you mean to expose them)."),
    prefect_port: int = typer.Option(4200),
    mlflow_port: int = typer.Option(5000),
    timeout: float = typer.Option(120.0, help="Seconds to wait for both servers to answer their health checks."),
):
    """Start a Prefect server and an MLflow server for this workdir; Ctrl-C or SIGTERM stops both."""
    workdir.mkdir(parents=True, exist_ok=True)
    env.prepare(workdir)
    from flows.servers import UiServers

    servers = UiServers(workdir, host, prefect_port, mlflow_port)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        servers.start(timeout)
        console.print(f"Prefect UI: {servers.prefect_ui}   (runs report here: PREFECT_API_URL={servers.prefect_api})")
        console.print(f"MLflow UI:  {servers.mlflow_ui}   (store: {servers.tracking_uri})")
        console.print("ready — Ctrl-C stops both", highlight=False)
        servers.wait()
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1)
    finally:
        servers.stop()


if __name__ == "__main__":
    app()
