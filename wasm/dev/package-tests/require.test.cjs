'use strict';
// Runs in an empty directory where the packed `bindspace` tarball was
// installed: the package as a Node user gets it, through `require`.
const test = require('node:test');
const assert = require('node:assert/strict');
const bindspace = require('bindspace');
const { BindSpace, BindSpaceError, FingerprintError, AddressError, CapacityError } = bindspace;

test('require: store, search, errors', () => {
  const space = new BindSpace({ width: 1024, capacity: 8 });
  assert.equal(bindspace.kernelName(), 'simd128', 'the package ships the simd128 build');
  const texts = ['the cat sat on the mat', 'a dog barked all night', 'the cat sat on a mat'];
  texts.forEach((t, i) => space.set(`0x80:0${i}`, space.encodeText(t)));
  assert.equal(space.count(), 3);
  const hits = space.search(space.encodeText('the cat sat on the mat'), { k: 2 });
  assert.deepEqual(hits.map((h) => h.addr), ['0x80:00', '0x80:02']);
  assert.equal(hits[0].distance, 0);
  assert.ok(hits[1].distance > 0 && hits[1].distance < 512);
  assert.throws(() => space.set('0x80:03', new Uint8Array(8)), FingerprintError);
  assert.throws(() => space.get('nowhere'), AddressError);
  assert.throws(() => space.get('nowhere'), BindSpaceError);
  assert.throws(() => space.get('nowhere'), Error);
  space.free();
});

test('require: a full space refuses with CapacityError', () => {
  const space = new BindSpace({ width: 64, capacity: 1 });
  space.set(0x1000, new Uint8Array(8));
  assert.throws(() => space.set(0x1001, new Uint8Array(8)), (e) => e instanceof CapacityError && /full/.test(e.message));
  assert.equal(space.count(), 1);
  space.free();
});

test('require: Symbol.dispose frees the space', () => {
  const space = new BindSpace({ width: 64 });
  assert.equal(typeof space[Symbol.dispose], 'function');
  space[Symbol.dispose]();
  assert.throws(() => space.count());
});

test('require: exportLog and openLog round-trip', () => {
  const space = new BindSpace({ width: 512 });
  space.set('0x80:01', space.encodeText('persist me'));
  space.setLabel('0x80:01', 'me');
  const log = space.exportLog();
  const copy = BindSpace.openLog(log, { capacity: 10 });
  assert.equal(copy.width, 512);
  assert.equal(copy.capacity, 10);
  assert.deepEqual(copy.get('0x80:01'), space.get('0x80:01'));
  assert.equal(copy.entry('0x80:01').label, 'me');
  assert.deepEqual(copy.search(space.encodeText('persist me'), { k: 1 }), [{ addr: '0x80:01', distance: 0 }]);
  assert.throws(() => BindSpace.openLog(new Uint8Array([1, 2, 3])), bindspace.LogError);
  space.free();
  copy.free();
});

test('require: exec runs the command language', () => {
  const space = new BindSpace({ width: 64 });
  assert.equal(space.exec('PING'), 'PONG');
  assert.equal(space.exec('SET 0x10:01 0f0f0f0f0f0f0f0f'), 'OK');
  assert.equal(space.exec('GET 0x10:01'), '0f0f0f0f0f0f0f0f');
  assert.deepEqual(space.exec('SEARCH @0x10:01 COUNT 1 WITHDIST'), [['0x10:01', 0]]);
  assert.equal(space.exec('GET 0x10:02'), null);
  assert.throws(() => space.exec('NOPE'), bindspace.CommandError);
  space.free();
});
