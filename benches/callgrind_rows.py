#!/usr/bin/env python3
"""Instructions per operation of every callgrind driver's rows, before and
after a change.

    cargo build --profile bench -p sluicegate-benches --examples
    python3 benches/callgrind_rows.py [--before DIR] [--after DIR] [--only TEXT] [-j N]

Each row runs under `valgrind --tool=callgrind` twice, with `n` and `2n`
operations; (instructions at 2n - instructions at n) / n is the cost of
one operation, without start-up and runtime construction. Instruction
counts do not depend on the machine's load, so a before/after comparison
holds on a busy machine where timings do not. `--after` defaults to
`target/release/examples`; `--before` is a directory holding the same
example binaries built from the commit to compare against (for instance
from `git worktree add` or `git archive` of it, built with `--target-dir`).
Rows whose driver is missing from a directory are left blank.

The rows: every row of `examples/lock_rows.rs` (the primitives that share
the wait list and its lock), the sluicegate rows of `contended` (semaphore),
`ping_pong` (condition), `cancel_ops` and `channel_flow` (tokio
current-thread, and smol where the driver has it).
"""

import argparse
import concurrent.futures as cf
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rows():
    """(label, binary, args with {n} for the operation count, n, ops per n)."""
    out = []
    lock_rows = {
        "sem-uncontended": 20000,
        "event-handoff": 20000,
        "event-pingpong": 20000,
        "tracker-wait-drained": 20000,
        "tracker-drain-one-waiter": 20000,
        "breaker-call": 20000,
        "breaker-try-acquire": 20000,
        "breaker-window": 20000,
        "timeout-manual-clock": 20000,
        "pool-queue": 5000,
        "pool-semaphore": 5000,
    }
    for row, n in lock_rows.items():
        out.append((row, "lock_rows", [row, "{n}"], n, 1))
    for tasks, permits in [(2, 1), (2, 8), (16, 1), (16, 8), (256, 1), (256, 8)]:
        rounds = max(1, 20000 // (tasks * 256))
        out.append((f"semaphore {tasks}/{permits}", "contended",
                    ["sluicegate", tasks, permits, "{n}"], rounds, tasks * 256))
    out.append(("condition ping-pong", "ping_pong", ["condition", "{n}"], 20000, 1))
    for op in ["token", "track_future"]:
        out.append((f"tracker {op}", "tracker_ops", ["sluicegate", op, "{n}"], 20000, 1))
    for op, n, per in [("is-cancelled", 20000, 1), ("ready", 20000, 1),
                       ("create-drop", 20000, 1), ("fanout", 2, 10000)]:
        out.append((f"cancel {op}", "cancel_ops", ["sluicegate", op, "{n}"], n, per))
    for runtime in ["tokio-ct", "smol"]:
        for msg in ["u64", "64B"]:
            for shape, p, c in [("spsc", 1, 1), ("mpsc4", 4, 1), ("mpmc4x4", 4, 4)]:
                for cap in [1, 16, 1024]:
                    args = ["sluicegate", p, c, cap, "{n}", msg]
                    if runtime != "tokio-ct":
                        args.append(runtime)
                    out.append((f"channel {runtime} {msg} {shape} cap{cap}",
                                "channel_flow", args, 50000, 1))
    return out


def instructions(binary: Path, args) -> int:
    with tempfile.NamedTemporaryFile(prefix="cg.", dir="/tmp", delete=False) as f:
        path = f.name
    try:
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={path}",
             str(binary), *map(str, args)],
            check=True, capture_output=True,
        )
        with open(path) as f:
            for line in f:
                if line.startswith(("totals:", "summary:")):
                    return int(line.split()[1])
    finally:
        os.unlink(path)
    raise RuntimeError(f"no totals from callgrind for {binary} {args}")


def per_op(pool, directory: Path, binary: str, args, n: int, per: int):
    path = directory / binary
    if not path.exists():
        return None
    runs = [pool.submit(instructions, path, [str(a).replace("{n}", str(k)) for a in args])
            for k in (n, 2 * n)]
    return lambda: (runs[1].result() - runs[0].result()) / (n * per)


def supports(directory: Path, binary: str, args) -> bool:
    """A driver built before it took a runtime argument rejects one."""
    if binary != "channel_flow" or len(args) < 7:
        return True
    probe = subprocess.run([str(directory / binary), *map(str, args[:4]), "1", args[5], args[6]],
                           capture_output=True)
    return probe.returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path)
    ap.add_argument("--after", type=Path, default=ROOT / "target/release/examples")
    ap.add_argument("--only", default="")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    opts = ap.parse_args()
    todo = [r for r in rows() if opts.only in r[0]]
    dirs = [d for d in (opts.before, opts.after) if d is not None]
    with cf.ThreadPoolExecutor(opts.j) as pool:
        pending = []
        for label, binary, args, n, per in todo:
            cells = []
            for d in dirs:
                ok = (d / binary).exists() and supports(d, binary, args)
                cells.append(per_op(pool, d, binary, args, n, per) if ok else None)
            pending.append((label, cells))
        heads = " | ".join(["before", "after", "change"] if opts.before else ["instructions"])
        print(f"| row | {heads} |")
        print("|---|" + "--:|" * (3 if opts.before else 1))
        for label, cells in pending:
            values = [c() if c else None for c in cells]
            text = [f"{v:.1f}" if v is not None else "" for v in values]
            if opts.before:
                b, a = values
                text.append(f"{(a - b) / b * 100:+.1f} %" if a is not None and b else "")
            print(f"| {label} | {' | '.join(text)} |", flush=True)


if __name__ == "__main__":
    main()
