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
