#!/usr/bin/python3
"""Summarizes a bench_protocol JSON file (from bench/run.sh bench_protocol) as a markdown table.

For each benchmark: median CPU time per iteration and median throughput in GB/s (10^9 bytes
per second of CPU time, as Google Benchmark computes rates) over the repetitions, the
coefficient of variation (CV) of the CPU time, and the ratio to the median throughput of
BM_Memcpy of the same size from the same run. Then whether the goals are met (exit status 1
if one is not).

    /usr/bin/python3 bench/summarize.py results.json

A bench_deflate JSON file (from bench/run.sh bench_deflate; recognized by its benchmark names) is
summarized instead as three tables of medians: compression and decompression throughput in
MB/s (10^6 bytes of uncompressed data per second of CPU time) of WsKit beside raw zlib with
their ratio, with the compression ratio (uncompressed / compressed bytes); and the heap cost
per connection in KiB. Exit status 1 if a benchmark reported an error.

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


# ---- bench_deflate ------------------------------------------------------------------------

DEFLATE_PREFIXES = ("BM_Compress_", "BM_Decompress_", "BM_ConnectionMemory/")
DEFLATE_CORPORA = {
    "json": "JSON",
    "random": "random",
    "json_nct": "JSON, no context takeover",
}
MEMORY_CONFIGS = {
    "none": "no compression",
    "w15_m8": "deflate, window 15, memLevel 8 (defaults)",
    "w15_m8_nct": "deflate, window 15, memLevel 8, no context takeover",
    "w10_m8": "deflate, window 10, memLevel 8",
    "w15_m4": "deflate, window 15, memLevel 4",
    "w10_m4": "deflate, window 10, memLevel 4",
    "w10_m4_nct": "deflate, window 10, memLevel 4, no context takeover",
}


def is_deflate(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    names = [b.get("run_name", b.get("name", "")) for b in data.get("benchmarks", [])]
    return any(n.startswith(DEFLATE_PREFIXES) for n in names)


def load_deflate(path):
    """Returns context, {run name: median entry}, {run name: cv entry}, errors, order."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    medians, cvs, order, errors = {}, {}, [], []
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            errors.append(f"{name}: {b.get('error_message', 'error')}")
            continue
        if name not in order:
            order.append(name)
        agg = b.get("aggregate_name", "median")  # a run without repetitions: its only result
        if agg == "median":
            medians[name] = b
        elif agg == "cv":
            cvs[name] = b
    return data.get("context", {}), medians, cvs, errors, order


def deflate_table(title, op, medians, cvs, order):
    cases = []  # (corpus, size) in the order of the run
    for name in order:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == f"BM_{op}_WsKit" and (parts[1], parts[2]) not in cases:
            cases.append((parts[1], parts[2]))
    if not cases:
        return
    # The run may interleave benchmarks at random: list the cases in a fixed order.
    known = list(DEFLATE_CORPORA)
    cases.sort(key=lambda c: (known.index(c[0]) if c[0] in known else len(known), c[0], int(c[1])))
    fresh = any(f"BM_{op}_ZlibFresh/{c}/{n}" in medians for c, n in cases)
    print(f"{title}. Medians; MB/s = 10^6 uncompressed bytes per second of CPU time; "
          "ratio = uncompressed / compressed bytes.")
    print()
    head = "| Corpus | Message | WsKit MB/s | raw zlib MB/s | WsKit / zlib | CV WsKit, zlib |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if fresh:
        head += " raw zlib, new stream per message MB/s |"
        rule += "---:|"
    head += " Ratio WsKit | Ratio zlib |"
    rule += "---:|---:|"
    print(head)
    print(rule)
    for corpus, size in cases:
        w = medians.get(f"BM_{op}_WsKit/{corpus}/{size}")
        z = medians.get(f"BM_{op}_Zlib/{corpus}/{size}")
        f = medians.get(f"BM_{op}_ZlibFresh/{corpus}/{size}")

        def rate(b):
            return f"{b['bytes_per_second'] / 1e6:.1f}" if b else "-"

        def cv(name):
            c = cvs.get(name)
            return f"{c['cpu_time'] * 100:.1f}%" if c else "-"

        ratio = f"{w['bytes_per_second'] / z['bytes_per_second']:.2f}" if w and z else "-"
        row = (f"| {DEFLATE_CORPORA.get(corpus, corpus)} | {human_size(int(size))} | {rate(w)} | {rate(z)} "
               f"| {ratio} | {cv(f'BM_{op}_WsKit/{corpus}/{size}')}, {cv(f'BM_{op}_Zlib/{corpus}/{size}')} |")
        if fresh:
            row += f" {rate(f)} |"
        row += (f" {w['ratio']:.3f} |" if w and "ratio" in w else " - |")
        row += (f" {z['ratio']:.3f} |" if z and "ratio" in z else " - |")
        print(row)
    print()


def memory_table(medians, order):
    rows = [n for n in order if n.startswith("BM_ConnectionMemory/") and n in medians]
    if not rows:
        return
    known = list(MEMORY_CONFIGS)
    rows.sort(key=lambda n: known.index(n.split("/")[1]) if n.split("/")[1] in known else len(known))
    print("Heap per connection (KiB, mallinfo2 deltas over 1000 connection pairs, median):")
    print()
    print("| Configuration | Negotiated | Server, after handshake | Server, after one message each way "
          "| Client, after one message each way | Ratio, 1 KiB JSON |")
    print("|---|---|---:|---:|---:|---:|")
    for name in rows:
        b = medians[name]
        key = name.split("/")[1]
        label = b.get("label", "") or "-"
        ratio = f"{b['json1k_ratio']:.2f}" if "json1k_ratio" in b else "-"
        print(f"| {MEMORY_CONFIGS.get(key, key)} | {label} | {b.get('server_open_KiB', 0):.1f} "
              f"| {b.get('server_KiB', 0):.1f} | {b.get('client_KiB', 0):.1f} | {ratio} |")
    print()


def deflate_main(path):
    context, medians, cvs, errors, order = load_deflate(path)
    print(f"Run {context.get('date', '?')} on {context.get('host_name', '?')}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"library build: {context.get('library_build_type', '?')}")
    print()
    deflate_table("Compression", "Compress", medians, cvs, order)
    deflate_table("Decompression", "Decompress", medians, cvs, order)
    memory_table(medians, order)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if is_deflate(argv[1]):
        return deflate_main(argv[1])
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
