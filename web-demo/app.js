// The bindspace demo page: sentences stored as fingerprints in a space
// kept in IndexedDB, searched by Hamming distance, drawn as a 256x256 map.
import init, { kernelName, BindSpaceError } from 'bindspace';
import { IdbBindSpace, requestPersistence } from 'bindspace/idb';

const DB_NAME = 'bindspace-demo';
// The full sentences live beside the space (a label holds only 32 bytes).
const TEXTS_KEY = 'bindspace-demo:texts';
const WIDTH = 8192;

const $ = (id) => document.getElementById(id);
const hits = new Set();
let store;

function loadTexts() {
  try {
    return JSON.parse(localStorage.getItem(TEXTS_KEY) || '{}');
  } catch {
    return {};
  }
}

function saveText(addr, text) {
  const texts = loadTexts();
  if (text === undefined) delete texts[addr];
  else texts[addr] = text;
  localStorage.setItem(TEXTS_KEY, JSON.stringify(texts));
}

function addrText(raw) {
  const hex = (n) => n.toString(16).toUpperCase().padStart(2, '0');
  return `0x${hex(raw >> 8)}:${hex(raw & 0xff)}`;
}

// A label is at most 32 bytes of UTF-8: cut at a character boundary.
function shortLabel(text) {
  const bytes = new TextEncoder();
  let out = '';
  for (const ch of text) {
    if (bytes.encode(out + ch).length > 32) break;
    out += ch;
  }
  return out;
}

function sentenceAt(addr) {
  return loadTexts()[addr] ?? store.space.entry(addr)?.label ?? '';
}

function nextFreeAddress() {
  const used = new Set(store.space.addresses());
  for (let raw = 0x8000; raw <= 0xffff; raw++) {
    if (!used.has(raw)) return addrText(raw);
  }
  throw new BindSpaceError('every address of the nodes zone is in use');
}

function zoneColour(prefix) {
  if (prefix <= 0x0f) return [70, 40, 90];
  if (prefix <= 0x7f) return [20, 60, 90];
  return [25, 75, 45];
}

