"""Which datatrove executor runs the data stages (filter, dedup): local processes, a Ray cluster, or
Slurm. The choice changes where the work runs, never what it writes, so it is not part of any stage
key (`data:` in the pipeline config, handed to the stages through their context).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
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
            import psutil

            self.save_executor_as_json()
            before = {p.pid for p in psutil.Process().children(recursive=True)}
            manager = multiprocess.Manager()
            lost = False
            try:
                local_ranks = manager.Queue()
                for i in range(self.workers):
                    local_ranks.put(i)
                pool = multiprocess.get_context(self.start_method).Pool(self.workers)
                try:
                    pending = [pool.apply_async(self._launch_run_for_rank, (rank, local_ranks))
                               for rank in range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)]
                    _watch(pool, pending, before)
                    stats = sum((r.get() for r in pending), start=PipelineStats())
                except WorkerDied:
                    # its processes, fork server included, are killed: terminating the pool, or stopping
                    # the fork server, would wait forever on the pool's own threads
                    lost = True
                    pool._terminate.cancel()
                    raise
                except BaseException:
                    pool.terminate()
                    raise
                pool.terminate()
                with self.logging_dir.open("stats.json", "wt") as f:
                    stats.save_to_disk(f)
                return stats
            finally:
                manager.shutdown()
                if self.start_method == "forkserver" and not lost:
                    # it lives on for the next pool otherwise, with this stage's stderr (its console.log,
                    # already committed) as its own: the next stage's workers would write into it
                    from multiprocess import forkserver

                    forkserver._forkserver._stop()

    return Watched(pipeline, tasks=tasks, workers=workers, logging_dir=str(logging_dir), skip_completed=False)


def _watch(pool, pending: list, before: set[int], poll: float = 0.5) -> None:
    """Until every task is done. Raises WorkerDied as soon as a process of the pool (a worker, its fork
    server, the manager: anything started since `before`) is gone: the pool would replace a worker,
    but the task it held is lost, and without its fork server or manager the others wait forever.
    Workers are known from the pool itself too, so one killed before the first look is still seen."""
    import psutil

    me = psutil.Process()
    known: dict[int, str] = {}
    while not all(r.ready() for r in pending):
        for p in list(pool._pool):
            known.setdefault(p.pid, "a worker")
        for p in me.children(recursive=True):
            if p.pid not in before and p.pid not in known:
                with contextlib.suppress(psutil.Error):
                    known[p.pid] = _role(p.cmdline(), me.cmdline())
        for pid, role in known.items():
            if not _alive(pid):
                for other in known:  # what is left of the pool would only wait for the lost task
                    with contextlib.suppress(OSError):
                        os.kill(other, signal.SIGKILL)
                raise WorkerDied(f"a process of the stage's datatrove pool ({role}, pid {pid}) ended mid-task: killed, "
                                 "or out of memory (the OOM killer). Its task is lost, so the stage stops; a rerun "
                                 "or `zerollm resume` starts it over")
        waiting = [r for r in pending if not r.ready()]
        if waiting:
            waiting[0].wait(poll)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _role(cmd: list[str], main: list[str]) -> str:
    text = " ".join(cmd)
    if "forkserver" in text:
        return "a worker or its fork server"
    if "resource_tracker" in text:
        return "the resource tracker"
    return "the pool's manager" if cmd == main else "a worker"


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
