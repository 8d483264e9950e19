#!/usr/bin/env python3
"""Turns criterion's results into the README's markdown tables.

    cargo bench -p sluicegate-benches
    python3 benches/report.py [target/criterion]

Reads `<group>/<contestant>/new/estimates.json` (the mean, in ns per
operation: the benches already divide by the operations of a round) and
prints one table per bench file: ns/op for every contestant, and the ratio
sluicegate / peer (below 1.00: sluicegate is faster).
"""

import json
import re
import sys
from pathlib import Path

SEM_PEERS = [
    ("tokio", "tokio (fair)"),
    ("async-lock", "async-lock (unfair)"),
    ("maitake-sync", "maitake-sync (fair)"),
    ("futures-intrusive", "futures-intrusive (fair)"),
]
EVENT_PEERS = [("tokio-notify", "tokio Notify")]
RUNTIMES = {"tokio-ct": "tokio current-thread", "tokio-mt": "tokio multi-thread", "smol": "smol"}


def mean_ns(root: Path, group: str, name: str):
    path = root / group / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["mean"]["point_estimate"]


def fmt_ns(ns):
    if ns is None:
        return "–"
    return f"{ns:.1f}" if ns < 100 else f"{ns:.0f}"


def fmt_ratio(ours, theirs):
    if ours is None or theirs is None:
        return "–"
    return f"{ours / theirs:.2f}"


def sem_row_label(group: str):
    if group == "sem_uncontended":
        return (0, "", 0, 0), "uncontended (hand-polled)"
    m = re.fullmatch(r"sem_(.+)_t(\d+)_p(\d+)", group)
    if not m:
        return None
    rt, tasks, permits = m.group(1), int(m.group(2)), int(m.group(3))
    order = list(RUNTIMES).index(rt) + 1 if rt in RUNTIMES else 9
    label = f"{RUNTIMES.get(rt, rt)}, {tasks} tasks, {permits} permit{'s' if permits > 1 else ''}"
    return (order, rt, tasks, permits), label


def event_row_label(group: str):
    if group == "event_handoff":
        return (0, ""), "set → wake → clear (hand-polled)"
    m = re.fullmatch(r"event_pingpong_(.+)", group)
    if not m:
        return None
    rt = m.group(1)
    order = list(RUNTIMES).index(rt) + 1 if rt in RUNTIMES else 9
    return (order, rt), f"ping-pong round trip, {RUNTIMES.get(rt, rt)}"


def table(root: Path, prefix: str, peers, labeller, best_col: bool):
    rows = []
    for group_dir in sorted(root.glob(prefix + "*")):
        parsed = labeller(group_dir.name)
        if parsed:
            rows.append((parsed[0], parsed[1], group_dir.name))
    if not rows:
        return []
    rows.sort()
    head = ["row", "sluicegate"]
    for _, title in peers:
        head += [title, "ratio"]
    if best_col:
        head.append("vs best peer")
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["--:"] * (len(head) - 1)) + "|"]
    for _, label, group in rows:
        ours = mean_ns(root, group, "sluicegate")
        cells = [label, fmt_ns(ours)]
        theirs_all = []
        for key, _ in peers:
            theirs = mean_ns(root, group, key)
            if theirs is not None:
                theirs_all.append(theirs)
            cells += [fmt_ns(theirs), fmt_ratio(ours, theirs)]
        if best_col:
            cells.append(fmt_ratio(ours, min(theirs_all)) if theirs_all else "–")
        out.append("| " + " | ".join(cells) + " |")
    return out


CANCEL_ROWS = [
    ("cancel_is_cancelled", "`is_cancelled()`"),
    ("cancel_ready_cancelled", "ready `cancelled()` (already cancelled)"),
    ("cancel_child_create_drop", "child create + drop"),
    ("cancel_fanout_10000", "`cancel()` waking 10,000 `cancelled()`"),
]


def cancel_table(root: Path):
    head = ["row", "sluicegate", "sluicegate `RootToken`", "tokio-util", "ratio", "`RootToken` ratio"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "--:|" * (len(head) - 1)]
    found = False
    for group, label in CANCEL_ROWS:
        ours = mean_ns(root, group, "sluicegate")
        flat = mean_ns(root, group, "sluicegate-root")
        theirs = mean_ns(root, group, "tokio-util")
        found |= ours is not None
        out.append("| " + " | ".join([
            label, fmt_ns(ours), fmt_ns(flat), fmt_ns(theirs),
            fmt_ratio(ours, theirs), fmt_ratio(flat, theirs),
        ]) + " |")
    return out if found else []


POOL_PEERS = [("deadpool", "deadpool"), ("deadpool-unmanaged", "deadpool unmanaged"), ("bb8", "bb8")]


def pool_row_label(group: str):
    if group == "pool_uncontended":
        return (0, "", 0, 0), "uncontended get+return, tokio current-thread"
    m = re.fullmatch(r"pool_(.+)_t(\d+)_p(\d+)", group)
    if not m:
        return None
    rt, tasks, size = m.group(1), int(m.group(2)), int(m.group(3))
    order = list(RUNTIMES).index(rt) + 1 if rt in RUNTIMES else 9
    return (order, rt, tasks, size), f"{RUNTIMES.get(rt, rt)}, {tasks} tasks, {size} objects"


