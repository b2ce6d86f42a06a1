#!/usr/bin/env bash
# The web demo in headless Chromium (playwright-core driving Debian's
# /usr/bin/chromium; no browser is downloaded): build the page on the npm
# package, store sentences, search, reload, find them still there, save a
# screenshot to artifacts/web-demo.png.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch
require_cmd node npm chromium

dev="$BINDSPACE_ROOT/wasm/dev"
if ! cmp -s "$dev/package-lock.json" "$dev/node_modules/.bindspace-lock" 2>/dev/null; then
    section "npm ci in wasm/dev"
    (cd "$dev" && run npm ci --no-audit --no-fund --loglevel=error)
    cp "$dev/package-lock.json" "$dev/node_modules/.bindspace-lock"
fi

section "build the page on the package"
# Step 45 builds wasm/pkg; rebuild here only if it is missing or older than
# the binding's sources, so this step also works alone.
if [[ ! -f wasm/pkg/package.json ]] ||
    [[ -n "$(find wasm/src wasm/js wasm/npm core/src -newer wasm/pkg/package.json -type f | head -n1)" ]]; then
    run bash web-demo/build.sh --rebuild
else
    run bash web-demo/build.sh
fi

section "drive the page in headless Chromium"
shot="$BINDSPACE_ROOT/artifacts/web-demo.png"
rm -f "$shot"
BINDSPACE_SCREENSHOT="$shot" CHROMIUM="$(command -v chromium)" \
    run_logged "$SCRATCH/demo.log" node --test web-demo/tests/ || exit 1
grep -Eq '^# fail 0' "$SCRATCH/demo.log" || fail "the demo test failed" || exit 1
[[ -s "$shot" ]] || fail "no screenshot was saved" || exit 1
exercised "web demo and the idb/opfs adapters in headless $(chromium --version 2>/dev/null | head -n1): store, search, reload, still there; screenshot $(stat -c %s "$shot") bytes at artifacts/web-demo.png"
