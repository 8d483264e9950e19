#!/usr/bin/env python3
"""Drift-robust comparisons on tokio's current-thread runtime.

    cargo build --profile bench -p sluicegate-benches --examples
    python3 benches/interleaved.py semaphore [repetitions]
    python3 benches/interleaved.py condition [repetitions]
    python3 benches/interleaved.py channel [repetitions] [tokio-ct|smol]
    python3 benches/interleaved.py channel-cap1 [repetitions]

Runs one example binary per contestant in turn, `repetitions` times
(default 9) per row, so that a change in the shared machine's speed during
the run hits every contestant alike, and prints medians. Ratios are the
median of the per-repetition ratios (sluicegate's run and the peer's ran
back to back), with a distribution-free 95 % confidence interval for that
median in brackets once there are 6 or more repetitions (time ratios: below
1.00, sluicegate is faster).

- `semaphore`: `examples/contended.rs`, the workload of the criterion
  `semaphore` bench's tokio current-thread rows (`tasks` tasks, each doing
  256 acquire/yield/release cycles); ns per acquire+release.
- `condition`: `examples/ping_pong.rs`, the workload of the criterion
  `condition` bench (two tasks signalling each other); ns per round trip.
- `channel`: `examples/channel_flow.rs`, the workload of the criterion
  `channel` bench's tokio current-thread rows; millions of messages/s and
  sluicegate's throughput ratio to flume and kanal (above 1.00, sluicegate
  is faster).
  With `smol` as a third argument, the same rows on a one-thread
  `smol::Executor` (the criterion bench's smol rows).
- `channel-cap1`: the capacity-1 rows of `channel` against flume only (the
  rows where the two are closest), with the order inside each pair
  alternated so that neither contestant always runs second.
"""

import math
import statistics
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "target/release/examples"

SEMAPHORE = [
    ("sluicegate", "sluicegate (fair)"),
    ("futures-intrusive", "futures-intrusive (fair)"),
    ("tokio", "tokio (fair)"),
    ("maitake-sync", "maitake-sync (fair)"),
    ("async-lock", "async-lock (unfair)"),
]
SEMAPHORE_ROWS = [(2, 1), (2, 8), (16, 1), (16, 8), (256, 1), (256, 8)]
SEMAPHORE_OPS = 2_000_000

CONDITION = [
    ("condition", "sluicegate `Condition` + async-lock `Mutex`"),
    ("notify", "tokio `Notify`"),
    ("notify-mutex", "tokio `Notify` + async-lock `Mutex` turn flag"),
    ("maitake", "maitake-sync `WaitQueue`"),
    ("event-listener", "`event_listener::Event` + flag"),
]
CONDITION_ROUND_TRIPS = 1_000_000

CHANNEL = ["sluicegate", "flume", "kanal"]
CHANNEL_SHAPES = [("spsc", 1, 1), ("mpsc 4", 4, 1), ("mpmc 4×4", 4, 4)]
CHANNEL_CAPS = [1, 16, 1024]
CHANNEL_MESSAGES = 400_000


def run(binary: str, *args) -> float:
    path = EXAMPLES / binary
    if not path.exists():
        sys.exit(f"{path} is missing: build the examples first (see --help)")
    out = subprocess.run(
        [str(path), *map(str, args)], check=True, capture_output=True, text=True
    ).stdout
    return float(out.split()[0])


def paired(ours: list, peer: list) -> str:
    """Median of the per-repetition ratios ours/peer (each pair ran back to
    back, so it shares the machine's state) with a distribution-free 95 %
    confidence interval for that median (binomial order statistics)."""
    ratios = sorted(o / p for o, p in zip(ours, peer))
    n = len(ratios)
    med = statistics.median(ratios)
    # Largest k with P(Binomial(n, 1/2) < k) <= 2.5 %: [r_k, r_{n+1-k}]
    # (1-based) then covers the median with at least 95 % probability.
    k, cum = 0, 0.0
    while k < n:
        cum_next = cum + math.comb(n, k) / 2**n
        if cum_next > 0.025:
            break
        cum, k = cum_next, k + 1
    if k == 0:
        return f"{med:.2f}"
    return f"{med:.2f} [{ratios[k - 1]:.2f}–{ratios[n - k]:.2f}]"


