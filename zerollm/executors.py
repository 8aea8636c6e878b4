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
        local_executor(pipeline, tasks, workers, logging_dir).run()
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


class WorkerDied(RuntimeError):
    pass


def local_executor(pipeline: list, tasks: int, workers: int, logging_dir: Path):
    """datatrove's local executor, except that a worker killed mid-task (the OOM killer, a kill -9)
    fails the stage within a second: its multiprocessing pool would wait forever for the lost task."""
    import multiprocess
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.utils.stats import PipelineStats

    class Watched(LocalPipelineExecutor):
        def run(self):
            if self.workers == 1:
                return super().run()
            self.save_executor_as_json()
            manager = multiprocess.Manager()
            try:
                local_ranks = manager.Queue()
                for i in range(self.workers):
                    local_ranks.put(i)
                with multiprocess.get_context(self.start_method).Pool(self.workers) as pool:
                    pending = [pool.apply_async(self._launch_run_for_rank, (rank, local_ranks))
                               for rank in range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)]
                    _watch(pool, pending)
                    stats = sum((r.get() for r in pending), start=PipelineStats())
                with self.logging_dir.open("stats.json", "wt") as f:
                    stats.save_to_disk(f)
                return stats
            finally:
                manager.shutdown()

    return Watched(pipeline, tasks=tasks, workers=workers, logging_dir=str(logging_dir), skip_completed=False)


def _watch(pool, pending: list, poll: float = 0.5) -> None:
    """Until every task is done; raises WorkerDied as soon as a pool worker ends abnormally (the pool
    replaces it, but the task it held is lost)."""
    import signal

    seen = {}
    while not all(r.ready() for r in pending):
        seen.update({p.pid: p for p in list(pool._pool)})
        dead = [p for p in seen.values() if p.exitcode not in (None, 0)]
        if dead:
            code = dead[0].exitcode
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            raise WorkerDied(f"a datatrove worker (pid {dead[0].pid}) ended mid-task ({how}; the OOM killer does "
                             "this when memory runs out): its task is lost, so the stage stops; rerun or "
                             "`zerollm resume` starts it over")
        next(r for r in pending if not r.ready()).wait(poll)


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
