"""Benchmark a scheduled run that takes in new data, on real English text: Debian's package
documentation (/usr/share/doc: READMEs, changelogs, NEWS, copyright files), cut into documents.

    .venv/bin/python bench/incremental.py [--mb 16] [--files 10] [--steps 300]

1. Data stages (collect → filter → dedup): a workdir that has processed `--files` files takes in one
   more file holding 10 % more documents; timed against a fresh run over all the files. The two must
   keep the same document ids.
2. Continued pretraining: the model trained from scratch on the old files continues on the new tokens
   (`pretrain.init: continue`, replay 0.25) and is timed against pretraining from scratch on all files;
   all three models are scored on the same held-out split (loss in bits per byte).

Results go to docs/benchmarks.md (its own section).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.report import machine, put_section  # noqa: E402

DOCS = Path("/usr/share/doc")
NAMES = re.compile(r"^(README|NEWS|changelog|copyright|AUTHORS|TODO|FAQ|HISTORY|CHANGES)", re.I)
DOC_CHARS = (400, 12_000)  # a document: a file, or a piece of one, of this many characters
DATA = ("collect", "filter", "dedup")


def debian_docs(limit_mb: float) -> list[dict]:
    """Documents from the text files of /usr/share/doc, in path order (reproducible on one machine)."""
    docs, size = [], 0
    for path in sorted(DOCS.rglob("*")):
        if not path.is_file() or not NAMES.match(path.name) or \
                path.suffix not in ("", ".gz", ".txt", ".md", ".Debian"):
            continue
        try:
            raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError):
            continue
        parts, cur = [], ""
        for block in text.split("\n\n"):
            cur = f"{cur}\n\n{block}" if cur else block
            if len(cur) >= DOC_CHARS[1] // 2:
                parts.append(cur)
                cur = ""
        parts.append(cur)
        for i, part in enumerate(p for p in parts if len(p.strip()) >= DOC_CHARS[0]):
            docs.append({"id": f"{path.relative_to(DOCS)}#{i}", "text": part[: DOC_CHARS[1]]})
            size += len(part)
        if size > limit_mb * 1e6:
            break
    return docs


def write_files(folder: Path, docs: list[dict], n: int, prefix: str) -> None:
    per = math.ceil(len(docs) / n)
    for k in range(n):
        with open(folder / f"{prefix}{k:03d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(d) + "\n" for d in docs[k * per : (k + 1) * per])


def config(inbox: Path, *more: str):
    from zerollm.config import load_config
    from zerollm.pipeline_config import PipelineConfig

    return load_config(PipelineConfig, REPO / "configs" / "tiny.yaml", [
        f"collect.sources=[{{type: jsonl, path: '{inbox}/*.jsonl', id_key: id}}]", "filter.preset=docs",
        "tracking.enabled=false", "pretrain.probe.enabled=false", *more])


def run(cfg, work: Path, until: str) -> tuple[float, dict]:
    from zerollm.runner import run_pipeline

    t0 = time.perf_counter()
    outs = run_pipeline(cfg, work, until=until)
    return time.perf_counter() - t0, {o.stage: o for o in outs}


def kept_ids(work: Path, out: dict) -> list[str]:
    from zerollm.io.shards import read_docs

    return [d["id"] for d in read_docs(work / out["dedup"].dir / "shards")]


def heldout_bpb(model_dir: Path, data_dir: Path, batches: int = 40) -> float:
    """Loss in bits per byte of a model on the tokenizer output's whole val split (same windows for all)."""
    import torch
    import torch.nn.functional as F
    from transformers import LlamaForCausalLM

    from zerollm.pretrain.data import TokenWindows, read_index

    index = read_index(data_dir)
    val = TokenWindows(data_dir / "val.bin", index["dtype"], 256, 0, shuffle=False)
    model = LlamaForCausalLM.from_pretrained(model_dir).eval()
    losses = []
    with torch.no_grad():
        for b in range(min(batches, math.ceil(val.n / 16))):
            x = torch.from_numpy(val.batch(b * 16, min(16, val.n - b * 16)))
            logits = model(input_ids=x[:, :-1]).logits.float()
            losses.append(F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1)).item())
    nats = sum(losses) / len(losses)
    return nats / math.log(2) * index["val"]["tokens"] / index["val"]["bytes"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=16.0, help="corpus size (old files)")
    ap.add_argument("--files", type=int, default=10, help="old files; one more file brings 10 %% new documents")
    ap.add_argument("--steps", type=int, default=300, help="pretrain.max_steps from scratch")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-data", action="store_true", help="keep the data section of docs/benchmarks.md")
    ap.add_argument("--root", default=None, help="keep the workdirs here: a rerun reuses the parent and the "
                                                 "scratch model through the cache")
    ap.add_argument("--set", action="append", default=[], dest="overrides", help="for the continued run")
    args = ap.parse_args()
    docs = debian_docs(args.mb * 1.1)
    old, new = docs[: int(len(docs) / 1.1)], docs[int(len(docs) / 1.1):]
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="zerollm-incremental-"))
    inbox = root / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    write_files(inbox, old, args.files, "old-")
    train = [f"pretrain.max_steps={args.steps}", "pretrain.eval_every=100000", "pretrain.checkpoint_every=100000",
             "pretrain.samples=0"]

    # 1. data stages, in fresh workdirs
    inc, full = root / "incremental", root / "full"
    data = None
    if args.skip_data:
        write_files(inbox, new, 1, "new-")
    else:
        shutil.rmtree(inc, ignore_errors=True)
        run(config(inbox, *train), inc, "dedup")
        write_files(inbox, new, 1, "new-")
        inc_s, inc_out = run(config(inbox, *train), inc, "dedup")
        for stage in DATA:  # the scratch model of a kept root stays; its data stages are timed afresh
            shutil.rmtree(full / "stages" / stage, ignore_errors=True)
        shutil.rmtree(full / "units", ignore_errors=True)
        full_s, full_out = run(config(inbox, *train), full, "dedup")
        same = kept_ids(inc, inc_out) == kept_ids(full, full_out)
        stage = {s: (inc_out[s].seconds, full_out[s].seconds) for s in DATA}
        data = {"docs_old": len(old), "docs_new": len(new),
                "mb": round(sum(len(d["text"]) for d in docs) / 1e6, 1),
                "incremental_s": inc_s, "full_s": full_s, "stages": stage, "same_ids": same,
                "history_removed": inc_out["dedup"].metrics.get("history_removed"),
                "docs_kept": full_out["dedup"].metrics["docs_out"]}
        print(json.dumps(data, indent=1))

    result = {"data": data, "date": time.strftime("%Y-%m-%d"), "machine": machine(), "steps": args.steps}
    if not args.skip_train:
        # 2. pretraining: scratch on old (the parent), continued on new, scratch on all
        lin = root / "lineage"
        shutil.rmtree(root / "inbox-old", ignore_errors=True)
        (root / "inbox-old").mkdir()
        for f in sorted(inbox.glob("old-*.jsonl")):
            shutil.copy(f, root / "inbox-old" / f.name)
        _, parent_out = run(config(root / "inbox-old", *train), lin, "pretrain")
        for f in sorted(inbox.glob("new-*.jsonl")):
            shutil.copy(f, root / "inbox-old" / f.name)
        cont_s, cont_out = run(config(root / "inbox-old", *train, "pretrain.init=continue", *args.overrides), lin,
                               "pretrain")
        scratch_s, scratch_out = run(config(inbox, *train), full, "pretrain")
        tok = lin / cont_out["tokenizer"].dir
        # each model on the val split of its own tokenizer: the same documents (chosen by id hash), and bits
        # per byte do not depend on the vocabulary; the parent is scored on its child's split (same vocabulary)
        bpb = {"parent": heldout_bpb(lin / parent_out["pretrain"].dir / "model", tok),
               "continued": heldout_bpb(lin / cont_out["pretrain"].dir / "model", tok),
               "scratch_all": heldout_bpb(full / scratch_out["pretrain"].dir / "model",
                                          full / scratch_out["tokenizer"].dir)}
        def took(o) -> float:  # a cache hit of a kept --root: how long building it took
            return o.built_seconds if o.cache_hit else o.seconds

        result["train"] = {
            "continued_s": took(cont_out["pretrain"]), "scratch_s": took(scratch_out["pretrain"]),
            "continued_steps": cont_out["pretrain"].metrics["steps"], "scratch_steps": args.steps,
            "tokenizer_continued_s": took(cont_out["tokenizer"]),
            "tokenizer_scratch_s": took(scratch_out["tokenizer"]),
            "new_tokens": cont_out["pretrain"].metrics["continue_new_tokens"],
            "old_tokens": cont_out["pretrain"].metrics["continue_old_tokens"], "bpb": bpb}
        print(json.dumps(result["train"], indent=1))
    result["overrides"] = args.overrides
    if not args.skip_data:
        write(result)
    if not args.root:
        shutil.rmtree(root, ignore_errors=True)


