// The demo page in headless Chromium, driven as a person would: store
// sentences, search, reload, find them still there; a screenshot is saved.
// Run by scripts/test.d/46-web-demo.sh after web-demo/build.sh.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { chromium } = createRequire(join(root, 'wasm/dev/package.json'))('playwright-core');
const screenshot = process.env.BINDSPACE_SCREENSHOT || join(root, 'artifacts/web-demo.png');

const SENTENCES = [
  'the cat sat on the mat',
  'a dog barked all night long',
  'the cat sat on a warm mat',
  'quantum field theory lecture notes',
];

async function storeSentence(page, text, count) {
  await page.fill('#sentence', text);
  await page.click('#store');
  await page.waitForFunction((n) => document.getElementById('count').textContent === String(n), count);
}

async function searchFor(page, query, k) {
  await page.fill('#query', query);
  await page.fill('#k', String(k));
  await page.click('#search');
  await page.waitForSelector('#results li');
  return page.$$eval('#results li', (items) =>
    items.map((li) => ({
      addr: li.querySelector('.addr').textContent,
      distance: Number(li.querySelector('.dist').textContent.slice(2)),
      text: li.querySelector('.text').textContent,
    })));
}

// The RGB of the map pixel at an address (the canvas is 256x256: row =
// prefix, column = slot).
function pixel(page, addr) {
  return page.$eval('#map', (canvas, a) => {
    const raw = parseInt(a.slice(2, 4), 16) * 256 + parseInt(a.slice(5, 7), 16);
    return Array.from(canvas.getContext('2d').getImageData(raw & 0xff, raw >> 8, 1, 1).data.slice(0, 3));
  }, addr);
}

// Serves the demo and launches headless Chromium, runs `fn` with the
// browser and the demo's URL, and closes both however `fn` ends.
async function withChromium(fn) {
  const server = await serve(0);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
    ],
  });
  try {
    return await fn(browser, `http://127.0.0.1:${server.address().port}/`);
  } finally {
    await browser.close();
    server.close();
  }
}

// A new page on the demo, once it is ready.
async function demoPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

