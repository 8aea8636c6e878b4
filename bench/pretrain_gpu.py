"""Pretraining throughput through the stage's real code path (zerollm.pretrain.train: its data loader,
training step, optimizer, compile), plus the multi-GPU check.

    python bench/pretrain_gpu.py single  --micro-batch 32 --steps 60     # one GPU, 124m preset, seq 1024
    python bench/pretrain_gpu.py scaling --devices 2 --steps 60          # 1 GPU vs torchrun on N GPUs
    python bench/pretrain_gpu.py cpu --steps 20                          # tiny preset on this machine's CPU
    python bench/pretrain_gpu.py record RESULTS.json                     # write docs/benchmarks.md

Runs on a bare GPU box (no Prefect/MLflow): tokens are a synthetic stream with structure (so the loss
falls and curves can be compared), written as a tokenizer-stage directory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def token_dir(root: Path, vocab: int, n_tokens: int) -> Path:
    d = root / f"tokens-v{vocab}"
    if (d / "index.json").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    # a Markov-ish stream: each token mostly determines the next, 20 % noise
    nxt = rng.integers(4, vocab, size=vocab)
    toks = np.empty(n_tokens, dtype=np.uint16)
    toks[0] = 5
    noise = rng.integers(4, vocab, size=n_tokens)
    flip = rng.random(n_tokens) < 0.2
    for i in range(1, n_tokens):
        toks[i] = noise[i] if flip[i] else nxt[toks[i - 1]]
    split = n_tokens - n_tokens // 50
    toks[:split].tofile(d / "train.bin")
    toks[split:].tofile(d / "val.bin")
    index = {"dtype": "uint16", "vocab_size": vocab, "bos_id": 1, "eos_id": 2, "pad_id": 3, "separator": "eos",
             "files": {"train": {"tokens": "train.bin"}, "val": {"tokens": "val.bin"}},
             "train": {"tokens": split, "docs": 1, "bytes": split * 4},
             "val": {"tokens": n_tokens - split, "docs": 1, "bytes": (n_tokens - split) * 4}}
    (d / "index.json").write_text(json.dumps(index))
    return d


def gpu_cfg(args, devices: int = 1, micro_batch: int | None = None):
    from zerollm.pretrain.config import PretrainConfig

    mb = micro_batch or args.micro_batch
    return PretrainConfig(preset=args.preset, seq_len=args.seq_len, micro_batch=mb,
                          batch_tokens=args.global_batch or mb * args.seq_len * devices, max_steps=args.steps,
                          warmup_steps=10, lr=args.lr, log_every=args.log_every, eval_every=10**9,
                          checkpoint_every=10**9, samples=0, devices=devices, tie_embeddings=args.tied,
                          compile="on" if args.compile else "off", profile_steps=args.profile,
                          attention=args.attention, kernels=args.kernels)


def run_single(args, data: Path, work: Path, devices: int = 1, micro_batch: int | None = None) -> dict:
    cfg = gpu_cfg(args, devices, micro_batch)
    if devices == 1:
        from zerollm.pretrain.train import train

        summary = train(cfg, data, work)
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={devices}", "-m",
               "zerollm.pretrain", "--data", str(data), "--work", str(work), "--config-json", cfg.model_dump_json(),
               "--summary", str(work / "summary.json")]
        subprocess.run(cmd, check=True, env={**os.environ, "NCCL_NVLS_ENABLE": "0"})
        summary = json.loads((work / "summary.json").read_text())
    if (work / "profile.txt").exists():
        Path(args.out, f"profile-{work.name}.txt").write_text((work / "profile.txt").read_text())
    hist = [json.loads(x) for x in (work / "metrics.jsonl").read_text().splitlines() if x.strip()]
    summary["curve"] = [(h["step"], round(h["train_loss"], 4)) for h in hist if "train_loss" in h]
    summary["config"] = {k: getattr(cfg, k) for k in ("preset", "seq_len", "micro_batch", "batch_tokens",
                                                     "max_steps", "devices", "tie_embeddings", "attention", "kernels")}
    return summary


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"CPU ({os.cpu_count()} cores), torch {torch.__version__}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["single", "scaling", "cpu", "record"])
    ap.add_argument("results", nargs="?")
    ap.add_argument("--preset", default="124m")
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--micro-batch", type=int, default=32)
    ap.add_argument("--global-batch", type=int, default=0, help="tokens per step (default: micro x seq x devices)")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--no-compile", dest="compile", action="store_false")
    ap.add_argument("--attention", default="auto")
    ap.add_argument("--kernels", default="auto", choices=["auto", "liger", "torch"])
    ap.add_argument("--profile", type=int, default=0, help="profile N steps; profile.txt lands in --out")
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/zerollm-bench"))
    args = ap.parse_args()
    if args.mode == "record":
        return record(Path(args.results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if args.mode == "cpu":
        args.preset, args.seq_len, args.micro_batch, args.vocab, args.compile = "tiny", 256, 16, 4096, False
    data = token_dir(Path("/tmp/zerollm-bench-data"), args.vocab, 4_000_000)
    result = {"mode": args.mode, "date": time.strftime("%Y-%m-%d"), "device": device_name(),
              "python": platform.python_version()}
    if args.mode in ("single", "cpu"):
        result["runs"] = [run_single(args, data, Path(f"/tmp/zerollm-bench-work/{stamp}"))]
    else:
        # same global batch on 1 GPU (accumulating) and on N GPUs: the curves must agree
        args.global_batch = args.micro_batch * args.seq_len * args.devices
        one = run_single(args, data, Path(f"/tmp/zerollm-bench-work/{stamp}-1"), 1)
        many = run_single(args, data, Path(f"/tmp/zerollm-bench-work/{stamp}-{args.devices}"), args.devices)
        a, b = np.array([l for _, l in one["curve"]]), np.array([l for _, l in many["curve"]])
        result["runs"] = [one, many]
        result["max_abs_loss_diff"] = float(np.abs(a - b).max())
        result["scaling"] = many["tokens_per_s"] / one["tokens_per_s"]
    print(json.dumps(result, indent=1))
    (out / f"pretrain-{args.mode}-{stamp}.json").write_text(json.dumps(result, indent=1))


def record(path: Path) -> None:
    """Append or replace this result's section in docs/benchmarks.md."""
    r = json.loads(path.read_text())
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text()
    tag = f"pretrain_gpu.py:{r['mode']}"
    lines = [f"<!-- {tag} -->", f"## pretrain ({r['mode']}) — `bench/pretrain_gpu.py {r['mode']}`", "",
             f"{r['date']}, {r['device']}.", "",
             "| preset | params | tied emb. | attention | seq | micro batch | tokens/step | devices | steps "
             "| tokens/s (median) | MFU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in r["runs"]:
        c = run["config"]
        mfu = f"{run['mfu'] * 100:.1f} %" if run.get("mfu") else "—"
        lines.append(f"| {c['preset']} | {run['params'] / 1e6:.1f}M | {'yes' if c['tie_embeddings'] else 'no'} "
                     f"| {c.get('attention', 'auto')} | {c['seq_len']} | {c['micro_batch']} | {c['batch_tokens']:,} "
                     f"| {c['devices']} | {c['max_steps']} | {run['tokens_per_s']:,.0f} | {mfu} |")
    if "scaling" in r:
        lines += ["", f"Throughput scaling {r['runs'][1]['config']['devices']} GPUs vs 1 at the same global batch: "
                  f"{r['scaling']:.2f}x; max |loss difference| over the curve: {r['max_abs_loss_diff']:.4f}."]
    if r.get("notes"):
        lines += ["", r["notes"]]
    lines.append(f"<!-- /{tag} -->")
    body = "\n".join(lines)
    pattern = re.compile(rf"<!-- {re.escape(tag)} -->.*?<!-- /{re.escape(tag)} -->", re.S)
    text = pattern.sub(body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