def write(r: dict) -> None:
    d = r["data"]
    rows = "\n".join(f"| {s} | {a:.1f} | {b:.1f} | {a / b:.0%} |" for s, (a, b) in d["stages"].items())
    inc_stage = sum(a for a, _ in d["stages"].values())
    full_stage = sum(b for _, b in d["stages"].values())
    body = f"""<!-- incremental -->
## incremental scheduled run — `bench/incremental.py`

{r['date']}, {r['machine']}. Real English text: Debian's package documentation (/usr/share/doc READMEs,
changelogs, NEWS, copyright files), {d['mb']} MB in {d['docs_old'] + d['docs_new']:,} documents. A workdir
that has processed {d['docs_old']:,} documents takes in one new file of {d['docs_new']:,} (+10 %); a fresh
workdir processes all the files. Same kept ids: **{d['same_ids']}** ({d['docs_kept']:,} kept;
{d['history_removed']} new documents removed as copies of earlier data).

| data stage | incremental s | full s | ratio |
|---|---|---|---|
{rows}
| **collect + filter + dedup** | **{inc_stage:.1f}** | **{full_stage:.1f}** | **{inc_stage / full_stage:.0%}** (target ≤ 25 %) |
| the whole run, wall (plan, hashing every source file, the three stages) | {d['incremental_s']:.1f} | {d['full_s']:.1f} | {d['incremental_s'] / d['full_s']:.0%} |
"""
    if "train" in r:
        t = r["train"]
        b = t["bpb"]
        body += f"""
Pretraining (configs/tiny.yaml's model, {r['steps']} steps from scratch): the parent trained from scratch on
the old documents continues on the {t['new_tokens']:,.0f} new tokens ({t['old_tokens']:,.0f} old; the defaults:
replay 45 %, re-warm to 0.1 × lr; {t['continued_steps']:.0f} steps), against pretraining from scratch on all
documents. Held-out loss on the same val documents (old and new documents), bits per byte, lower is better:

| | seconds | steps | held-out bpb |
|---|---|---|---|
| parent (scratch, old documents) | | {r['steps']} | {b['parent']:.4f} |
| **continued** on the new tokens | **{t['continued_s']:.1f}** | {t['continued_steps']:.0f} | **{b['continued']:.4f}** |
| scratch on all documents | {t['scratch_s']:.1f} | {t['scratch_steps']} | {b['scratch_all']:.4f} |
| continued / scratch | **{t['continued_s'] / t['scratch_s']:.0%}** (target ≤ 30 %) | | |

The tokenizer stage of the continued run copies its parent's vocabulary and encodes only the new
shards: {t['tokenizer_continued_s']:.1f} s, against {t['tokenizer_scratch_s']:.1f} s to train and encode from
scratch.
"""
    put_section("incremental", body + "<!-- /incremental -->")


if __name__ == "__main__":
    main()
