#!/usr/bin/python3
"""Summarizes a bench_protocol JSON file (from run_protocol_bench.sh) as a markdown table.

For each benchmark: median CPU time per iteration and median throughput in GB/s (10^9 bytes
per second of CPU time, as Google Benchmark computes rates) over the repetitions, the
coefficient of variation (CV) of the CPU time, and the ratio to the median throughput of
BM_Memcpy of the same size from the same run. Then whether the goals are met (exit status 1
if one is not).

    /usr/bin/python3 bench/summarize.py results.json

Standard library only.
"""

import json
import sys

MEMCPY = "BM_Memcpy"
NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# (benchmark run name, minimum ratio to memcpy of the same size, description)
GOALS = [
    ("BM_FrameParseUnmask/1048576", 0.5, "frame parse + unmask of 1 MiB"),
    ("BM_Utf8ValidateAscii/1048576", 0.5, "UTF-8 validation of 1 MiB of ASCII"),
]


def load(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    medians = {}  # run name -> bytes/s
    times = {}  # run name -> median CPU time per iteration, in ns
    cvs = {}  # run name -> coefficient of variation of the CPU time
    order = []
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            print(f"warning: {name}: {b.get('error_message', 'error')}", file=sys.stderr)
            continue
        agg = b.get("aggregate_name")
        if agg is None:
            # A run without repetitions: use the single result as the "median".
            agg = "median"
        if name not in order:
            order.append(name)
        if agg == "median" and "bytes_per_second" in b:
            medians[name] = float(b["bytes_per_second"])
            times[name] = float(b["cpu_time"]) * NS_PER_UNIT.get(b.get("time_unit", "ns"), 1.0)
        elif agg == "cv":
            cvs[name] = float(b.get("cpu_time", 0.0))
    return data.get("context", {}), order, medians, times, cvs


def size_of(name):
    last = name.rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


def human_size(n):
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} B"


def human_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.1f} ns"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    context, order, medians, times, cvs = load(argv[1])
    memcpy = {size_of(n): v for n, v in medians.items() if n.startswith(MEMCPY + "/")}

    host = context.get("host_name", "?")
    print(f"Run {context.get('date', '?')} on {host}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"library build: {context.get('library_build_type', '?')}")
    print()
    print("| Benchmark | Size | Median CPU time | Median GB/s | CV | vs memcpy |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in order:
        if name not in medians:
            continue
        size = size_of(name)
        base = name.split("/", 1)[0]
        gbs = medians[name] / 1e9
        cv = f"{cvs[name] * 100:.1f}%" if name in cvs else "-"
        ref = memcpy.get(size)
        ratio = f"{medians[name] / ref:.2f}x" if ref else "-"
        print(f"| {base} | {human_size(size) if size else '-'} | {human_time(times[name])} "
              f"| {gbs:.2f} | {cv} | {ratio} |")

    print()
    status = 0
    for name, minimum, what in GOALS:
        size = size_of(name)
        if name not in medians or size not in memcpy:
            print(f"- {what}: not measured")
            status = 1
            continue
        ratio = medians[name] / memcpy[size]
        met = ratio >= minimum
        status |= 0 if met else 1
        print(f"- {what}: {ratio:.2f}x memcpy (goal >= {minimum}x): "
              f"{'met' if met else 'NOT met'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
