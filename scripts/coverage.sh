#!/usr/bin/env bash
# Line coverage of the protocol core by its tests (gcov + lcov), in a separate build dir.
# Prints the summary; the HTML report lands in build-coverage/coverage-html/.
WSKIT_BUILD_DIR="${WSKIT_COVERAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build-coverage}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
WSKIT_BUILD_TYPE=Debug wskit_build -DWSKIT_COVERAGE=ON -DWSKIT_BUILD_BENCH=OFF -DWSKIT_BUILD_EXAMPLES=OFF
cd "$WSKIT_BUILD_DIR"
find . -name '*.gcda' -delete
ctest --output-on-failure --parallel "$(nproc)" -L protocol
lcov --quiet --capture --directory . --output-file coverage.all.info
lcov --quiet --extract coverage.all.info "$WSKIT_ROOT/src/protocol/*" --output-file coverage.info
genhtml --quiet coverage.info --output-directory coverage-html
wskit_log "Coverage of src/protocol:"
lcov --summary coverage.info
