// Runs in an empty directory where the packed `bindspace` tarball was
// installed: the package as a Node user gets it, through `import`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as bindspace from 'bindspace';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BindSpace, FingerprintError, OptionsError, LogError, encodeText, hamming, bind, bundle, permute } from 'bindspace';
import { runWorkload, contents } from './workload.mjs';

// wasm/tests/fixtures, passed in by scripts/test.d/45-wasm-package.sh.
const fixtures = process.env.BINDSPACE_FIXTURES;

test('import: the same module instance as require', () => {
  const required = createRequire(import.meta.url)('bindspace');
  assert.equal(required.BindSpace, BindSpace);
  assert.equal(required.FingerprintError, FingerprintError);
});

test('import: store, search, fingerprint operations', () => {
  const space = new BindSpace({ width: 2048 });
  assert.equal(space.width, 2048);
  assert.equal(space.widthBytes, 256);
  const a = space.encodeText('alpha beta gamma');
  const b = space.encodeText('delta epsilon');
  assert.deepEqual(space.bind(space.bind(a, b), b), a);
  assert.deepEqual(space.permute(space.permute(a, 77), -77), a);
  assert.deepEqual(space.bundle([a, a, b]), a);
  assert.equal(space.hamming(a, a), 0);
  assert.deepEqual(encodeText('alpha beta gamma', 2048), a);
  assert.equal(hamming(a, b), space.hamming(a, b));
  assert.deepEqual(bind(a, b), space.bind(a, b));
  assert.deepEqual(bundle([a, b, b]), b);
  assert.deepEqual(permute(a, 3), space.permute(a, 3));
  space.set('0x10:01', a);
  space.set('0x80:01', b);
  assert.deepEqual(space.search(a, { zone: 'nodes' }).map((h) => h.addr), ['0x80:01']);
  assert.deepEqual(space.search(a, { maxDist: 0 }), [{ addr: '0x10:01', distance: 0 }]);
  assert.throws(() => space.search(a, { zone: 'moon' }), OptionsError);
  assert.throws(() => space.set('0x10:02', a.subarray(1)), FingerprintError);
  assert.ok(Object.keys(bindspace).includes('BindSpaceError'));
  space.free();
});

test('import: exportLog and openLog round-trip', () => {
  const space = runWorkload(bindspace);
  const log = space.exportLog();
  assert.ok(log instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(log.subarray(0, 4)), 'BSLG');
  const copy = BindSpace.openLog(log);
  assert.deepEqual(contents(copy), contents(space));
  assert.equal(copy.nextSequence, space.nextSequence);
  assert.equal(copy.recovery.batches, 8);
  // A cut in the last write is a torn tail: dropped, the rest opens.
  const torn = BindSpace.openLog(log.subarray(0, log.length - 5));
  assert.ok(torn.recovery.tornBytes > 0);
  assert.equal(torn.has(0xffff), false);
  assert.equal(torn.has(0x8001), true);
  // One flipped bit in the middle refuses to open, naming the offset.
  const damaged = log.slice();
  damaged[60] ^= 1;
  assert.throws(() => BindSpace.openLog(damaged), (e) => e instanceof LogError && /corrupted at byte 40/.test(e.message));
  for (const s of [space, copy, torn]) s.free();
});

test('import: the log is the same bytes as the native build writes', () => {
  assert.ok(fixtures, 'BINDSPACE_FIXTURES must name wasm/tests/fixtures');
  const space = runWorkload(bindspace);
  const pinned = readFileSync(join(fixtures, 'binding-workload.bslog'));
  assert.equal(Buffer.from(space.exportLog()).toString('hex'), pinned.toString('hex'));
  // And a log written by the native host store opens here.
  const host = BindSpace.openLog(readFileSync(join(fixtures, 'host-workload.bslog')));
  assert.deepEqual(contents(host), contents(space));
  space.free();
  host.free();
});

test('import: the golden logs of tests/golden open', () => {
  // Their contents are checked entry by entry through the same binding by
  // wasm/tests/golden.rs (in Node and Chromium); here the installed
  // package opens each one, with the width its name states, and re-exports
  // it to the same contents.
  const dir = process.env.BINDSPACE_GOLDEN;
  assert.ok(dir && existsSync(dir), 'BINDSPACE_GOLDEN must name tests/golden');
  const images = readdirSync(dir).filter((f) => f.endsWith('.bslog'));
  assert.ok(images.length >= 3, `golden images: ${images}`);
  for (const name of images) {
    const space = BindSpace.openLog(readFileSync(join(dir, name)));
    assert.equal(space.width, Number(/-w(\d+)-/.exec(name)[1]), name);
    assert.ok(space.count() > 0, `${name} holds entries`);
    const again = BindSpace.openLog(space.exportLog());
    assert.deepEqual(contents(again), contents(space), `${name} re-exports to the same contents`);
    const compacted = BindSpace.openLog(space.compactedLog());
    assert.deepEqual(contents(compacted), contents(space), `${name} compacts to the same contents`);
    for (const s of [space, again, compacted]) s.free();
  }
});

test('import: the edge entry takes a precompiled WebAssembly.Module (initSync, no top-level await)', async () => {
  const edge = await import('bindspace/edge');
  const wasmPath = createRequire(import.meta.url).resolve('bindspace/bindspace.wasm');
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  edge.initSync({ module });
  assert.equal(edge.kernelName(), 'simd128');
  const space = new edge.BindSpace({ width: 64 });
  space.set('0x10:01', new Uint8Array(8).fill(0x0f));
  assert.equal(space.exec('GET 0x10:01'), '0f0f0f0f0f0f0f0f');
  assert.throws(() => space.get('bad'), edge.AddressError);
  // The same log bytes as the Node build: one format everywhere.
  const node = new BindSpace({ width: 64 });
  node.set('0x10:01', new Uint8Array(8).fill(0x0f));
  assert.deepEqual(space.exportLog(), node.exportLog());
  space.free();
  node.free();
});
