from zerollm.tracking import Tracker, TrackingConfig, flatten, redact


def test_secrets_are_masked_in_params():
    p = redact(flatten({"collect": {"sources": [{"url": "https://user:pw@host/x"}]}, "hf_token": "hf_abc",
                        "api_key": "k", "threshold": 0.7, "auth": None}))
    assert p["hf_token"] == "***" and p["api_key"] == "***" and p["threshold"] == "0.7" and p["auth"] == "None"
    assert "pw" not in p["collect.sources"] and "***@host" in p["collect.sources"]


def test_run_tree_and_batched_step_metrics(tmp_path):
    t = Tracker(TrackingConfig(), tmp_path)
    assert t.uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    parent = t.start_run("pipe")
    child = t.start_run("pretrain", parent, params={"pretrain": {"lr": 0.1}})
    buf = t.metric_buffer(child)
    for step in range(1, 251):
        buf.add({"train_loss": 1.0 / step, "lr": 0.1}, step)
    buf.flush()
    t.end_run(child)
    t.end_run(parent)
    hist = t.client.get_metric_history(child, "train_loss")
    assert len(hist) == 250 and hist[-1].step == 250
    run = t.client.get_run(child)
    assert run.data.tags["mlflow.parentRunId"] == parent and run.data.params["pretrain.lr"] == "0.1"
    assert (tmp_path / "mlartifacts").as_uri() in t.client.get_experiment(run.info.experiment_id).artifact_location


def test_disabled_tracker_does_nothing(tmp_path):
    t = Tracker(TrackingConfig(enabled=False), tmp_path)
    assert t.start_run("x") is None
    t.metric_buffer(None).add({"a": 1}, 1)
    assert not (tmp_path / "mlflow.db").exists()
