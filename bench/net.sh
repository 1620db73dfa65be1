#!/bin/bash
# Network benchmarks: WsKit (examples/echoserver) vs QtWebSockets (bench-qtwsecho) vs raw TCP
# (bench-rawecho), driven by wskit-loadgen, interleaved over rounds; servers on CPU 0, the
# load generator on CPU 1. Writes BUILD/bench-net/results.json, prints the tables
# (bench/netreport.py) and draws doc/bench-net.png.
#
#   bench/net.sh                 full run (5 rounds, about 12 minutes)
#   bench/net.sh --quick         smoke run (2 rounds, short runs, about 3 minutes)
#   bench/net.sh --only echo1m,cg32 [--rounds 3] [--no-callgrind] ...   (see bench/netbench.py --help)
#   bench/net.sh --profile echo32_1 [--profile-server qtws] [--profiler perf]
#                                 the server under callgrind (or perf record -e cpu-clock) for one
#                                 workload; prints the top functions and the file to read
#
# The whole script (build step and runs) holds /tmp/wskit-build.lock, so that no build
# competes for the CPUs; "flock /tmp/wskit-build.lock bench/net.sh" works too.
# WSKIT_BUILD_DIR selects the build tree (default: build).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WSKIT_BUILD_DIR:-$root/build}"
cd "$root"

# Builds and benchmark runs share the machine's two CPUs: everything below runs under
# /tmp/wskit-build.lock. If our parent is "flock /tmp/wskit-build.lock ..." we hold it already;
# otherwise re-run this script under it (waiting for a running build to finish).
lock=/tmp/wskit-build.lock
if [ -z "${WSKIT_LOCK_HELD:-}" ] && command -v flock >/dev/null; then
    if ! tr '\0' ' ' < "/proc/$PPID/cmdline" 2>/dev/null | grep -q "flock.*$lock"; then
        exec env WSKIT_LOCK_HELD=1 flock "$lock" "$0" "$@"
    fi
fi

need=(valgrind python3-matplotlib qt6-websockets-dev util-linux)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> Installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

targets=(wskit-loadgen bench-rawecho bench-qtwsecho wskit-echoserver)
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "net.sh: no build tree at $build; configure it first (scripts/run.sh or cmake -S . -B build)" >&2
    exit 1
fi
cmake --build "$build" --target "${targets[@]}"

# 5000 idle connections need 5000 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 6000 ]; then
    echo "net.sh: ulimit -n is $(ulimit -n); the idle workload needs about 5100" >&2
fi

/usr/bin/python3 "$root/bench/netbench.py" --build-dir "$build" "$@"
for a in "$@"; do
    case "$a" in --profile|--profile=*|--help|-h) exit 0 ;; esac
done
out="$build/bench-net/results.json"
for ((i = 1; i <= $#; i++)); do
    [ "${!i}" = --out ] && { j=$((i + 1)); out="${!j}/results.json"; }
done
/usr/bin/python3 "$root/bench/netreport.py" "$out" --png "$root/doc/bench-net.png" --md "$(dirname "$out")/results.md"
