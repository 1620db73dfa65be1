#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main program.
# Until the network layer and the inspector exist, the main program is wskit-demo: a client
# and a server connection of the protocol core talking to each other in memory.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
wskit_build
wskit_log "Running wskit-demo"
exec "$WSKIT_BUILD_DIR/examples/demo/wskit-demo" "$@"
