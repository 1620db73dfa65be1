#!/usr/bin/env bash
# Fuzzes the protocol core with the libFuzzer targets of tests/fuzz (clang, ASan + UBSan):
#   scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# Builds in build-fuzz (WSKIT_FUZZ_DIR overrides), runs the targets one after the other, each
# from its seed corpus (tests/fuzz/corpus/<target>, read only) and the saved inputs of
# tests/fuzz/regressions/<target>, growing a working corpus in build-fuzz/corpus/<target>.
# Prints executions, exec/s and corpus size per target; exits non-zero if any target crashed
# (the input is then in build-fuzz/artifacts/<target>/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${WSKIT_FUZZ_DIR:-$ROOT/build-fuzz}"
FUZZ_SECONDS="${1:-60}"
shift $(( $# > 0 ? 1 : 0 ))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_frames fuzz_handshake_server fuzz_handshake_client fuzz_deflate fuzz_utf8)
case "$FUZZ_SECONDS" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# The packages the fuzz build needs, installed only if missing.
PACKAGES=(clang-14 libclang-rt-14-dev cmake ninja-build qt6-base-dev zlib1g-dev)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The whole project with WSKIT_FUZZ=ON once the top-level CMakeLists has the option; until
# then tests/fuzz/standalone, which builds the same targets alone.
if grep -q 'WSKIT_FUZZ' "$ROOT/CMakeLists.txt"; then
    SOURCE_DIR="$ROOT"
    CONFIGURE_ARGS=(-DWSKIT_FUZZ=ON -DWSKIT_BUILD_TESTS=OFF -DWSKIT_BUILD_EXAMPLES=OFF -DWSKIT_BUILD_BENCH=OFF)
else
    SOURCE_DIR="$ROOT/tests/fuzz/standalone"
    CONFIGURE_ARGS=()
fi
CACHE="$BUILD_DIR/CMakeCache.txt"
if [ -f "$CACHE" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$SOURCE_DIR" "$CACHE"; then
    rm -rf "$CACHE" "$BUILD_DIR/CMakeFiles"  # configured from the other source dir before
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    log "Configuring $SOURCE_DIR in $BUILD_DIR (clang-14)"
    CC=clang-14 CXX=clang++-14 cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" -G Ninja \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
        "${CONFIGURE_ARGS[@]}"
fi
log "Building ${TARGETS[*]}"
cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target "${TARGETS[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

crashed=0
results=()
for t in "${TARGETS[@]}"; do
    bin="$BUILD_DIR/fuzz/$t"
    corpus="$BUILD_DIR/corpus/$t"
    artifacts="$BUILD_DIR/artifacts/$t"
    logfile="$BUILD_DIR/logs/$t.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$logfile")"
    dirs=("$corpus" "$ROOT/tests/fuzz/corpus/$t")
    [ -d "$ROOT/tests/fuzz/regressions/$t" ] && dirs+=("$ROOT/tests/fuzz/regressions/$t")
    opts=(-max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
          -artifact_prefix="$artifacts/")
    case "$t" in fuzz_handshake_*) opts+=(-dict="$ROOT/tests/fuzz/http.dict") ;; esac

    log "Fuzzing $t for ${FUZZ_SECONDS}s (log: $logfile)"
    marker="$(mktemp)"
    rc=0
    "$bin" "${opts[@]}" "${dirs[@]}" >"$logfile" 2>&1 || rc=$?
    found="$(find "$artifacts" -type f -newer "$marker" | sort)"
    rm -f "$marker"

    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n1)" || true
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logfile" | tail -n1)" || true
    corp="$( (grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$logfile" || true) | tail -n1 | cut -d' ' -f2)"
    status=ok
    if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
        status="CRASH (exit $rc)"
        crashed=1
        grep -m3 -E 'ERROR: |invariant violated|runtime error|deadly signal' "$logfile" | sed 's/^/    /' || true
        for f in $found; do echo "    artifact: $f"; done
    fi
    results+=("$(printf '%-24s %12s %10s %16s  %s' "$t" "${execs:-?}" "${rate:-?}" "${corp:-?}" "$status")")
done

echo
printf '%-24s %12s %10s %16s  %s\n' target executions exec/s "corpus (n/size)" result
for r in "${results[@]}"; do echo "$r"; done
if [ "$crashed" -ne 0 ]; then
    echo
    echo "Reproduce: <build>/fuzz/<target> <artifact>   (WSKIT_FUZZ_VERBOSE=1 prints the events)"
    echo "Minimize:  <build>/fuzz/<target> -minimize_crash=1 -runs=100000 <artifact>"
fi
exit "$crashed"
