"""filter and dedup on datatrove's Ray executor (a real local Ray cluster on this machine's CPUs)
keep exactly the documents the local executor keeps; Slurm is rendered and checked, not run."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tiny_config
from zerollm.io.shards import read_docs
from zerollm.runner import run_pipeline

RAY = str(Path(sys.executable).with_name("ray"))
SMALL = ["collect.sources=[{type: synthetic, language: en, seed: 3, target_mb: 0.15}]", "filter.workers=2",
         "dedup.workers=2"]


def survivors(outcomes, workdir: Path) -> tuple[list[str], dict]:
    dedup = next(o for o in outcomes if o.stage == "dedup")
    return sorted(d["id"] for d in read_docs(workdir / dedup.dir / "shards")), dedup.metrics


@pytest.fixture
def ray_cluster():
    import shutil
    import tempfile

    env_tmp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's unix socket paths must stay short
    start = subprocess.run([RAY, "start", "--head", "--num-cpus", "2", "--include-dashboard", "false",
                            "--disable-usage-stats", f"--temp-dir={env_tmp}"], capture_output=True, text=True,
                           timeout=180)
    assert start.returncode == 0, start.stderr[-3000:]
    try:
        yield "auto"
    finally:
        import ray

        ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(env_tmp, ignore_errors=True)


@pytest.mark.slow
def test_ray_keeps_the_same_documents_as_local(tmp_path, ray_cluster):
    local = run_pipeline(tiny_config(*SMALL), tmp_path / "local", until="dedup")
    on_ray = run_pipeline(tiny_config(*SMALL, "data.executor=ray", f"data.ray.address={ray_cluster}"),
                          tmp_path / "ray", until="dedup")
    ids_local, m_local = survivors(local, tmp_path / "local")
    ids_ray, m_ray = survivors(on_ray, tmp_path / "ray")
    assert len(ids_local) > 100 and ids_ray == ids_local
    for k in ("docs_in", "docs_out", "exact_removed", "minhash_removed", "decontam_removed"):
        assert m_ray[k] == m_local[k], k
    assert [o.key for o in on_ray] == [o.key for o in local]  # the executor is not part of any key
    ran_on = [p.read_text() for p in (tmp_path / "ray" / "stages").rglob("executor.json")]
    assert ran_on and all('"mem_per_cpu_gb"' in t for t in ran_on)  # a RayPipelineExecutor's settings


def test_slurm_is_rendered_with_the_settings(tmp_path):
    from zerollm.executors import DataConfig, slurm_executor

    cfg = DataConfig.model_validate({"executor": "slurm", "slurm": {"partition": "cpu-long", "time": "02:00:00",
                                                                   "sbatch_args": {"account": "team-a"}}})
    ex = slurm_executor(cfg.slurm, [lambda data, rank, world_size: data], tasks=8, workers=4,
                        logging_dir=tmp_path / "logs", name="filter")
    args = ex.get_sbatch_args(max_array=8)
    assert args["partition"] == "cpu-long" and args["time"] == "02:00:00" and args["account"] == "team-a"
    assert args["job-name"] == "zerollm-filter" and args["array"].startswith("0-7")
    script = ex.get_launch_file_contents(args, "srun python run.py")
    assert "#SBATCH --partition=cpu-long" in script and str(Path(sys.prefix)) in script


def test_slurm_without_sbatch_is_one_clear_error(tmp_path, monkeypatch):
    from zerollm.executors import DataConfig, run_pipeline as run_datatrove

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="data.executor: slurm needs `sbatch`"):
        run_datatrove(DataConfig(executor="slurm"), [], 1, 1, tmp_path / "logs")
