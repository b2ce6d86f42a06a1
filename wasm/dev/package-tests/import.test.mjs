// Runs in an empty directory where the packed `bindspace` tarball was
// installed: the package as a Node user gets it, through `import`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as bindspace from 'bindspace';
import { BindSpace, FingerprintError, OptionsError, encodeText, hamming, bind, bundle, permute } from 'bindspace';

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
