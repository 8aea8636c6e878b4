"""The whole pipeline's config, derived from the registry: one section per stage, named after it,
plus the settings every stage shares."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, create_model

from zerollm.config import StrictModel
from zerollm.executors import DataConfig
from zerollm.faults import FaultsConfig
from zerollm.notify import NotifyConfig
from zerollm.registry import STAGES, Registry
from zerollm.tracking import TrackingConfig


class PipelineBase(StrictModel):
    """Settings shared by every stage; `pipeline_config(registry)` adds one field per stage."""

    registry: ClassVar[Registry]

    name: str = Field("zerollm", description="Pipeline name: the MLflow parent run and Prefect flow run name.")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    data: DataConfig = Field(default_factory=DataConfig, description="Where filter and dedup run (local, ray, slurm).")
    faults: FaultsConfig = Field(default_factory=FaultsConfig, description="Failures on purpose (resume drills).")
    notify: NotifyConfig = Field(default_factory=NotifyConfig, description="Who hears what the gate decided.")

    @classmethod
    def model_validate(cls, obj: Any, *, context: dict | None = None, **kw):
        """Validate with the registry as context, so a reference to another stage is checked here."""
        reg = {"stages": cls.registry.names, "model_stages": cls.registry.model_stages}
        return super().model_validate(obj, context={**reg, **(context or {})}, **kw)

    def stage_config(self, name: str):
        return getattr(self, name)


def pipeline_config(registry: Registry) -> type[PipelineBase]:
    """The config model of a pipeline made of `registry`'s stages, in their order."""
    fields = {s.name: (s.config, Field(default_factory=s.config, description=(s.config.__doc__ or "").strip()))
              for s in registry.stages}
    model = create_model("PipelineConfig", __base__=PipelineBase, __module__=__name__, **fields)
    model.registry = registry
    return model


PipelineConfig = pipeline_config(STAGES)