def pool_table(root: Path):
    """Both sluicegate forms against each peer; ratios against the best peer."""
    rows = []
    for group_dir in sorted(root.glob("pool_*")):
        parsed = pool_row_label(group_dir.name)
        if parsed:
            rows.append((parsed[0], parsed[1], group_dir.name))
    if not rows:
        return []
    rows.sort()
    head = ["row", "sluicegate", "sluicegate unmanaged"] + [t for _, t in POOL_PEERS]
    head += ["managed / best peer", "unmanaged / best peer"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["--:"] * (len(head) - 1)) + "|"]
    for _, label, group in rows:
        ours = mean_ns(root, group, "sluicegate")
        ours_u = mean_ns(root, group, "sluicegate-unmanaged")
        theirs = [mean_ns(root, group, key) for key, _ in POOL_PEERS]
        known = [t for t in theirs if t is not None]
        best = min(known) if known else None
        cells = [label, fmt_ns(ours), fmt_ns(ours_u)] + [fmt_ns(t) for t in theirs]
        cells += [fmt_ratio(ours, best), fmt_ratio(ours_u, best)]
        out.append("| " + " | ".join(cells) + " |")
    return out


LIMIT_ROWS = [
    ("limit_rate_try_acquire_std", "`try_acquire`, std `Instant` clock", "governor"),
    ("limit_rate_try_acquire_quanta", "`try_acquire`, quanta clock", "governor"),
    ("limit_rate_try_acquire_2t_std", "`try_acquire`, 2 threads, std clock", "governor"),
    ("limit_rate_try_acquire_2t_quanta", "`try_acquire`, 2 threads, quanta clock", "governor"),
    ("limit_rate_refused", "`try_acquire` refused", "governor"),
    ("limit_rate_acquire_wait", "`acquire` that waits one interval", None),
    ("limit_adaptive_acquire_release_cheap", "adaptive acquire + `success()`, counter clock", "semaphore"),
    ("limit_adaptive_acquire_release_std", "adaptive acquire + `success()`, std clock", "semaphore"),
]


def limit_table(root: Path):
    head = ["row", "sluicegate", "peer", "peer ns", "ratio", "congestion-limiter", "ratio"]
    out = ["| " + " | ".join(head) + " |", "|---|---:|---|" + "--:|" * (len(head) - 3)]
    found = False
    for group, label, peer in LIMIT_ROWS:
        ours = mean_ns(root, group, "sluicegate")
        theirs = mean_ns(root, group, peer) if peer else None
        port = mean_ns(root, group, "congestion-limiter")
        found |= ours is not None
        out.append("| " + " | ".join([
            label, fmt_ns(ours), peer or "–", fmt_ns(theirs), fmt_ratio(ours, theirs),
            fmt_ns(port), fmt_ratio(ours, port),
        ]) + " |")
    return out if found else []


def generic_table(root: Path, prefix: str):
    """Every contestant of every `prefix*` group; sluicegate's forms against
    the best of the others (names not starting with `sluicegate`)."""
    groups = sorted(d for d in root.glob(prefix + "*") if d.is_dir())
    if not groups:
        return []
    names = []
    for g in groups:
        for c in sorted(p.name for p in g.iterdir() if (p / "new" / "estimates.json").exists()):
            if c not in names:
                names.append(c)
    ours = [n for n in names if n.startswith("sluicegate")]
    peers = [n for n in names if not n.startswith("sluicegate")]
    names = ours + peers
    head = ["row"] + names + [f"{o} / best peer" for o in ours]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["--:"] * (len(head) - 1)) + "|"]
    for g in groups:
        vals = {n: mean_ns(root, g.name, n) for n in names}
        known = [vals[p] for p in peers if vals[p] is not None]
        best = min(known) if known else None
        cells = [f"`{g.name}`"] + [fmt_ns(vals[n]) for n in names]
        cells += [fmt_ratio(vals[o], best) for o in ours]
        out.append("| " + " | ".join(cells) + " |")
    return out


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    sem = table(root, "sem_", SEM_PEERS, sem_row_label, best_col=True)
    if sem:
        print("ns per acquire+release (mean); ratio = sluicegate / peer, below 1.00 is faster.\n")
        print("\n".join(sem))
        print()
    ev = table(root, "event_", EVENT_PEERS, event_row_label, best_col=False)
    if ev:
        print("ns per hand-off or round trip (mean); ratio = sluicegate / tokio.\n")
        print("\n".join(ev))
        print()
    pool = pool_table(root)
    if pool:
        print("ns per get+return (mean); ratio = sluicegate / the best peer of the row, below 1.00 is faster.\n")
        print("\n".join(pool))
        print()
    cancel = cancel_table(root)
    if cancel:
        print("ns per operation (mean; the last row per cancel); ratio = sluicegate / tokio-util.\n")
        print("\n".join(cancel))
        print()
    limit = limit_table(root)
    if limit:
        print("ns per operation (mean); ratio = sluicegate / peer (governor's direct limiter, or the plain")
        print("`Semaphore` for the adaptive limiter's overhead), and sluicegate / congestion-limiter.\n")
        print("\n".join(limit))
        print()
    for prefix, what in [("tracker_", "task tracker"), ("group_", "task group")]:
        rows = generic_table(root, prefix)
        if rows:
            print(f"{what}: ns per operation (mean); ratio = each sluicegate form / the best peer of the row.\n")
            print("\n".join(rows))
            print()


if __name__ == "__main__":
    main()
