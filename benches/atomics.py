#!/usr/bin/env python3
"""Counts the atomic read-modify-write instructions a program executed.

    cargo build --profile bench -p sluicegate-benches --examples
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.out \\
        target/release/examples/contended sluicegate 16 1 10
    python3 benches/atomics.py cg.out target/release/examples/contended [ops]

callgrind counts instructions, and instruction counts say little about an
atomic read-modify-write (a `lock`-prefixed instruction or an `xchg` with
memory on x86-64), which costs tens of cycles where most instructions cost
one. This joins callgrind's per-instruction counts with `objdump`'s
disassembly of the binary and prints how many such instructions ran, in all
and per function (the 15 busiest), and per operation when `ops` is given.
x86-64 only; only the code of the binary itself is counted (not libc).
"""

import collections
import re
import signal
import subprocess
import sys


def atomic_addresses(binary: str) -> dict:
    """Address -> enclosing function, for every atomic RMW instruction;
    and the address of every instruction (to check the profile against)."""
    dis = subprocess.run(
        ["objdump", "-d", "--demangle", "--no-show-raw-insn", binary],
        check=True, capture_output=True, text=True,
    ).stdout
    found, func, boundaries = {}, "?", set()
    for line in dis.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:", line)
        if m:
            func = m.group(2)
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if not m:
            continue
        boundaries.add(int(m.group(1), 16))
        ins = m.group(2)
        if ins.startswith("lock ") or (ins.startswith("xchg") and "(" in ins):
            found[int(m.group(1), 16)] = func
    return found, boundaries


def number(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def executed(profile: str, binary: str, atomic: dict, boundaries: set) -> collections.Counter:
    """Self counts of the atomic instructions, from a callgrind profile
    written with `--dump-instr=yes` (positions `instr line`)."""
    counts = collections.Counter()
    names, in_binary, cur, skip_next = {}, False, 0, False
    with open(profile) as f:
        if "positions: instr" not in f.read(4096):
            sys.exit("the profile needs callgrind's --dump-instr=yes")
        f.seek(0)
        for line in f:
            m = re.match(r"^(c?ob)=\((\d+)\)\s*(.*)$", line.rstrip("\n"))
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                if m.group(1) == "ob":
                    in_binary = names.get(m.group(2), "").endswith("/" + binary.split("/")[-1])
                continue
            if line.startswith("calls="):
                skip_next = True  # the next cost line is a call's inclusive cost
                continue
            if not line or not (line[0].isdigit() or line[0] in "+-*"):
                continue
            parts = line.split()
            a = parts[0]
            # Absolute positions are hex ("0x..."); relative ones ("+N",
            # "-N") are decimal byte offsets.
            if a == "*":
                addr = cur
            elif a[0] == "+":
                addr = cur + number(a[1:])
            elif a[0] == "-":
                addr = cur - number(a[1:])
            else:
                addr = number(a)
            cur = addr
            if in_binary and addr not in boundaries:
                sys.exit(f"position {addr:#x} is not an instruction of {binary}: "
                         "the profile and the binary disagree")
            if skip_next:
                skip_next = False
                continue
            if in_binary and addr in atomic and len(parts) > 2:
                counts[addr] += int(parts[2])
    return counts


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    profile, binary = sys.argv[1], sys.argv[2]
    ops = int(sys.argv[3]) if len(sys.argv) == 4 else None
    atomic, boundaries = atomic_addresses(binary)
    counts = executed(profile, binary, atomic, boundaries)
    total = sum(counts.values())
    per = f" ({total / ops:.2f} per operation)" if ops else ""
    print(f"atomic read-modify-writes executed: {total:,}{per}")
    by_function = collections.Counter()
    for addr, n in counts.items():
        by_function[atomic[addr]] += n
    for func, n in by_function.most_common(15):
        print(f"{n:>12,}  {func[:120]}")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`
    main()
