"""zerollm engine: every stage as plain Python (no Prefect), so it runs on a bare GPU box and in tests."""

__version__ = "0.1.0"
