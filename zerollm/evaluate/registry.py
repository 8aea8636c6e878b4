"""Register the final model in the MLflow model registry and move the champion alias when the gate
passes. Runs after the evaluate stage has committed (the registry's state is outside any stage key).

The version's source is the evaluate run's `release/` artifacts (HF checkpoint with model card, GGUF
files, Modelfile, eval table); its tags hold the served file's scores, which the next run's champion
check compares against, and the path of the served GGUF for `zerollm chat/serve` (relative to the
workdir, so a moved or copied workdir still finds it; older versions hold absolute paths).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from zerollm.cache import MANIFEST, Manifest
from zerollm.evaluate import gate
from zerollm.evaluate.config import RegistryConfig
from zerollm.lineage import model_lineage

GATE_RECORD = "last_gate.json"  # under <workdir>/registry/, read by `zerollm run` to say what happened


def gate_of_run(workdir: Path, run_id: str) -> dict | None:
    """What the gate decided in zerollm run `run_id` (None: evaluate did not publish in that run)."""
    path = Path(workdir) / "registry" / GATE_RECORD
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if result.get("zerollm_run") == run_id else None


def workdir_relative(path: str | Path, workdir: Path) -> Path:
    """`path` as it lies in `workdir`: relative paths as they are, absolute ones inside it made
    relative; an absolute one from elsewhere (written before the workdir moved or was copied) from its
    last `stages/` part on, else unchanged (and so outside the workdir)."""
    path = Path(path)
    if not path.is_absolute():
        return path
    if path.is_relative_to(workdir):
        return path.relative_to(workdir)
    parts = path.parts
    if "stages" in parts:
        return Path(*parts[len(parts) - 1 - parts[::-1].index("stages"):])
    return path


def promote(out_dir: Path, cfg: RegistryConfig, tracker, run_id: str | None, log) -> dict[str, float]:
    doc = json.loads((out_dir / "gate.json").read_text(encoding="utf-8"))
    if not cfg.enabled or not run_id:
        log.info("evaluate: model registry off (%s)", "registry.enabled: false" if not cfg.enabled else "tracking off")
        return {}
    tracker.log_artifact(run_id, out_dir / "release", "release")
    scores = doc["scores"]
    work = out_dir.parents[2]  # out_dir is <workdir>/stages/evaluate/<key>
    tags = {"serve_type": doc["serve_type"], "source_stage": doc["source"],
            "gguf_path": workdir_relative(doc["serve_file"], work), "stage_dir": workdir_relative(out_dir, work),
            **{f"score.{t}": v for t, v in scores.items()}}
    built_by = Manifest.read(out_dir / MANIFEST)
    lineage = model_lineage(work, built_by)
    snapshot = lineage.pop("snapshot")
    tracker.log_text(run_id, json.dumps(snapshot, indent=1), "release/data_snapshot.json")
    if lineage["parent_pretrain_key"]:
        parent = tracker.versions_tagged(cfg.name, "lineage.pretrain_key", lineage["parent_pretrain_key"])
        lineage["parent_version"] = parent[-1] if parent else ""
    tags.update({f"lineage.{k}": v for k, v in lineage.items()})
    version = tracker.register_version(cfg.name, tracker.artifact_uri(run_id, "release"), run_id, tags,
                                       description=f"{doc['serve_type']} GGUF of the {doc['source']} model")
    champion = tracker.alias_version(cfg.name, cfg.alias)
    checks = list(doc["checks"])
    if champion is not None and str(champion.version) != version:
        ref = {k.removeprefix("score."): float(v) for k, v in champion.tags.items() if k.startswith("score.")}
        checks += gate.compare(scores, ref, doc["tolerance"], f"champion v{champion.version}")
    fails = gate.failures(checks)
    before = str(champion.version) if champion is not None else None
    if fails:
        log.warning("evaluate: gate failed, %s stays at %s:", cfg.alias, f"v{before}" if before else "no version")
        for line in fails:
            log.warning("  %s", line)
    else:
        tracker.set_alias(cfg.name, cfg.alias, version)
        log.info("evaluate: gate passed, %s -> %s v%s", cfg.alias, cfg.name, version)
    tracker.set_version_tags(cfg.name, version, {"gate": "failed" if fails else "passed",
                                                 "gate_failures": "; ".join(fails)[:4000]})
    result = {"registered_model": cfg.name, "version": version, "alias": cfg.alias, "passed": not fails,
              "champion_before": before, "champion_after": before if fails else version, "failures": fails,
              "checks": checks, "time": time.time(), "zerollm_run": built_by.run_id,
              "lineage": lineage}
    result["line"] = gate.verdict(result)
    tracker.log_text(run_id, json.dumps(result, indent=2), "gate_result.json")
    record = work / "registry" / GATE_RECORD
    record.parent.mkdir(parents=True, exist_ok=True)
    tmp = record.with_suffix(".part")
    tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
    tmp.replace(record)
    return {"registry_version": float(version), "gate_passed": float(not fails)}
