// The workload of wasm/tests/portable_log.rs, through the npm package: the
// same writes in the same order must give the same log bytes as natively.
export function runWorkload(bindspace) {
  const space = new bindspace.BindSpace({ width: 1024, capacity: 64 });
  const cat = space.encodeText('the cat sat on the mat');
  const dog = space.encodeText('a dog barked all night');
  space.set(0x8000, cat);
  space.set(0x8001, dog);
  space.setLabel(0x8001, 'dog', 0x8000);
  space.set(0x1000, bindspace.fromSeed(7n, 1024));
  space.expire(0x1000, 500);
  space.set(0x0001, space.bind(cat, dog));
  space.delete(0x8000);
  space.set(0xffff, space.permute(space.encodeText('x'), 5));
  return space;
}

// Every entry of a space, comparable with deepEqual.
export function contents(space) {
  return Array.from(space.addresses(), (raw) => {
    const e = space.entry(raw);
    return { ...e, fingerprint: Buffer.from(e.fingerprint).toString('hex') };
  });
}