// Runs `body` (the text of an async function body, with `init`,
// `BindSpace`, `OpfsBindSpace` and an empty object `out` in scope) in a
// dedicated worker of the demo page, where OPFS's synchronous access
// handles exist; resolves with `out`, or fails with what the body threw
// and what `out` held by then.
async function inWorker(page, body) {
  const reply = await page.evaluate(async (body) => {
    const code = `
      import init, { BindSpace } from '${location.origin}/bindspace/web.js';
      import { OpfsBindSpace } from '${location.origin}/bindspace/opfs.js';
      self.onmessage = async () => {
        const out = {};
        try {
          await init();
          await (async () => { ${body} })();
          postMessage({ out });
        } catch (e) {
          postMessage({ error: e.name + ': ' + e.message + ' (out: ' + JSON.stringify(out) + ')' });
        }
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    try {
      return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage('go');
      });
    } finally {
      worker.terminate();
    }
  }, body);
  assert.equal(reply.error, undefined, reply.error);
  return reply.out;
}

test('store, search, reload, still there', () => withChromium(async (browser, url) => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.textContent('#status'), /8192-bit fingerprints, simd128 kernel/);
  assert.equal(await page.textContent('#count'), '0');

  for (const [i, text] of SENTENCES.entries()) await storeSentence(page, text, i + 1);
  // An address typed by hand, in the fluid zone.
  await page.fill('#address', '0x20:05');
  await storeSentence(page, 'working memory: buy milk', SENTENCES.length + 1);
  // A bad address is refused with the core's message, and nothing is stored.
  await page.fill('#address', 'zz:zz');
  await page.fill('#sentence', 'never stored');
  await page.click('#store');
  await page.waitForFunction(() => document.getElementById('store-message').textContent.includes('AddressError'));
  assert.equal(await page.textContent('#count'), String(SENTENCES.length + 1));

  const before = await searchFor(page, 'a cat sat on the mat', 3);
  assert.equal(before.length, 3);
  assert.deepEqual(before.slice(0, 2).map((h) => h.text).sort(), [SENTENCES[0], SENTENCES[2]].sort());
  assert.ok(before[0].distance <= before[1].distance && before[1].distance <= before[2].distance);
  assert.ok(before[0].distance < 8192 / 4, `a near sentence is near (${before[0].distance})`);
  assert.match(await page.textContent('#search-info'), /^3 nearest of 5 in .* ms \(exact, simd128 kernel\)$/);
  assert.deepEqual(await pixel(page, before[0].addr), [255, 200, 0], 'hits are highlighted');
  assert.deepEqual(await pixel(page, '0x20:05'), [120, 230, 255], 'stored addresses are lit');
  assert.deepEqual(await pixel(page, '0x05:05'), [70, 40, 90], 'empty surface zone colour');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('#count'), String(SENTENCES.length + 1), 'the store survives a reload');
  assert.match(await page.textContent('#status'), /batches replayed/);
  const stored = await page.$$eval('#stored .text', (els) => els.map((e) => e.textContent));
  for (const s of SENTENCES) assert.ok(stored.includes(s), `${s} is listed after reload`);
  const after = await searchFor(page, 'a cat sat on the mat', 3);
  assert.deepEqual(after, before, 'the same search gives the same answer after reload');

  mkdirSync(join(screenshot, '..'), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(errors, [], 'no uncaught errors on the page');
  await context.close();
}));

test('bindspace/idb in Chromium: write-ahead, one writer, reopen', () => withChromium(async (browser, url) => {
  const page = await demoPage(browser, url);
  const r = await page.evaluate(async () => {
    const { IdbBindSpace } = await import('bindspace/idb');
    const fp = (v) => new Uint8Array(8).fill(v);
    const out = {};
    const a = await IdbBindSpace.open({ name: 'adapter-test', width: 64 });
    const b = await IdbBindSpace.open({ name: 'adapter-test', width: 64 });
    // Write-ahead: while the write is in flight the space shows the old state.
    const pending = a.set('0x10:01', fp(1));
    out.visibleBeforeDurable = a.space.has('0x10:01');
    await pending;
    out.visibleAfterDurable = a.space.has('0x10:01');
    // A second writer on the same store is refused, and applies nothing.
    try { await b.set('0x10:02', fp(2)); out.second = 'accepted'; } catch (e) { out.second = `${e.name}: ${e.message}`; }
    out.secondApplied = b.space.has('0x10:02');
    // A refused write does not block the queue.
    try { await a.set('0x10:03', new Uint8Array(3)); } catch (e) { out.bad = e.name; }
    try { await a.write(async (s) => s.set('0x10:06', fp(6))); } catch (e) { out.asyncFn = e.name; }
    out.asyncApplied = a.space.has('0x10:06');
    out.deleted = await a.delete('0x10:01');
    await a.set('0x10:04', fp(4));
    await a.setLabel('0x10:04', 'four');
    out.logBefore = a.space.logLength;
    out.compacted = await a.compact();
    await a.set('0x10:05', fp(5));
    await a.close();
    await b.close();
    const c = await IdbBindSpace.open({ name: 'adapter-test' });
    out.reopened = Array.from(c.space.addresses());
    out.label = c.space.entry('0x10:04').label;
    out.batches = c.space.recovery.batches;
    out.copies = c.space.recovery.copies;
    await c.close();
    try { await IdbBindSpace.open({ name: 'adapter-test', width: 128 }); } catch (e) { out.width = `${e.name}: ${e.message}`; }
    await IdbBindSpace.destroy('adapter-test');

    // Two instances of one store (two tabs): a stale one's compaction
    // never erases the other's write, and it cannot write after the
    // other's compaction either (that would leave a gap).
    const x = await IdbBindSpace.open({ name: 'adapter-two', width: 64 });
    const y = await IdbBindSpace.open({ name: 'adapter-two', width: 64 });
    await y.set('0x10:01', fp(1));
    try { await x.compact(); out.staleCompact = 'compacted'; } catch (e) { out.staleCompact = `${e.name}: ${e.message}`; }
    await y.set('0x10:02', fp(2));
    await y.compact();
    try { await x.set('0x10:03', fp(3)); out.afterCompact = 'accepted'; } catch (e) { out.afterCompact = `${e.name}: ${e.message}`; }
    // A write made on the space directly would never be stored: refused.
    try { y.space.set('0x10:04', fp(4)); out.direct = 'accepted'; } catch (e) { out.direct = `${e.name}: ${e.message}`; }
    out.directApplied = y.space.has('0x10:04');
    const w = await IdbBindSpace.open({ name: 'adapter-two' });
    out.twoReopened = Array.from(w.space.addresses());
    // Deleting the store closes every open instance instead of waiting.
    await IdbBindSpace.destroy('adapter-two');
    try { await y.set('0x10:05', fp(5)); out.afterDestroy = 'accepted'; } catch (e) { out.afterDestroy = `${e.name}: ${e.message}`; }
    await Promise.all([x.close(), y.close(), w.close()]);
    const fresh = await IdbBindSpace.open({ name: 'adapter-two', width: 64 });
    out.afterDestroyCount = fresh.space.count();
    await fresh.close();
    await IdbBindSpace.destroy('adapter-two');

    // A store whose log is damaged in the middle: refused, unless repair
    // is asked for; a repaired store is rewritten and then opens cleanly.
    const { BindSpace } = await import('bindspace');
    const src = new BindSpace({ width: 64 });
    for (const v of [1, 2, 3]) src.set(0x1000 + v, fp(v));
    const image = src.exportLog();
    image[60] ^= 1; // inside the first record (the header is 40 bytes)
    src.free();
    const raw = await new Promise((resolve, reject) => {
      const req = indexedDB.open('adapter-repair', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('log');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise((resolve, reject) => {
      const tx = raw.transaction('log', 'readwrite');
      tx.objectStore('log').put(image, 0);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    try { await IdbBindSpace.open({ name: 'adapter-repair' }); out.strict = 'opened'; } catch (e) { out.strict = `${e.name}: ${e.message}`; }
    const repaired = await IdbBindSpace.open({ name: 'adapter-repair', repair: true });
    out.repaired = Array.from(repaired.space.addresses());
    await repaired.close();
    const again = await IdbBindSpace.open({ name: 'adapter-repair' });
    out.again = Array.from(again.space.addresses());
    await again.close();
    await IdbBindSpace.destroy('adapter-repair');
    return out;
  });
  assert.equal(r.visibleBeforeDurable, false, 'not visible before IndexedDB completes');
  assert.equal(r.visibleAfterDurable, true);
  assert.match(r.second, /^LogError: another writer/);
  assert.equal(r.secondApplied, false);
  assert.equal(r.bad, 'FingerprintError');
  assert.equal(r.asyncFn, 'OptionsError', 'a write function must not wait');
  assert.equal(r.asyncApplied, false);
  assert.equal(r.deleted, true);
  assert.ok(r.compacted < r.logBefore, `compaction shrinks the log (${r.compacted} < ${r.logBefore})`);
  assert.deepEqual(r.reopened, [0x1004, 0x1005]);
  assert.equal(r.label, 'four');
  assert.equal(r.copies, 1, 'the compacted entry');
  assert.equal(r.batches, 1, 'the write after compaction');
  assert.match(r.width, /^LogError: .*64-bit fingerprints, not 128/);
  assert.match(r.staleCompact, /^LogError: another writer/, 'a stale compaction is refused');
  assert.match(r.afterCompact, /^LogError: another writer/, 'a stale write after a compaction is refused');
  assert.match(r.direct, /^LogError: .*durable store/);
  assert.equal(r.directApplied, false);
  assert.deepEqual(r.twoReopened, [0x1001, 0x1002], 'nothing of the other instance was lost');
  assert.match(r.afterDestroy, /^LogError: .*deleted or upgraded in another tab/);
  assert.equal(r.afterDestroyCount, 0);
  assert.match(r.strict, /^LogError: .*corrupted at byte 40/, 'damage is refused by default');
  assert.deepEqual(r.repaired, [0x1002, 0x1003], 'repair keeps every valid batch after the damage');
  assert.deepEqual(r.again, [0x1002, 0x1003], 'the repaired store opens without repair');
}));

test('bindspace/opfs in a Chromium worker: flushed before applied, exclusive, torn tail cut', () => withChromium(async (browser, url) => {
  const page = await demoPage(browser, url);
  const o = await inWorker(page, `
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('t.log').catch(() => {});
    const a = await OpfsBindSpace.open({ file: 't.log', width: 64 });
    a.set('0x10:01', new Uint8Array(8).fill(1));
    out.reply = a.exec('SET 0x10:02 0f0f0f0f0f0f0f0f');
    try { a.set('0x10:03', new Uint8Array(3)); } catch (e) { out.bad = e.name; }
    try { await OpfsBindSpace.open({ file: 't.log' }); out.second = 'opened'; } catch (e) { out.second = e.name; }
    const length = a.space.logLength;
    a.close();
    // Power failed in the middle of a write: bytes with no valid frame at the end.
    const h = await (await root.getFileHandle('t.log')).createSyncAccessHandle();
    out.sizeBefore = h.getSize();
    h.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), { at: h.getSize() });
    h.flush();
    h.close();
    const b = await OpfsBindSpace.open({ file: 't.log' });
    out.afterTorn = Array.from(b.space.addresses());
    out.torn = b.space.recovery.tornBytes;
    out.lengthMatches = b.space.logLength === length;
    try { b.space.set('0x10:09', new Uint8Array(8)); out.direct = 'accepted'; } catch (e) { out.direct = e.name; }
    b.set('0x10:04', new Uint8Array(8).fill(4));
    b.close();
    const c = await OpfsBindSpace.open({ file: 't.log', width: 64 });
    out.final = Array.from(c.space.addresses());
    out.tornAgain = c.space.recovery.tornBytes;
    c.close();
    await root.removeEntry('t.log');

    // Damage in the middle: refused, unless repair is asked for; a
    // repair stores what it kept (through a second file), so the
    // file then opens without repair and nothing else is left.
    const src = new BindSpace({ width: 64 });
    for (const v of [1, 2, 3]) src.set(0x1000 + v, new Uint8Array(8).fill(v));
    const image = src.exportLog();
    image[60] ^= 1; // inside the first record (the header is 40 bytes)
    src.free();
    const write = async (name, bytes) => {
      const h = await (await root.getFileHandle(name, { create: true })).createSyncAccessHandle();
      h.truncate(0);
      h.write(bytes, { at: 0 });
      h.flush();
      h.close();
    };
    await write('r.log', image);
    try { await OpfsBindSpace.open({ file: 'r.log' }); out.strict = 'opened'; } catch (e) { out.strict = e.name; }
    const r1 = await OpfsBindSpace.open({ file: 'r.log', repair: true });
    out.repaired = Array.from(r1.space.addresses());
    r1.set('0x10:07', new Uint8Array(8).fill(7));
    r1.close();
    const r2 = await OpfsBindSpace.open({ file: 'r.log' });
    out.repairedAgain = Array.from(r2.space.addresses());
    r2.close();
    // A repair cut off after its copy was whole is finished at open.
    await write('q.log', new Uint8Array([1, 2, 3]));
    const whole = new Uint8Array(await (await (await root.getFileHandle('r.log')).getFile()).arrayBuffer());
    await write('q.log.repaired', whole);
    const q = await OpfsBindSpace.open({ file: 'q.log' });
    out.finished = Array.from(q.space.addresses());
    q.close();
    // A file whose header was cut short at creation starts again.
    await write('h.log', new Uint8Array([0x42, 0x53, 0x4c]));
    const h1 = await OpfsBindSpace.open({ file: 'h.log', width: 64 });
    out.shortHeader = h1.space.count();
    h1.close();
    out.leftovers = [];
    for await (const name of root.keys()) out.leftovers.push(name);
    for (const name of out.leftovers) await root.removeEntry(name);
  `);
  assert.equal(o.reply, 'OK');
  assert.equal(o.bad, 'FingerprintError');
  assert.equal(o.second, 'NoModificationAllowedError', 'the file is exclusive while open');
  assert.deepEqual(o.afterTorn, [0x1001, 0x1002]);
  assert.equal(o.torn, 7);
  assert.equal(o.lengthMatches, true, 'the torn bytes were cut from the file');
  assert.deepEqual(o.final, [0x1001, 0x1002, 0x1004]);
  assert.equal(o.tornAgain, 0, 'the write after the cut follows the last valid record');
  assert.equal(o.direct, 'LogError', 'a write on the space directly is refused');
  assert.equal(o.strict, 'LogError', 'damage is refused by default');
  assert.deepEqual(o.repaired, [0x1002, 0x1003], 'repair keeps every valid batch after the damage');
  assert.deepEqual(o.repairedAgain, [0x1002, 0x1003, 0x1007], 'the repaired file opens without repair, writes kept');
  assert.deepEqual(o.finished, [0x1002, 0x1003, 0x1007], 'an interrupted repair is finished at open');
  assert.equal(o.shortHeader, 0);
  assert.deepEqual(
    o.leftovers.filter((n) => !n.endsWith('.lock')).sort(),
    ['h.log', 'q.log', 'r.log'],
    'no repair file is left behind',
  );
}));


test('bindspace/idb in Chromium: read-modify-write in call order, torn tail cut and rewritten', () => withChromium(async (browser, url) => {
  const page = await demoPage(browser, url);
  const r = await page.evaluate(async () => {
    const { IdbBindSpace } = await import('bindspace/idb');
    const { BindSpace } = await import('bindspace');
    const fp = (v) => new Uint8Array(8).fill(v);
    // A counter kept in a fingerprint's first four bytes.
    const value = (f) => (f ? new DataView(f.buffer, f.byteOffset).getUint32(0, true) : 0);
    const counter = (n) => {
      const f = new Uint8Array(8);
      new DataView(f.buffer).setUint32(0, n, true);
      return f;
    };
    // Every chunk of a store, as IndexedDB holds it.
    const chunks = async (name) => {
      const db = await new Promise((resolve, reject) => {
        const req = indexedDB.open(name, 1);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const tx = db.transaction('log', 'readonly');
      const all = await new Promise((resolve, reject) => {
        const keys = tx.objectStore('log').getAllKeys();
        const values = tx.objectStore('log').getAll();
        tx.oncomplete = () => resolve(keys.result.map((k, i) => [k, values.result[i].byteLength]));
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return all;
    };
    const out = {};

    // 50 read-modify-writes started at once, none awaited before the
    // next: each runs after the one before it is stored and applied, so
    // each reads its predecessor's value and none is lost.
    const s = await IdbBindSpace.open({ name: 'adapter-rmw', width: 64 });
    const a = '0x10:01';
    out.steps = await Promise.all(Array.from({ length: 50 }, () =>
      s.write((space) => {
        const n = value(space.get(a)) + 1;
        space.set(a, counter(n));
        return n;
      })));
    out.value = value(s.space.get(a));
    await s.close();
    const s2 = await IdbBindSpace.open({ name: 'adapter-rmw' });
    out.reopenedValue = value(s2.space.get(a));
    out.reopenedBatches = s2.space.recovery.batches;
    await s2.close();
    await IdbBindSpace.destroy('adapter-rmw');

    // A store whose last chunk ends in bytes that are no record (a torn
    // tail, as in a copied or edited store): it opens with them cut, says
    // how many, and is rewritten without them, so the next write lands
    // right after the last valid record.
    const src = new BindSpace({ width: 64 });
    for (const v of [1, 2]) src.set(0x1000 + v, fp(v));
    const image = src.exportLog();
    src.free();
    const tail = new Uint8Array(image.length - 40 + 7);
    tail.set(image.subarray(40));
    tail.set([1, 2, 3, 4, 5, 6, 7], image.length - 40);
    const raw = await new Promise((resolve, reject) => {
      const req = indexedDB.open('adapter-torn', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('log');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise((resolve, reject) => {
      const tx = raw.transaction('log', 'readwrite');
      tx.objectStore('log').put(image.slice(0, 40), 0);
      tx.objectStore('log').put(tail, 40);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    out.imageLength = image.length;
    out.tornChunks = await chunks('adapter-torn');
    const t = await IdbBindSpace.open({ name: 'adapter-torn' });
    out.tornAddresses = Array.from(t.space.addresses());
    out.tornBytes = t.space.recovery.tornBytes;
    out.tornLength = t.space.logLength;
    out.cutChunks = await chunks('adapter-torn');
    try { await t.set('0x10:03', fp(3)); out.afterCut = 'stored'; } catch (e) { out.afterCut = `${e.name}: ${e.message}`; }
    await t.close();
    const t2 = await IdbBindSpace.open({ name: 'adapter-torn' });
    out.tornReopened = Array.from(t2.space.addresses());
    out.tornAgain = t2.space.recovery.tornBytes;
    await t2.close();
    await IdbBindSpace.destroy('adapter-torn');
    return out;
  });
  assert.deepEqual(r.steps, Array.from({ length: 50 }, (_, i) => i + 1), 'each write read the one before it, in call order');
  assert.equal(r.value, 50);
  assert.equal(r.reopenedValue, 50, 'all 50 writes were stored');
  assert.equal(r.reopenedBatches, 50);
  assert.deepEqual(r.tornChunks, [[0, 40], [40, r.imageLength - 40 + 7]], 'the store starts with a torn tail');
  assert.deepEqual(r.tornAddresses, [0x1001, 0x1002]);
  assert.equal(r.tornBytes, 7, 'recovery.tornBytes reports the cut bytes');
  assert.equal(r.tornLength, r.imageLength);
  assert.deepEqual(r.cutChunks, [[0, r.imageLength]], 'the store was rewritten without the torn bytes');
  assert.equal(r.afterCut, 'stored', 'a write after the cut follows the last valid record');
  assert.deepEqual(r.tornReopened, [0x1001, 0x1002, 0x1003]);
  assert.equal(r.tornAgain, 0);
}));

test('bindspace/opfs in a Chromium worker: a failed write or flush applies and keeps nothing; read-only after a failed flush; closed', () => withChromium(async (browser, url) => {
  const page = await demoPage(browser, url);
  const o = await inWorker(page, `
    const fp = (v) => new Uint8Array(8).fill(v);
    const root = await navigator.storage.getDirectory();
    const proto = FileSystemSyncAccessHandle.prototype;
    const size = async (name) => (await (await root.getFileHandle(name)).getFile()).size;
    const failure = (method) => new DOMException('injected ' + method + ' failure', 'InvalidStateError');
    // Runs fn with proto[method] replaced by fake(original), restored after.
    const patched = (method, fake, fn) => {
      const original = proto[method];
      proto[method] = fake(original);
      try { return fn(); } finally { proto[method] = original; }
    };
    const attempt = (fn) => { try { fn(); return 'accepted'; } catch (e) { return e.name + ': ' + e.message; } };
    await root.removeEntry('f.log').catch(() => {});
    const a = await OpfsBindSpace.open({ file: 'f.log', width: 64 });
    a.set('0x10:01', fp(1));

    // The order of a write: written, flushed, then applied.
    let handle;
    patched('flush', (flush) => function () {
      handle = this;
      out.sizeAtFlush = this.getSize();
      out.visibleAtFlush = a.space.has('0x10:02');
      return flush.call(this);
    }, () => a.set('0x10:02', fp(2)));
    out.visibleAfter = a.space.has('0x10:02');
    const length = a.space.logLength;
    const before = handle.getSize();
    out.sizeIsLength = before === length;
    out.written = out.sizeAtFlush === length;

    // The write itself fails part way: nothing applied, its bytes cut, and
    // the store goes on writing.
    out.writeFailed = patched('write', (write) => function (bytes, options) {
      out.partWritten = write.call(this, bytes.subarray(0, 5), options);
      throw failure('write');
    }, () => attempt(() => a.set('0x10:03', fp(3))));
    out.afterWrite = {
      has: a.space.has('0x10:03'), length: a.space.logLength === length, size: handle.getSize() === before,
    };
    out.writeAfterWrite = attempt(() => a.set('0x10:04', fp(4)));
    const length2 = a.space.logLength;
    const before2 = handle.getSize();

    // The flush fails: nothing applied, the bytes cut, and the store is
    // read-only from then on (reads still work) until it is reopened.
    out.flushFailed = patched('flush', () => function () {
      out.sizeAtFailedFlush = this.getSize();
      throw failure('flush');
    }, () => attempt(() => a.set('0x10:05', fp(5))));
    out.afterFlush = {
      has: a.space.has('0x10:05'), length: a.space.logLength === length2, size: handle.getSize() === before2,
      grewBeforeFlush: out.sizeAtFailedFlush > before2,
    };
    out.writeAfterFlush = attempt(() => a.set('0x10:06', fp(6)));
    out.execAfterFlush = attempt(() => a.exec('SET 0x10:06 0101010101010101'));
    out.execReadAfterFlush = attempt(() => a.exec('GET 0x10:01'));
    out.readsAfterFlush = Array.from(a.space.addresses());
    out.getAfterFlush = Array.from(a.space.get('0x10:01'));
    a.close();
    out.fileAfterFlush = (await size('f.log')) === length2;
    const b = await OpfsBindSpace.open({ file: 'f.log' });
    out.reopened = Array.from(b.space.addresses());
    out.reopenedTorn = b.space.recovery.tornBytes;
    out.reopenedLength = b.space.logLength === length2;
    out.writeAfterReopen = attempt(() => b.set('0x10:07', fp(7)));
    const length3 = b.space.logLength;

    // A write fails part way and cutting its bytes fails too: read-only,
    // and the next open cuts the partial record it left (a torn tail).
    out.cutFailed = patched('truncate', () => () => { throw failure('truncate'); }, () =>
      patched('write', (write) => function (bytes, options) {
        write.call(this, bytes.subarray(0, 5), options);
        throw failure('write');
      }, () => attempt(() => b.set('0x10:08', fp(8)))));
    out.afterCutFailed = { has: b.space.has('0x10:08'), length: b.space.logLength === length3 };
    out.writeAfterCutFailed = attempt(() => b.set('0x10:09', fp(9)));
    b.close();
    out.fileAfterCutFailed = (await size('f.log')) - length3;
    const c = await OpfsBindSpace.open({ file: 'f.log' });
    out.cutReopened = Array.from(c.space.addresses());
    out.cutTorn = c.space.recovery.tornBytes;

    // Closed: a clear error, not a freed space's; closing twice is harmless.
    c.close();
    out.fileCut = (await size('f.log')) === length3;
    out.writeAfterClose = attempt(() => c.set('0x10:0A', fp(10)));
    out.closeTwice = attempt(() => c.close());
    await root.removeEntry('f.log');
  `);
  // Write-ahead order.
  assert.equal(o.written, true, 'the bytes are in the file when it is flushed');
  assert.equal(o.visibleAtFlush, false, 'not applied before the flush');
  assert.equal(o.visibleAfter, true);
  assert.equal(o.sizeIsLength, true, 'the file is the log image');
  // A failed write.
  assert.equal(o.writeFailed, 'InvalidStateError: injected write failure');
  assert.equal(o.partWritten, 5);
  assert.deepEqual(o.afterWrite, { has: false, length: true, size: true }, 'nothing applied, the part written cut');
  assert.equal(o.writeAfterWrite, 'accepted', 'a failed write whose bytes were cut does not stop the store');
  // A failed flush.
  assert.equal(o.flushFailed, 'InvalidStateError: injected flush failure');
  assert.deepEqual(o.afterFlush, { has: false, length: true, size: true, grewBeforeFlush: true });
  assert.match(o.writeAfterFlush, /^LogError: this OpfsBindSpace is read-only after a failed flush \(InvalidStateError: injected flush failure\); reopen it/);
  assert.equal(o.execAfterFlush, o.writeAfterFlush);
  assert.equal(o.execReadAfterFlush, 'accepted', 'a command that writes nothing still runs');
  assert.deepEqual(o.readsAfterFlush, [0x1001, 0x1002, 0x1004], 'reads still work');
  assert.deepEqual(o.getAfterFlush, [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(o.fileAfterFlush, true);
  assert.deepEqual(o.reopened, [0x1001, 0x1002, 0x1004], 'nothing of the failed writes after reopen');
  assert.equal(o.reopenedTorn, 0);
  assert.equal(o.reopenedLength, true);
  assert.equal(o.writeAfterReopen, 'accepted', 'reopening makes the file writable again');
  // A failed write whose bytes could not be cut.
  assert.equal(o.cutFailed, 'InvalidStateError: injected write failure');
  assert.deepEqual(o.afterCutFailed, { has: false, length: true });
  assert.match(o.writeAfterCutFailed, /^LogError: this OpfsBindSpace is read-only: a write failed \(InvalidStateError: injected write failure\) and its bytes could not be cut/);
  assert.equal(o.fileAfterCutFailed, 5, 'the partial record is still at the end of the file');
  assert.deepEqual(o.cutReopened, [0x1001, 0x1002, 0x1004, 0x1007]);
  assert.equal(o.cutTorn, 5, 'the next open cuts it as a torn tail');
  assert.equal(o.fileCut, true, 'and the file ends at the last valid record again');
  // Closed.
  assert.equal(o.writeAfterClose, 'LogError: this OpfsBindSpace is closed');
  assert.equal(o.closeTwice, 'accepted');
}));
