"""dedup: one knob (`threshold`) for users, the LSH shape for those who want it."""

from __future__ import annotations

from pydantic import Field, model_validator

from zerollm.config import StrictModel


class DecontamConfig(StrictModel):
    enabled: bool = Field(True, description="Remove training docs that contain evaluation items.")
    datasets: list[str] = Field(["eval"], description="collect datasets whose items must not appear in training "
                                                      "(datasets/<name>.jsonl; eval rows: `question`).")
    threshold: float = Field(0.9, ge=0.3, le=1.0,
                             description="Share of an eval item's word 3-grams found in a doc for the doc to count "
                                         "as leaking it (containment). Chinese questions differ from the "
                                         "statement of their fact by a character or two, so keep this high.")
    num_perm: int = Field(128, ge=16, le=512, description="datasketch MinHash permutations for the eval index.")


class DedupConfig(StrictModel):
    exact: bool = Field(True, description="Drop exact copies first (hash of the normalized text).")
    minhash: bool = Field(True, description="MinHash near-duplicate removal (datatrove's signatures, a datasketch "
                                            "LSH index).")
    threshold: float = Field(0.7, ge=0.3, le=0.99,
                             description="Jaccard similarity of word 5-grams above which docs are near-duplicates; "
                                         "mapped to buckets x hashes per bucket.")
    num_perm: int = Field(128, ge=16, le=1024, description="Total MinHash hashes (buckets x hashes_per_bucket budget).")
    miss_weight: float = Field(0.7, gt=0, lt=1,
                               description="Weight of missed duplicates vs. false matches when mapping `threshold` "
                                           "to the LSH shape (0.5 = balanced; higher = catch more near copies).")
    num_buckets: int | None = Field(None, ge=1, description="Set with hashes_per_bucket to bypass `threshold`.")
    hashes_per_bucket: int | None = Field(None, ge=1, description="Set with num_buckets to bypass `threshold`.")
    n_grams: int = Field(5, ge=1, le=32, description="Words per shingle (a CJK character counts as a word).")
    seed: int = Field(1, description="Seed of the MinHash permutations.")
    workers: int = Field(2, ge=1, le=256, description="Parallel datatrove tasks (processes).",
                         json_schema_extra={"cache_key": False})
    decontaminate: DecontamConfig = Field(default_factory=DecontamConfig)

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.num_buckets is None) != (self.hashes_per_bucket is None):
            raise ValueError("set both dedup.num_buckets and dedup.hashes_per_bucket, or neither")
        return self

    def lsh_shape(self) -> tuple[int, int]:
        """(buckets, hashes per bucket): explicit, or datasketch's optimum for `threshold` within `num_perm`."""
        if self.num_buckets is not None:
            return self.num_buckets, self.hashes_per_bucket
        from datasketch.lsh import _optimal_param

        return _optimal_param(self.threshold, self.num_perm, 1 - self.miss_weight, self.miss_weight)
