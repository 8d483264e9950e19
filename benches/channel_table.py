#!/usr/bin/env python3
"""Builds the channel bench table (README.md, channel section) from criterion's output.

Run after `cargo bench -p sluicegate-benches --bench channel`; reads
target/criterion/*/*/new/{benchmark,estimates}.json and prints Markdown:
messages/s (millions) per implementation, and sluicegate's ratio to flume
and to kanal (>1 means sluicegate is faster). Uses the median.
"""
import glob
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
rows = {}
pools = {}
for bench in glob.glob(os.path.join(root, "*", "*", "new", "benchmark.json")):
    meta = json.load(open(bench))
    if not (meta.get("throughput") or {}).get("Elements"):
        continue  # another bench's output (ns per operation, no throughput)
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    ns = est["median"]["point_estimate"]
    elements = meta["throughput"]["Elements"]
    rate = elements / ns * 1e3  # millions per second
    group = meta["group_id"]
    name = meta["value_str"] or meta["function_id"]
    if group.startswith("channel/"):
        rows.setdefault(group, {})[name] = rate
    elif group.startswith("worker_pool/"):
        pools.setdefault(group, {})[name] = rate

IMPLS = ["sluicegate", "flume", "kanal", "async-channel", "tokio-mpsc"]
RT_ORDER = {"tokio-ct": 0, "tokio-mt": 1, "smol": 2}
SHAPE_ORDER = {"spsc": 0, "mpsc4": 1, "mpmc4x4": 2}


def key(group):
    _, shape, cap, rt, msg = group.split("/")
    return (RT_ORDER[rt], msg != "u64", SHAPE_ORDER[shape], int(cap[3:]))


print("| runtime | msg | shape | cap | " + " | ".join(IMPLS) + " | vs flume | vs kanal |")
print("|---" * (6 + len(IMPLS)) + "|")
for group in sorted(rows, key=key):
    _, shape, cap, rt, msg = group.split("/")
    r = rows[group]
    cells = [f"{r[i]:.1f}" if i in r else "—" for i in IMPLS]
    s = r.get("sluicegate")
    vs = [f"{s / r[o]:.2f}×" if s and o in r else "—" for o in ("flume", "kanal")]
    print(f"| {rt} | {msg} | {shape} | {cap[3:]} | " + " | ".join(cells) + " | " + " | ".join(vs) + " |")

if pools:
    print()
    print("| runtime | queue (jobs/s, M) | semaphore (jobs/s, M) | queue / semaphore |")
    print("|---|---|---|---|")
    for group in sorted(pools, key=lambda g: RT_ORDER[g.split("/")[1]]):
        p = pools[group]
        q, s = p.get("queue"), p.get("semaphore")
        ratio = f"{q / s:.2f}×" if q and s else "—"
        print(f"| {group.split('/')[1]} | {q:.2f} | {s:.2f} | {ratio} |")
