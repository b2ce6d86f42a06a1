#!/usr/bin/env bash
# Prepares web-demo/dist/: the page and the npm package `bindspace` as
# wasm/build.sh builds it (built first if wasm/pkg/ is missing or --rebuild
# is given). Serve dist/ with any static server, e.g.
#   python3 -m http.server 8080 -d web-demo/dist
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
if [ "${1:-}" = "--rebuild" ] || [ ! -f "$root/wasm/pkg/package.json" ]; then
  bash "$root/wasm/build.sh"
fi
rm -rf "$here/dist"
mkdir -p "$here/dist/bindspace"
cp "$here/index.html" "$here/app.js" "$here/style.css" "$here/dist/"
# The package as npm would install it: exactly the files it publishes.
(cd "$root/wasm/pkg" && node -e '
  const files = require("./package.json").files;
  console.log(files.concat("package.json").join("\n"));
') | while read -r f; do
  cp -r "$root/wasm/pkg/$f" "$here/dist/bindspace/"
done
echo "web-demo/dist ready: python3 -m http.server 8080 -d web-demo/dist  (then open http://127.0.0.1:8080/)"