def semaphore(reps: int) -> None:
    heads = " | ".join(f"{label} | ratio" for _, label in SEMAPHORE[1:])
    print(f"median of {reps} interleaved runs, ns per acquire+release\n")
    print(f"| tasks / permits | sluicegate | {heads} |")
    print("|---|--:|" + "--:|--:|" * (len(SEMAPHORE) - 1))
    for tasks, permits in SEMAPHORE_ROWS:
        rounds = max(1, SEMAPHORE_OPS // (tasks * 256))
        samples = {name: [] for name, _ in SEMAPHORE}
        for _ in range(reps):
            for name, _ in SEMAPHORE:
                samples[name].append(run("contended", name, tasks, permits, rounds))
        med = {name: statistics.median(v) for name, v in samples.items()}
        ours = med["sluicegate"]
        cells = " | ".join(
            f"{med[name]:.1f} | {paired(samples['sluicegate'], samples[name])}"
            for name, _ in SEMAPHORE[1:]
        )
        print(f"| {tasks} / {permits} | {ours:.1f} | {cells} |")


def condition(reps: int) -> None:
    samples = {name: [] for name, _ in CONDITION}
    for _ in range(reps):
        for name, _ in CONDITION:
            samples[name].append(run("ping_pong", name, CONDITION_ROUND_TRIPS))
    med = {name: statistics.median(v) for name, v in samples.items()}
    notify = med["notify"]
    print(f"median of {reps} interleaved runs of {CONDITION_ROUND_TRIPS:,} round trips\n")
    print("| peer | ns per round trip | ratio to `Notify` |")
    print("|---|--:|--:|")
    for name, label in CONDITION:
        print(f"| {label} | {med[name]:.1f} | {paired(samples[name], samples['notify'])} |")


def channel(reps: int, runtime: str = "tokio-ct") -> None:
    print(f"median of {reps} interleaved runs of {CHANNEL_MESSAGES:,} messages on {runtime}, "
          "millions/s\n")
    print("| msg | shape | cap | sluicegate | flume | kanal | vs flume | vs kanal |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for msg in ("u64", "64B"):
        for shape, producers, consumers in CHANNEL_SHAPES:
            for cap in CHANNEL_CAPS:
                samples = {name: [] for name in CHANNEL}
                for _ in range(reps):
                    for name in CHANNEL:
                        ns = run("channel_flow", name, producers, consumers, cap,
                                 CHANNEL_MESSAGES, msg, runtime)
                        samples[name].append(1e3 / ns)
                med = {name: statistics.median(v) for name, v in samples.items()}
                ours = med["sluicegate"]
                print(
                    f"| {msg} | {shape} | {cap} | {ours:.1f} | {med['flume']:.1f} | "
                    f"{med['kanal']:.1f} | {paired(samples['sluicegate'], samples['flume'])} | "
                    f"{paired(samples['sluicegate'], samples['kanal'])} |",
                    flush=True,
                )


def channel_cap1(reps: int) -> None:
    print(f"median of {reps} paired runs of {CHANNEL_MESSAGES:,} messages at capacity 1, "
          "millions/s\n")
    print("| msg | shape | sluicegate | flume | vs flume |")
    print("|---|---|--:|--:|--:|")
    for msg in ("u64", "64B"):
        for shape, producers, consumers in CHANNEL_SHAPES:
            samples = {"sluicegate": [], "flume": []}
            for r in range(reps):
                for name in ("sluicegate", "flume") if r % 2 == 0 else ("flume", "sluicegate"):
                    ns = run("channel_flow", name, producers, consumers, 1, CHANNEL_MESSAGES, msg)
                    samples[name].append(1e3 / ns)
            print(
                f"| {msg} | {shape} | {statistics.median(samples['sluicegate']):.1f} | "
                f"{statistics.median(samples['flume']):.1f} | "
                f"{paired(samples['sluicegate'], samples['flume'])} |",
                flush=True,
            )


MODES = {
    "semaphore": semaphore,
    "condition": condition,
    "channel": channel,
    "channel-cap1": channel_cap1,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    MODES[sys.argv[1]](reps, *sys.argv[3:4])


if __name__ == "__main__":
    main()
