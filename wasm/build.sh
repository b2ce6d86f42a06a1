#!/usr/bin/env bash
# Builds the npm package `bindspace` from the bindspace-wasm crate.
#
#   wasm/build.sh [--no-simd] [--small] [--out DIR]
#
# Output (default wasm/pkg/, ignored by git): a directory ready for
# `npm pack`: one .wasm shared by a Node glue (CommonJS, bindspace_wasm.cjs)
# and a web glue (ES module, bindspace_wasm.js), the hand-written entry points
# and types from wasm/npm/, the IndexedDB adapter, README and package.json.
#
# simd128 is on by default: every current browser, Node and edge runtime has
# it, and the Hamming kernel is several times faster with it. --no-simd builds
# the scalar kernel (into wasm/pkg-scalar/ unless --out is given).
# The .wasm is rustc's release build as wasm-bindgen leaves it: every
# wasm-opt level tried (-O2, -O3, -Os, -O3 with the kernel not inlined)
# made the 1,024-bit search in Node about 12% slower (one run when this was
# decided, Node 20: ~440 µs plain, ~530 µs after -O3), for 12% fewer gzipped
# bytes (109 vs 97 KiB then; the budget is 150). The README has today's size
# and timings, which step 45 of scripts/test.sh measures. --small runs wasm-opt -Oz for those who want
# the bytes over the speed; wasm-opt comes from the npm package `binaryen`
# in wasm/dev (Debian's is too old for current wasm-bindgen output).
#
# Each flavour builds in its own target directory (target/wasm32-simd128,
# target/wasm32-scalar, shared with the test steps) so switching RUSTFLAGS
# does not rebuild the other.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

simd=1
opt=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-simd) simd=0 ;;
    --small) opt=1 ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$simd" = 1 ]; then
  flavour=simd128
  rustflags="-C target-feature=+simd128"
  out="${out:-$here/pkg}"
else
  flavour=scalar
  rustflags=""
  out="${out:-$here/pkg-scalar}"
fi

# The CLI must match the wasm-bindgen crate exactly, or its output is refused
# at load time; say so clearly instead of producing a broken package.
want="$(grep -A1 '^name = "wasm-bindgen"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
if [ "$want" != "$have" ]; then
  echo "build.sh: wasm-bindgen CLI ${have:-missing}, crate $want: run 'cargo install wasm-bindgen-cli --version $want'" >&2
  exit 1
fi

target_dir="$root/target/wasm32-$flavour"
echo "== cargo build bindspace-wasm ($flavour)"
RUSTFLAGS="$rustflags" CARGO_TARGET_DIR="$target_dir" \
  cargo build --manifest-path "$root/Cargo.toml" -p bindspace-wasm \
  --target wasm32-unknown-unknown --release
wasm_in="$target_dir/wasm32-unknown-unknown/release/bindspace_wasm.wasm"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== wasm-bindgen (nodejs, web)"
wasm-bindgen --target nodejs --out-dir "$work/node" "$wasm_in"
wasm-bindgen --target web --out-dir "$work/web" "$wasm_in"
# Both targets emit the same .wasm; the package ships it once.
cmp -s "$work/node/bindspace_wasm_bg.wasm" "$work/web/bindspace_wasm_bg.wasm" || {
  echo "build.sh: node and web .wasm differ; the package cannot share one" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out"
cp "$work/web/bindspace_wasm.js" "$work/web/bindspace_wasm.d.ts" "$out/"
cp "$work/node/bindspace_wasm.js" "$out/bindspace_wasm.cjs"
cp "$work/node/bindspace_wasm.d.ts" "$out/bindspace_wasm.d.cts"
cp -r "$work/web/snippets" "$out/"
wasm="$out/bindspace_wasm_bg.wasm"
if [ "$opt" = 1 ]; then
  wasm_opt="$here/dev/node_modules/.bin/wasm-opt"
  if [ ! -x "$wasm_opt" ]; then
    echo "== npm ci in wasm/dev (for wasm-opt)"
    (cd "$here/dev" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "== wasm-opt -Oz"
  # The features rustc enables by default for wasm32-unknown-unknown, plus
  # simd.
  "$wasm_opt" -Oz --enable-simd --enable-bulk-memory --enable-sign-ext \
    --enable-mutable-globals --enable-nontrapping-float-to-int \
    --enable-reference-types --enable-multivalue \
    "$work/web/bindspace_wasm_bg.wasm" -o "$wasm"
else
  cp "$work/web/bindspace_wasm_bg.wasm" "$wasm"
fi

# The entry points name the error-class module by its snippet path, which
# carries a hash wasm-bindgen chooses; fill it in.
errors_js="$(cd "$out" && find snippets -name errors.js | head -n1)"
[ -n "$errors_js" ] || { echo "build.sh: errors.js snippet not found" >&2; exit 1; }
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
for f in "$here"/npm/*; do
  name="$(basename "$f")"
  sed -e "s#@ERRORS_JS@#./$errors_js#g" -e "s#@VERSION@#$version#g" \
    -e "s#@FLAVOUR@#$flavour#g" "$f" > "$out/$name"
done

raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "== built $out ($flavour): bindspace_wasm_bg.wasm $raw bytes raw, $gz bytes gzipped ($((gz / 1024)) KiB)"
