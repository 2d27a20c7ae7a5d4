#!/usr/bin/env python3
"""Time two builds of a counting example against each other, in turns.

    python3 benches/ab.py NEW_BINARY OLD_BINARY [CALLS] [ROUNDS]

Each round runs OLD, NEW, OLD with CALLS as their argument (as `sa_non_signature` takes it)
and divides NEW's time per call by the mean of the two OLD times around it, so that a drift
of the machine's speed slower than a round cancels out. Prints the median and quartiles of
those ratios and each binary's fastest and median time. Both binaries must print their time
per call as `... <number>µs per token` or `... <number>ns per token` on stderr, as
`benches/examples/sa_non_signature.rs` does.
"""

import re
import statistics
import subprocess
import sys


def per_call_us(binary, calls):
    err = subprocess.run([binary, calls], capture_output=True, text=True, check=True).stderr
    m = re.search(r"([\d.]+)(µs|ns) per token", err)
    if not m:
        sys.exit(f"{binary} printed no time per token: {err!r}")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ns" else value


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    new, old = sys.argv[1], sys.argv[2]
    calls = sys.argv[3] if len(sys.argv) > 3 else "100000"
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 31
    ratios, news, olds = [], [], []
    for _ in range(rounds):
        before = per_call_us(old, calls)
        n = per_call_us(new, calls)
        after = per_call_us(old, calls)
        o = (before + after) / 2
        ratios.append(n / o)
        news.append(n)
        olds.append(o)
    q = statistics.quantiles(ratios, n=4)
    print(
        f"new/old: median {statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f}), "
        f"{rounds} rounds of {calls} calls; new fastest {min(news):.3f} µs, median "
        f"{statistics.median(news):.3f} µs; old fastest {min(olds):.3f} µs, median "
        f"{statistics.median(olds):.3f} µs"
    )


if __name__ == "__main__":
    main()
