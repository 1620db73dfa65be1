#!/bin/sh
# Runs an already built bench_deflate (this script builds nothing) with 9 repetitions in a
# random order, keeps the aggregates (mean, median, stddev, cv) in a JSON file and prints the
# summary tables.
#
#   bench/run_deflate_bench.sh [BINARY [OUT.json]] [extra benchmark flags...]
#
# BINARY defaults to build/bench/bench_deflate; OUT.json to bench_deflate-<date>.json beside
# the binary (in the build tree). Extra flags (e.g. --benchmark_filter=Compress) are passed
# on to the binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bench/bench_deflate}
out=${2:-$(dirname "$bin")/bench_deflate-$(date +%Y%m%d-%H%M%S).json}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then shift; fi

if [ ! -x "$bin" ]; then
    echo "run_deflate_bench.sh: no executable at $bin" >&2
    echo "build it first: cmake -S . -B build -DWSKIT_BUILD_BENCH=ON" \
         "&& ninja -C build bench_deflate" >&2
    exit 1
fi

# Random interleaving: the repetitions of all benchmarks run in a random order, so that a
# slow phase of this shared machine does not fall on one side of a WsKit/zlib pair only.
"$bin" \
    --benchmark_repetitions=9 \
    --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true \
    --benchmark_format=json \
    --benchmark_out="$out" \
    --benchmark_out_format=json \
    "$@" >/dev/null

echo "results: $out" >&2
/usr/bin/python3 "$here/summarize.py" "$out"
