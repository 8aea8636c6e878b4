"""The whole pipeline's config: one field per stage, named after the stage."""

from __future__ import annotations

from pydantic import Field

from zerollm.collect.config import CollectConfig
from zerollm.config import StrictModel
from zerollm.dedup.config import DedupConfig
from zerollm.evaluate.config import EvaluateConfig
from zerollm.executors import DataConfig
from zerollm.faults import FaultsConfig
from zerollm.filter.config import FilterConfig
from zerollm.pretrain.config import PretrainConfig
from zerollm.quantize.config import QuantizeConfig
from zerollm.rlhf.config import RlhfConfig
from zerollm.sft.config import SftConfig
from zerollm.tokenizer.config import TokenizerConfig
from zerollm.tracking import TrackingConfig


class PipelineConfig(StrictModel):
    name: str = Field("zerollm", description="Pipeline name: the MLflow parent run and Prefect flow run name.")
    collect: CollectConfig = Field(default_factory=CollectConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig)
    sft: SftConfig = Field(default_factory=SftConfig)
    rlhf: RlhfConfig = Field(default_factory=RlhfConfig)
    quantize: QuantizeConfig = Field(default_factory=QuantizeConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    data: DataConfig = Field(default_factory=DataConfig, description="Where filter and dedup run (local, ray, slurm).")
    faults: FaultsConfig = Field(default_factory=FaultsConfig, description="Failures on purpose (resume drills).")
