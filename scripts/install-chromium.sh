#!/bin/sh
# Install Debian's chromium for the browser tests (tests/test_browser.py), unless it is
# already there. Idempotent; uses sudo only when not root. Exits non-zero when it cannot.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium is installed: $CHROMIUM"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found; install chromium so that $CHROMIUM exists" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
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
