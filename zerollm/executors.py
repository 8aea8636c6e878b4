"""Which datatrove executor runs the data stages (filter, dedup): local processes, a Ray cluster, or
Slurm. The choice changes where the work runs, never what it writes, so it is not part of any stage
key (`data:` in the pipeline config, handed to the stages through their context).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from zerollm.config import StrictModel


class RaySettings(StrictModel):
    address: str | None = Field(None, description="Ray cluster to join ('auto': the one `ray start` runs here; "
                                                  "ray://host:10001 for a remote head). None: start one in-process.")
    cpus_per_task: int = Field(1, ge=1, description="CPUs reserved per datatrove task.")
    mem_per_cpu_gb: float = Field(2.0, gt=0, description="Memory reserved per CPU (GB).")


class SlurmSettings(StrictModel):
    partition: str = Field("cpu", description="Slurm partition.")
    time: str = Field("04:00:00", description="Wall time per job (HH:MM:SS).")
    cpus_per_task: int = Field(1, ge=1, description="CPUs per task.")
    mem_per_cpu_gb: int = Field(2, ge=1, description="Memory per CPU (GB).")
    qos: str = Field("normal", description="Slurm QOS.")
    venv_path: str | None = Field(None, description="Virtualenv activated in the job (default: this one).")
    sbatch_args: dict[str, str] = Field({}, description="Extra sbatch options, e.g. {account: myteam}.")
    poll_seconds: float = Field(10.0, gt=0, description="How often the stage checks that the jobs are done.")


class DataConfig(StrictModel):
    executor: Literal["local", "ray", "slurm"] = Field(
        "local", description="Where filter and dedup run their datatrove tasks: local processes, a Ray cluster, "
                             "or Slurm jobs (needs sbatch on this machine and a workdir shared with the nodes).")
    ray: RaySettings = Field(default_factory=RaySettings)
    slurm: SlurmSettings = Field(default_factory=SlurmSettings)


def run_pipeline(cfg: DataConfig | None, pipeline: list, tasks: int, workers: int, logging_dir: Path,
                 name: str = "zerollm") -> None:
    """Run one datatrove pipeline to completion on the chosen executor."""
    cfg = cfg or DataConfig()
    if cfg.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        LocalPipelineExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=str(logging_dir),
                              skip_completed=False).run()
    elif cfg.executor == "ray":
        import ray
        from datatrove.executor.ray import RayPipelineExecutor

        if not ray.is_initialized():
            ray.init(address=cfg.ray.address, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
        RayPipelineExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=str(logging_dir),
                            skip_completed=False, cpus_per_task=cfg.ray.cpus_per_task,
                            mem_per_cpu_gb=cfg.ray.mem_per_cpu_gb).run()
    else:
        if shutil.which("sbatch") is None:
            raise RuntimeError("data.executor: slurm needs `sbatch` on this machine (and the workdir on storage the "
                               "nodes share); use local or ray here")
        executor = slurm_executor(cfg.slurm, pipeline, tasks, workers, logging_dir, name)
        executor.run()
        wait_for_completions(Path(logging_dir), tasks, cfg.slurm.poll_seconds)


def slurm_executor(cfg: SlurmSettings, pipeline: list, tasks: int, workers: int, logging_dir: Path, name: str):
    import sys

    from datatrove.executor import SlurmPipelineExecutor

    return SlurmPipelineExecutor(pipeline, tasks=tasks, workers=workers, time=cfg.time, partition=cfg.partition,
                                 cpus_per_task=cfg.cpus_per_task, mem_per_cpu_gb=cfg.mem_per_cpu_gb, qos=cfg.qos,
                                 job_name=f"zerollm-{name}", venv_path=cfg.venv_path or str(Path(sys.prefix)),
                                 sbatch_args=dict(cfg.sbatch_args), logging_dir=str(logging_dir),
                                 skip_completed=False)


def wait_for_completions(logging_dir: Path, tasks: int, poll: float) -> None:
    """Slurm jobs run elsewhere: the stage is done when every rank has written its completion marker."""
    done = logging_dir / "completions"
    while not done.is_dir() or len(list(done.iterdir())) < tasks:
        time.sleep(poll)
