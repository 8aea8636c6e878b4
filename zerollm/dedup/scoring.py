"""Score a dedup run against planted duplicates: precision, recall, F1 over removal decisions.

A group is an original plus its planted copies; the right outcome is exactly one survivor per group.
A removed doc is a true positive while another member of its group survives; removing a doc outside
any group, or the last member of a group, is a false positive; each extra survivor is a false negative.
"""

from __future__ import annotations

from collections import defaultdict


def score(pairs: list[tuple[str, str]], all_ids: set[str], kept_ids: set[str]) -> dict:
    """`pairs`: (copy_id, original_id) for every planted copy."""
    groups: dict[str, set[str]] = defaultdict(set)
    for copy_id, orig in pairs:
        groups[orig].update((orig, copy_id))
    member = {m for g in groups.values() for m in g}
    tp = fp = fn = both_removed = 0
    for g in groups.values():
        kept = len(g & kept_ids)
        removed = len(g) - kept
        if kept == 0:
            both_removed += 1
            tp += removed - 1
            fp += 1
        else:
            tp += removed
            fn += kept - 1
    fp += len((all_ids - member) - kept_ids)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn,
            "groups_fully_removed": both_removed}
