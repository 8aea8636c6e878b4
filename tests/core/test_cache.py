import json
import os
import time

import pytest

from zerollm import cache


def _manifest(stage="dedup", key="k"):
    return cache.Manifest(stage=stage, key=key, config={}, inputs={}, files={}, metrics={"n": 1},
                          started=time.time())


def test_key_changes_with_config_inputs_code_and_fingerprint():
    k = cache.stage_key("dedup", {"threshold": 0.7}, {"filter": "a"}, "c1")
    assert k == cache.stage_key("dedup", {"threshold": 0.7}, {"filter": "a"}, "c1")
    assert k != cache.stage_key("dedup", {"threshold": 0.71}, {"filter": "a"}, "c1")
    assert k != cache.stage_key("dedup", {"threshold": 0.7}, {"filter": "b"}, "c1")
    assert k != cache.stage_key("dedup", {"threshold": 0.7}, {"filter": "a"}, "c2")
    assert k != cache.stage_key("dedup", {"threshold": 0.7}, {"filter": "a"}, "c1", fingerprint=["x"])
    assert k != cache.stage_key("filter", {"threshold": 0.7}, {"filter": "a"}, "c1")


def test_commit_is_atomic_and_verified(tmp_path):
    final = cache.stage_dir(tmp_path, "dedup", "k")
    tmp = cache.new_tmp_dir(final)
    (tmp / "a.txt").write_text("hello")
    assert cache.verify(final) is None
    cache.commit(tmp, final, _manifest())
    m = cache.verify(final)
    assert m is not None and m.files["a.txt"]["size"] == 5
    assert not tmp.exists()
    # a changed file (same size) is caught by the hash; a missing file by stat
    (final / "a.txt").write_text("jello")
    assert cache.verify(final) is None
    assert cache.check(final)[1] == "corrupt: a.txt changed content"
    (final / "a.txt").unlink()
    assert cache.verify(final) is None
    assert cache.check(final)[1] == "missing: a.txt"


def test_dir_without_manifest_is_not_done_and_stale_tmp_is_swept(tmp_path):
    final = cache.stage_dir(tmp_path, "dedup", "k")
    stale = final.parent / f"{final.name}.tmp-999999999"
    stale.mkdir(parents=True)
    (stale / "half.bin").write_bytes(b"x")
    assert cache.verify(stale) is None
    tmp = cache.new_tmp_dir(final)
    assert not stale.exists() and tmp.name.endswith(str(os.getpid()))


def test_commit_replaces_existing_output(tmp_path):
    final = cache.stage_dir(tmp_path, "dedup", "k")
    for text in ("one", "two!"):
        tmp = cache.new_tmp_dir(final)
        (tmp / "a.txt").write_text(text)
        cache.commit(tmp, final, _manifest())
    assert (final / "a.txt").read_text() == "two!"
    assert cache.verify(final) is not None
    assert sorted(p.name for p in final.parent.iterdir()) == ["k"]


def test_speed_only_settings_stay_out_of_the_key():
    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig

    a = load_config(PipelineConfig)
    b = load_config(PipelineConfig, None, ["dedup.workers=8", "filter.workers=8", "pretrain.num_threads=1",
                                           "tokenizer.num_workers=0", "pretrain.profile_steps=3"])
    c = load_config(PipelineConfig, None, ["dedup.threshold=0.8"])
    for stage in ("filter", "dedup", "tokenizer", "pretrain"):
        assert cache.key_fields(getattr(a, stage)) == cache.key_fields(getattr(b, stage)), stage
    assert cache.key_fields(a.dedup) != cache.key_fields(c.dedup)
    assert "workers" not in cache.key_fields(a.dedup) and "threshold" in cache.key_fields(a.dedup)


def _committed(workdir, key="k"):
    """A committed stage output with one file, and its manifest as a dict to spoil."""
    final = cache.stage_dir(workdir, "dedup", key)
    tmp = cache.new_tmp_dir(final)
    (tmp / "a.txt").write_text("hello")
    cache.commit(tmp, final, _manifest(key=key))
    return final, json.loads((final / cache.MANIFEST).read_text())


@pytest.mark.parametrize("field, spoil", [
    ("files", {"files": []}),
    ("files", {"files": {"a.txt": 3}}),
    ("files", {"files": {"a.txt": {"size": "x", "sha256": "abc"}}}),
    ("files", {"files": {"a.txt": {"size": -1, "sha256": "abc"}}}),
    ("files", {"files": {"a.txt": {"size": 5}}}),
    ("metrics", {"metrics": "x"}),
    ("key", {"key": 5}),
    ("finished", {"finished": "yesterday"}),
    ("finished", {"finished": True}),
    ("mlflow_run_id", {"mlflow_run_id": 7}),
    ("code", {"code": ["a.py"]}),
    ("stage", {"stage": None}),
])
def test_a_mistyped_manifest_is_not_done_and_never_crashes(tmp_path, field, spoil):
    final, data = _committed(tmp_path)
    (final / cache.MANIFEST).write_text(json.dumps({**data, **spoil}))
    assert cache.verify(final) is None
    problem = cache.check(final)[1]
    assert problem.startswith(f"corrupt: manifest field {field!r}"), problem
    assert cache.latest_manifest(tmp_path, "dedup") is None


@pytest.mark.parametrize("content, problem", [
    (b"[1, 2]", "corrupt: manifest: expected an object, got list"),
    (b'{"stage": "dedup"}', "corrupt: manifest field 'key': missing"),
    (b'{"stage": "dedup", "key": "k", "conf', "corrupt: manifest is not valid JSON"),
    (b'{"stage": "caf\xe9"}', "corrupt: manifest is not UTF-8"),
    (b"[" * 100_000, "corrupt: manifest is not valid JSON"),
    (b"", "corrupt: manifest is not valid JSON"),
])
def test_a_corrupt_manifest_is_not_done_and_never_crashes(tmp_path, content, problem):
    final, _ = _committed(tmp_path)
    (final / cache.MANIFEST).write_bytes(content)
    assert cache.verify(final) is None
    assert cache.check(final)[1].startswith(problem)
    assert cache.latest_manifest(tmp_path, "dedup") is None


def test_latest_manifest_skips_a_broken_one_and_extra_fields_are_tolerated(tmp_path):
    good, data = _committed(tmp_path, "good")
    (good / cache.MANIFEST).write_text(json.dumps({**data, "from_a_newer_zerollm": [1, 2]}))
    bad, data = _committed(tmp_path, "bad")
    (bad / cache.MANIFEST).write_text(json.dumps({**data, "files": []}))
    assert cache.verify(good) is not None and cache.check(good)[1] is None
    assert cache.latest_manifest(tmp_path, "dedup").key == "good"
