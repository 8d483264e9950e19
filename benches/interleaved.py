#!/usr/bin/env python3
"""Drift-robust semaphore comparison on tokio's current-thread runtime.

    cargo build --profile bench -p sluicegate-benches --example contended
    python3 benches/interleaved.py [repetitions]

Runs `target/release/examples/contended` for every contestant in turn,
`repetitions` times (default 9) per row, so that a change in the shared
machine's speed during the run hits every contestant alike; prints the
median ns per acquire+release and sluicegate's ratio to each peer (below
1.00: sluicegate is faster). Same workload as the criterion `semaphore`
bench's tokio current-thread rows: `tasks` tasks, each doing 256
acquire/yield/release cycles.
"""

import statistics
import subprocess
import sys
from pathlib import Path

BIN = Path(__file__).resolve().parent.parent / "target/release/examples/contended"
CONTESTANTS = [
    ("sluicegate", "sluicegate (fair)"),
    ("futures-intrusive", "futures-intrusive (fair)"),
    ("tokio", "tokio (fair)"),
    ("maitake-sync", "maitake-sync (fair)"),
    ("async-lock", "async-lock (unfair)"),
]
ROWS = [(2, 1), (2, 8), (16, 1), (16, 8), (256, 1), (256, 8)]
OPS_PER_RUN = 2_000_000


def once(name: str, tasks: int, permits: int) -> float:
    rounds = max(1, OPS_PER_RUN // (tasks * 256))
    out = subprocess.run(
        [str(BIN), name, str(tasks), str(permits), str(rounds)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.split()[0])


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    if not BIN.exists():
        sys.exit(f"{BIN} is missing: build the `contended` example first")
    heads = " | ".join(f"{label} | ratio" for _, label in CONTESTANTS[1:])
    print(f"median of {reps} interleaved runs, ns per acquire+release\n")
    print(f"| tasks / permits | sluicegate | {heads} |")
    print("|---|--:|" + "--:|--:|" * (len(CONTESTANTS) - 1))
    for tasks, permits in ROWS:
        samples = {name: [] for name, _ in CONTESTANTS}
        for _ in range(reps):
            for name, _ in CONTESTANTS:
                samples[name].append(once(name, tasks, permits))
        med = {name: statistics.median(v) for name, v in samples.items()}
        ours = med["sluicegate"]
        cells = " | ".join(
            f"{med[name]:.1f} | {ours / med[name]:.2f}" for name, _ in CONTESTANTS[1:]
        )
        print(f"| {tasks} / {permits} | {ours:.1f} | {cells} |")


if __name__ == "__main__":
    main()
