#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (with LeakSanitizer), in a
# separate build directory. Arguments go to ctest (e.g. -L protocol).
WSKIT_BUILD_DIR="${WSKIT_SANITIZE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build-asan}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
WSKIT_BUILD_TYPE=Debug wskit_build -DWSKIT_SANITIZE=ON -DWSKIT_BUILD_BENCH=OFF
cd "$WSKIT_BUILD_DIR"
# Leaks inside Qt's and the system's own libraries (fontconfig, the QML engine's caches at
# exit) are not ours: suppressed by library, so that a leak in WsKit still fails.
export LSAN_OPTIONS="suppressions=$WSKIT_ROOT/scripts/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec ctest --output-on-failure --parallel "$(nproc)" "$@"
