"""The whole-chain GPU table from `python -m zerollm status` JSON: seconds per stage, tokens/s and MFU
per training stage, held-out exact match with the paired change per model stage (bench/gpu_chain.sh)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def fmt(v, spec=".3f") -> str:
    return "—" if v is None else format(v, spec)


def table(status: dict, setup_s: float | None, chain_s: float | None) -> str:
    lines = ["| stage | seconds | tokens/s | MFU | exact match (held-out) | taught: Δ [95 %], fixed/broken | MC |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for s in status["stages"]:
        m = s.get("metrics") or {}
        taught = "—"
        if "qa_exact_match_delta" in m:
            taught = (f"{m['qa_exact_match_delta']:+.3f} [{m['qa_exact_match_delta_low']:+.3f}, "
                      f"{m['qa_exact_match_delta_high']:+.3f}], {m['qa_fixed']:.0f}/{m['qa_broken']:.0f}")
        mfu = m.get("mfu")
        lines.append(f"| {s['stage']} | {fmt(s.get('seconds'), '.1f')} | {fmt(m.get('tokens_per_s'), ',.0f')} "
                     f"| {'—' if mfu is None else f'{mfu * 100:.1f} %'} | {fmt(m.get('qa_exact_match'))} | {taught} "
                     f"| {fmt(m.get('qa_mc_accuracy'))} |")
    total = sum(s.get("seconds") or 0 for s in status["stages"])
    lines.append("")
    lines.append(f"stages {total:.0f} s" + (f", set-up {setup_s:.0f} s" if setup_s is not None else "")
                 + (f", whole command {setup_s + chain_s:.0f} s" if setup_s is not None and chain_s else ""))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("status", type=Path)
    ap.add_argument("--setup-seconds", type=float)
    ap.add_argument("--chain-seconds", type=float)
    a = ap.parse_args()
    print(table(json.loads(a.status.read_text()), a.setup_seconds, a.chain_seconds))


if __name__ == "__main__":
    main()
