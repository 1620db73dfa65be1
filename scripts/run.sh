#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main program, the inspector.
# With no arguments it starts its own echo server and shows the traffic to it; pass a ws:// URL
# or --listen PORT (see --help). Without a display it renders offscreen, saves a screenshot
# and says where.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
wskit_build
inspector="$WSKIT_BUILD_DIR/examples/inspector/wskit-inspector"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    wskit_log "No display: rendering the inspector offscreen"
    QT_QPA_PLATFORM=offscreen exec "$inspector" --screenshot "$WSKIT_BUILD_DIR/inspector.png" "$@"
fi
wskit_log "Running the inspector"
exec "$inspector" "$@"
