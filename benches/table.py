#!/usr/bin/env python3
"""Prints the criterion results under target/criterion as a Markdown table (median and its
95% interval per bench), for benches/RESULTS.md. Usage: python3 benches/table.py [REGEX]"""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
pattern = re.compile(sys.argv[1] if len(sys.argv) > 1 else "")


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


rows = []
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    name = bench["full_id"]
    if not pattern.search(name):
        continue
    m = json.loads(est.read_text())["median"]
    ci = m["confidence_interval"]
    rows.append((name, m["point_estimate"], ci["lower_bound"], ci["upper_bound"]))

print("| bench | median | 95% CI |")
print("| --- | ---: | --- |")
for name, med, lo, hi in rows:
    print(f"| `{name}` | {fmt(med)} | {fmt(lo)} – {fmt(hi)} |")
