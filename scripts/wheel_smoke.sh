#!/bin/sh
# A wheel built from the repository, installed in a fresh virtualenv outside the checkout,
# serves a page: content, templates and built-in plugins all come from the wheel.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$python" -m pip wheel -qq --no-deps --wheel-dir "$work/dist" "$repo"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -qq "$work"/dist/personalizer-*.whl
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$work"  # nothing of the checkout is importable from here
"$work/venv/bin/personalizer" content check
PERSONALIZER_RATE_LIMIT_ENABLED=false PERSONALIZER_PUBLIC_URL="http://127.0.0.1:$port" \
    "$work/venv/bin/gunicorn" --bind "127.0.0.1:$port" \
    --workers 1 --no-control-socket personalizer.wsgi:app >"$work/server.log" 2>&1 &
server=$!
"$work/venv/bin/python" - "$port" "$repo/bench/example-profile.json" <<'PY'
import json
import sys
import time
import urllib.request

port, profile = sys.argv[1], open(sys.argv[2], "rb").read()
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
request = urllib.request.Request(
    base + "/v1/pages", data=profile, headers={"Content-Type": "application/json"}
)
page = json.load(urllib.request.urlopen(request, timeout=10))
kinds = [b["kind"] for b in page["blocks"]]
assert "exercise" in kinds and "alert" in kinds, kinds
plugins = json.load(urllib.request.urlopen(base + "/v1/plugins", timeout=5))
assert all(p["enabled"] for p in plugins), plugins
picture = next(b["media"][0]["url"] for b in page["blocks"] if b["kind"] == "exercise")
with urllib.request.urlopen(picture, timeout=5) as r:
    assert r.headers["Content-Type"].startswith("image/svg+xml")
print(f"wheel smoke: a page of {len(kinds)} blocks from {len(plugins)} built-in plugins")
PY
