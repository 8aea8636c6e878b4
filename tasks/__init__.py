"""Prefect tasks: one per pipeline stage, built from the engine's stage registry."""
