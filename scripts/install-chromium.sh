#!/bin/sh
# Install what the browser tests (tests/test_browser.py, tests/test_docs_ui.py) drive:
# Debian's chromium, unless it is already there, and axe-core from npm into
# tests/browser/node_modules (git-ignored; pinned by tests/browser/package-lock.json).
# Idempotent; uses sudo only when not root. Exits non-zero when it cannot.
set -eu

CHROMIUM=/usr/bin/chromium
HERE=$(cd "$(dirname "$0")/.." && pwd)
BROWSER_TOOLS="$HERE/tests/browser"

install_axe() {
    if [ -f "$BROWSER_TOOLS/node_modules/axe-core/axe.min.js" ]; then
        echo "axe-core is installed: $BROWSER_TOOLS/node_modules/axe-core"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-chromium: npm not found; installing nodejs and npm with apt-get"
        $SUDO apt-get update || true
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm || {
            echo "install-chromium: could not install npm (needed for axe-core)" >&2
            exit 1
        }
    fi
    echo "installing axe-core with npm ci (needed by the accessibility checks)"
    (cd "$BROWSER_TOOLS" && npm ci --no-audit --no-fund) || {
        echo "install-chromium: npm ci in tests/browser failed" >&2
        exit 1
    }
}

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    SUDO=""
fi

if [ -x "$CHROMIUM" ]; then
    echo "chromium is installed: $CHROMIUM"
    install_axe
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found; install chromium so that $CHROMIUM exists" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "install-chromium: not root and sudo is not available; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
    exit 1
fi

echo "installing chromium with apt-get (needed by the browser tests)"
if ! $SUDO apt-get update; then
    echo "install-chromium: apt-get update failed" >&2
    exit 1
fi
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; then
    echo "install-chromium: apt-get install chromium failed" >&2
    exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: chromium was installed but $CHROMIUM is missing" >&2
    exit 1
fi
echo "chromium is installed: $CHROMIUM"
install_axe
