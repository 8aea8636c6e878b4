"""Scheduled runs: a Prefect deployment of the pipeline flow on a process work pool, for one machine.

The deployment carries the resolved pipeline config (the YAML plus `--set` overrides) and an
absolute workdir as its parameters, so a scheduled run computes the same stage keys as
`zerollm run` with that config, and reuses what is already in the workdir. The code is pulled from
this checkout (`from_source` with a local path): the worker runs what is on disk.
"""

from __future__ import annotations

from pathlib import Path

POOL = "zerollm"  # a `process` pool: `zerollm worker` serves it (infra/docker-compose.yml's worker too)
FLOW_ENTRYPOINT = "flows/pipeline.py:pipeline"
REPO = Path(__file__).resolve().parents[1]


def ensure_pool(name: str = POOL) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def watching(folder: Path, cfg) -> list[str]:
    """Config overrides for a deployment that takes in what lands in `folder`: its *.txt (a document per
    blank-line block) and *.jsonl files as two more sources (an empty folder adds nothing), and a model that
    continues the last one (`pretrain.init: auto`: scratch on the first run)."""
    import json

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    sources = [s.model_dump(mode="json", exclude_none=True) for s in cfg.collect.sources]
    sources += [{"type": "text", "name": "inbox", "path": str(folder / "*.txt"), "split": "paragraph",
                 "optional": True},
                {"type": "jsonl", "name": "inbox-jsonl", "path": str(folder / "*.jsonl"), "optional": True}]
    out = [f"collect.sources={json.dumps(sources)}"]
    if cfg.pretrain.init == "scratch":
        out.append("pretrain.init=auto")
    return out


def deploy(name: str, config: dict, workdir: Path, cron: str | None, until: str | None = None,
           pool: str = POOL, every: int | None = None) -> str:
    """Create or update the deployment; returns its id."""
    from prefect import flow

    ensure_pool(pool)
    source = flow.from_source(source=str(REPO), entrypoint=FLOW_ENTRYPOINT)
    return str(source.deploy(
        name=name, work_pool_name=pool, cron=cron, interval=every, build=False, push=False, print_next_steps=False,
        parameters={"config": config, "workdir": str(Path(workdir).resolve()), "until": until},
        description=f"zerollm pipeline '{config.get('name', 'zerollm')}' on {Path(workdir).resolve()}",
        tags=["zerollm"]))
