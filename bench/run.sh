#!/bin/sh
# Runs an already built benchmark (this script builds nothing) with 9 repetitions in a random
# order, keeps the aggregates (mean, median, stddev, cv) in a JSON file and prints the summary
# tables (bench/summarize.py).
#
#   bench/run.sh NAME [BINARY [OUT.json]] [extra benchmark flags...]
#
# NAME is bench_protocol or bench_deflate. BINARY defaults to build/bench/NAME; OUT.json to
# NAME-<date>.json beside the binary (in the build tree). Extra flags (e.g.
# --benchmark_filter=Utf8) are passed on to the binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: bench/run.sh bench_protocol|bench_deflate [BINARY [OUT.json]] [flags...]}
shift
bin=${1:-$here/../build/bench/$name}
out=${2:-$(dirname "$bin")/$name-$(date +%Y%m%d-%H%M%S).json}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then shift; fi

if [ ! -x "$bin" ]; then
    echo "run.sh: no executable at $bin" >&2
    echo "build it first: cmake -S . -B build -DWSKIT_BUILD_BENCH=ON && ninja -C build $name" >&2
    exit 1
fi

# Random interleaving: the repetitions of all benchmarks run in a random order, so that a
# slow phase of this shared machine does not fall on one side of a WsKit/reference pair only.
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
