// Type-checked with bundler resolution (browsers, bundlers, edge workers):
// the web entry needs init() or initSync() first.
import init, { BindSpace, initSync, type SearchHit } from 'bindspace';
import { initSync as edgeInitSync } from 'bindspace/edge';

export async function inBrowser(): Promise<SearchHit[]> {
  await init();
  const space = new BindSpace({ width: 1024 });
  space.set('0x80:01', space.encodeText('hello'));
  return space.search(space.encodeText('hello'), { k: 1 });
}

export function inWorker(module: WebAssembly.Module): number {
  initSync({ module });
  edgeInitSync({ module });
  return new BindSpace({ width: 64 }).count();
}

import { IdbBindSpace, requestPersistence } from 'bindspace/idb';
import { OpfsBindSpace } from 'bindspace/opfs';

export async function persisted(): Promise<number> {
  await requestPersistence();
  const idb = await IdbBindSpace.open({ name: 'notes', width: 1024 });
  await idb.set('0x80:01', idb.space.encodeText('milk'));
  const deleted: boolean = await idb.delete('0x80:01');
  await idb.close();
  const opfs = await OpfsBindSpace.open({ file: 'notes.log', width: 1024 });
  opfs.set('0x80:01', opfs.space.encodeText('milk'));
  const n = opfs.space.count();
  opfs.close();
  return deleted ? n : -n;
}
