// Type-checked by `tsc --noEmit` against the installed package: the
// generated types must describe what the README shows.
import { BindSpace, BindSpaceError, CapacityError, type SearchHit, type SearchOptions } from 'bindspace';

const space: BindSpace = new BindSpace({ width: 1024, capacity: 100 });
const fp: Uint8Array = space.encodeText('hello');
space.set('0x80:01', fp);
space.set(0x8002, space.bind(fp, fp));
const options: SearchOptions = { k: 5, zone: 'nodes', maxDist: 400 };
const hits: SearchHit[] = space.search(fp, options);
const first: string | undefined = hits[0]?.addr;
const distance: number | undefined = hits[0]?.distance;
const stored: Uint8Array | undefined = space.get('0x80:01');
const n: number = space.count('nodes') + space.count();
const ok: boolean = space.has(1) && space.delete('0x80:02');
const reply: string | number | null | unknown[] = space.exec('PING');
void reply;
try {
  space.set('0x80:03', new Uint8Array(3));
} catch (e) {
  if (e instanceof CapacityError || e instanceof BindSpaceError) {
    const message: string = e.message;
    void message;
  }
}
{
  using scoped = new BindSpace({ width: 64 });
  void scoped.count();
}
space.free();
void [first, distance, stored, n, ok];
