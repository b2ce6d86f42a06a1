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
  const r = await page.evaluate(async () => {
    const code = `
      import init, { BindSpace } from '${location.origin}/bindspace/web.js';
      import { OpfsBindSpace } from '${location.origin}/bindspace/opfs.js';
      self.onmessage = async () => {
        try {
          await init();
          const out = {};
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
          postMessage({ out });
        } catch (e) {
          postMessage({ error: e.name + ': ' + e.message });
        }
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    const reply = await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage('go');
    });
    worker.terminate();
    return reply;
  });
  assert.equal(r.error, undefined, r.error);
  const o = r.out;
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
