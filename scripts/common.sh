# Shared by scripts/run.sh and scripts/test.sh: installs the Debian packages WsKit needs
# (only those missing), then configures and builds. Idempotent; quick when nothing changed.
set -euo pipefail

WSKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WSKIT_BUILD_DIR="${WSKIT_BUILD_DIR:-$WSKIT_ROOT/build}"

# Everything the build, the examples and the tests use.
WSKIT_PACKAGES=(
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-base-dev-tools
    # QML module, examples and inspector; Xvfb/offscreen for screenshots
    qt6-declarative-dev qt6-declarative-dev-tools qml6-module-qtquick qml6-module-qtquick-controls
    qml6-module-qtquick-layouts qml6-module-qtquick-window qml6-module-qtquick-templates
    qml6-module-qtquick-dialogs qml6-module-qtqml qml6-module-qtqml-workerscript qml6-module-qtqml-models
    qml6-module-qttest qt6-charts-dev qml6-module-qtcharts qt6-qpa-plugins
    zlib1g-dev libssl-dev openssl
    libbenchmark-dev lcov
    # Interoperability peers nobody here wrote (tests/interop, tests/browser)
    qt6-websockets-dev python3-websockets python3-wsproto chromium
)

wskit_log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

wskit_install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    wskit_log "Installing Debian packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

wskit_build() {
    if [ ! -f "$WSKIT_BUILD_DIR/build.ninja" ]; then
        wskit_log "Configuring in $WSKIT_BUILD_DIR"
        cmake -S "$WSKIT_ROOT" -B "$WSKIT_BUILD_DIR" -G Ninja \
            -DCMAKE_BUILD_TYPE="${WSKIT_BUILD_TYPE:-Release}" -DWSKIT_WERROR=ON "$@"
    fi
    wskit_log "Building"
    cmake --build "$WSKIT_BUILD_DIR" --parallel "$(nproc)"
}

wskit_install_packages "${WSKIT_PACKAGES[@]}"

# Node.js peer of tests/interop/node: node and npm (checked by command, since NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package), then ws from package-lock.json.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    wskit_install_packages nodejs npm
fi
WSKIT_NODE_PEERS="$WSKIT_ROOT/tests/interop/node"
if [ ! -f "$WSKIT_NODE_PEERS/node_modules/ws/package.json" ] \
   || [ "$WSKIT_NODE_PEERS/package-lock.json" -nt "$WSKIT_NODE_PEERS/node_modules/.package-lock.json" ]; then
    wskit_log "Installing the Node peer (ws) of tests/interop/node"
    npm ci --prefix "$WSKIT_NODE_PEERS" --no-audit --no-fund --loglevel=error
fi
