"""The per-shard half of dedup, as a datatrove step: for each document, the hash of its normalized
text, its MinHash signature (datatrove's shingling and hashing) and the evaluation item it contains,
if any. Written per task to `<folder>/<rank>/`: sig.npy (one uint64 row per doc) and docs.jsonl."""

from __future__ import annotations

import hashlib
import json

from datatrove.pipeline.base import PipelineStep


class ShardSignatures(PipelineStep):
    name = "🔏 Signatures (exact, MinHash, eval items)"
    type = "🫂 - DEDUP"

    def __init__(self, output_folder: str, cfg, buckets: int, per_bucket: int, item_files: list[str]):
        super().__init__()
        self.output_folder = output_folder
        self.cfg = cfg
        self.buckets, self.per_bucket = buckets, per_bucket
        self.item_files = item_files

    def run(self, data, rank: int = 0, world_size: int = 1):
        from pathlib import Path

        import numpy as np
        from datatrove.pipeline.dedup import MinhashDedupSignature
        from datatrove.pipeline.dedup.minhash import MinhashConfig
        from datatrove.utils.hashing import HashConfig
        from datatrove.utils.text import TextNormConfig, simplify_text

        from zerollm.dedup.decontam import DecontamFilter
        from zerollm.dedup.text import MixedScriptTokenizer

        mh = MinhashConfig(n_grams=self.cfg.n_grams, num_buckets=self.buckets, hashes_per_bucket=self.per_bucket,
                           seed=self.cfg.seed, hash_config=HashConfig(precision=64, hash_fc="xxhash"))
        signer = MinhashDedupSignature(self.output_folder, config=mh, language=MixedScriptTokenizer())
        dc = self.cfg.decontaminate
        decontam = DecontamFilter(self.item_files, dc.threshold, dc.num_perm) if self.item_files else None
        width = self.buckets * self.per_bucket
        out = Path(self.output_folder) / f"{rank:05d}"
        out.mkdir(parents=True, exist_ok=True)
        rows, sigs = [], []
        with self.track_time():
            for doc in data:
                self.stat_update("documents")
                row = {"id": doc.id, "exact": hashlib.sha1(
                    simplify_text(doc.text, TextNormConfig()).encode("utf-8")).hexdigest(), "signed": False}
                sig = np.zeros(width, dtype=np.uint64)
                if self.cfg.minhash:
                    shingles = signer.get_shingles(doc.text)
                    if shingles.size:  # too short for one shingle: never a near copy (as in datatrove)
                        sig = np.asarray(signer.get_signature(shingles), dtype=np.uint64).reshape(-1)
                        row["signed"] = True
                if decontam is not None and decontam.filter(doc) is not True:
                    row["contaminated_with"] = doc.metadata.get("contaminated_with")
                    self.stat_update("contaminated")
                rows.append(row)
                sigs.append(sig)
        np.save(out / "sig.npy", np.stack(sigs) if sigs else np.zeros((0, width), dtype=np.uint64),
                allow_pickle=False)
        with open(out / "docs.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return
        yield  # a generator, as datatrove expects of a step; it passes nothing on
