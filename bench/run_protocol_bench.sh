#!/bin/sh
# Runs an already built bench_protocol (this script builds nothing) with 9 repetitions,
# keeps the aggregates (mean, median, stddev, cv) in a JSON file and prints the summary table.
#
#   bench/run_protocol_bench.sh [BINARY [OUT.json]] [extra benchmark flags...]
#
# BINARY defaults to build/bench/bench_protocol; OUT.json to
# bench_protocol-<date>.json beside the binary (in the build tree). Extra flags (e.g.
# --benchmark_filter=Utf8) are passed on to the binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bench/bench_protocol}
out=${2:-$(dirname "$bin")/bench_protocol-$(date +%Y%m%d-%H%M%S).json}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then shift; fi

if [ ! -x "$bin" ]; then
    echo "run_protocol_bench.sh: no executable at $bin" >&2
    echo "build it first: cmake -S . -B build -DWSKIT_BUILD_BENCH=ON" \
         "&& ninja -C build bench_protocol" >&2
    exit 1
fi

# The console output (stdout) still shows progress; the JSON goes to $out.
"$bin" \
    --benchmark_repetitions=9 \
    --benchmark_report_aggregates_only=true \
    --benchmark_format=json \
    --benchmark_out="$out" \
    --benchmark_out_format=json \
    "$@" >/dev/null

echo "results: $out" >&2
/usr/bin/python3 "$here/summarize.py" "$out"
