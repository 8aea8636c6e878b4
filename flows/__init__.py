"""The Prefect flow, the CLI and deployments."""