function drawMap() {
  const canvas = $('map');
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(256, 256);
  for (let prefix = 0; prefix < 256; prefix++) {
    const [r, g, b] = zoneColour(prefix);
    for (let slot = 0; slot < 256; slot++) {
      const i = (prefix * 256 + slot) * 4;
      image.data[i] = r;
      image.data[i + 1] = g;
      image.data[i + 2] = b;
      image.data[i + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  // Stored entries as small bright squares, hits as larger yellow ones, so
  // a single address is visible on the scaled-up canvas.
  ctx.fillStyle = 'rgb(120 230 255)';
  for (const raw of store.space.addresses()) ctx.fillRect((raw & 0xff) - 1, (raw >> 8) - 1, 3, 3);
  ctx.fillStyle = 'rgb(255 200 0)';
  for (const addr of hits) {
    const raw = parseInt(addr.slice(2, 4), 16) * 256 + parseInt(addr.slice(5, 7), 16);
    ctx.fillRect((raw & 0xff) - 2, (raw >> 8) - 2, 5, 5);
  }
}

function renderStored() {
  const list = $('stored');
  list.replaceChildren();
  const addrs = Array.from(store.space.addresses(), addrText);
  for (const addr of addrs) {
    const li = document.createElement('li');
    li.innerHTML = '<span class="addr"></span> <span class="text"></span> <button type="button" class="del">delete</button>';
    li.querySelector('.addr').textContent = addr;
    li.querySelector('.text').textContent = sentenceAt(addr);
    li.querySelector('.del').addEventListener('click', () => remove(addr));
    list.append(li);
  }
  $('count').textContent = String(addrs.length);
  drawMap();
}

function showError(el, e) {
  el.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  el.classList.add('error');
}

async function storeSentence(event) {
  event.preventDefault();
  const message = $('store-message');
  message.classList.remove('error');
  const sentence = $('sentence').value.trim();
  try {
    const canonical = addrText(parseAddr($('address').value.trim() || nextFreeAddress()));
    const fp = store.space.encodeText(sentence);
    await store.set(canonical, fp);
    // The full text is kept only once the write is stored (until then the
    // label, also stored, stands in for it).
    await store.setLabel(canonical, shortLabel(sentence));
    saveText(canonical, sentence);
    message.textContent = `Stored at ${canonical}.`;
    $('sentence').value = '';
    $('address').value = '';
    renderStored();
  } catch (e) {
    showError(message, e);
  }
}

// Accepts what the space accepts ("0x80:1F", "80:1f", "32799").
function parseAddr(text) {
  if (/^\d+$/.test(text)) {
    const raw = Number(text);
    if (raw > 0xffff) throw new BindSpaceError(`not an address: ${text} (addresses are 0 to 65535)`);
    return raw;
  }
  const m = /^(?:0x)?([0-9a-f]{1,2}):(?:0x)?([0-9a-f]{1,2})$/i.exec(text);
  if (!m) {
    store.space.has(text); // throws the space's AddressError with its message
    throw new BindSpaceError(`not an address: ${text}`);
  }
  return parseInt(m[1], 16) * 256 + parseInt(m[2], 16);
}

function search(event) {
  event.preventDefault();
  const list = $('results');
  list.replaceChildren();
  hits.clear();
  try {
    const query = store.space.encodeText($('query').value);
    const options = { k: Number($('k').value) || 5 };
    if ($('zone').value) options.zone = $('zone').value;
    const started = performance.now();
    const found = store.space.search(query, options);
    const ms = performance.now() - started;
    $('search-info').textContent =
      `${found.length} nearest of ${store.space.count()} in ${ms < 1 ? '<1' : ms.toFixed(1)} ms (exact, ${kernelName()} kernel)`;
    for (const hit of found) {
      hits.add(hit.addr);
      const li = document.createElement('li');
      li.innerHTML = '<span class="addr"></span><span class="dist"></span> <span class="text"></span>';
      li.querySelector('.addr').textContent = hit.addr;
      li.querySelector('.dist').textContent = `d=${hit.distance}`;
      li.querySelector('.text').textContent = sentenceAt(hit.addr);
      list.append(li);
    }
    if (list.children.length === 0) list.textContent = 'Nothing stored matches.';
  } catch (e) {
    showError(list, e);
  }
  drawMap();
}

async function remove(addr) {
  const message = $('store-message');
  message.classList.remove('error');
  try {
    await store.delete(addr);
    saveText(addr, undefined);
    hits.delete(addr);
    message.textContent = `Deleted ${addr}.`;
  } catch (e) {
    showError(message, e);
  }
  renderStored();
}

async function clearAll() {
  const message = $('store-message');
  message.classList.remove('error');
  try {
    await store.close();
    await IdbBindSpace.destroy(DB_NAME);
    localStorage.removeItem(TEXTS_KEY);
    hits.clear();
    $('results').replaceChildren();
    message.textContent = 'Deleted everything.';
  } catch (e) {
    showError(message, e);
  }
  // Open again either way: the page always has a store to show.
  try {
    store = await IdbBindSpace.open({ name: DB_NAME, width: WIDTH });
    renderStored();
  } catch (e) {
    showError(message, e);
  }
}

async function main() {
  await init();
  store = await IdbBindSpace.open({ name: DB_NAME, width: WIDTH });
  const persisted = await requestPersistence().catch(() => false);
  const r = store.space.recovery;
  $('status').textContent =
    `${store.space.width}-bit fingerprints, ${kernelName()} kernel; ` +
    `reopened from IndexedDB: ${r ? r.batches : 0} batches replayed; ` +
    `storage ${persisted ? 'persistent' : 'best-effort (the browser may evict it)'}.`;
  $('store-form').addEventListener('submit', storeSentence);
  $('search-form').addEventListener('submit', search);
  $('clear').addEventListener('click', clearAll);
  renderStored();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  showError($('status'), e);
  document.body.dataset.ready = 'error';
});
