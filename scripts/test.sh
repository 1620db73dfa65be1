#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test through ctest.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
wskit_build
wskit_log "Running the tests"
cd "$WSKIT_BUILD_DIR"
exec ctest --output-on-failure --parallel "$(nproc)" "$@"
