// The browser check of the live page /_soundcheck/ui: headless Chromium drives the page while
// this script plays the integrator's client through the Musique API, and asserts what the page
// shows. Screenshots of every view are kept as artifacts.
//   node scripts/ui-browser-check.mjs http://127.0.0.1:PORT OUT_DIR path/to/tone_1s.mp3
// Needs the npm package playwright-core and Debian's chromium (never a downloaded browser).
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';

const [base, outDir, tonePath, guardedBase, adminToken] = process.argv.slice(2);
if (!base || !outDir || !tonePath) {
  console.error('usage: ui-browser-check.mjs BASE_URL OUT_DIR TONE_MP3 [BASE_URL_WITH_ADMIN_TOKEN ADMIN_TOKEN]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const T0 = '2026-11-23T12:00:00Z';
const at = (seconds) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const checks = [];
const ok = (what) => {
  checks.push(what);
  console.log(`ok ${checks.length} - ${what}`);
};

async function call(method, path, { key, json, form } = {}) {
  const headers = {};
  if (key) headers['x-api-key'] = key;
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  if (form) body = form;
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

// The integrator's side: a tenant of three stores on a frozen clock, a 1-second tone.
const created = await call('POST', '/_soundcheck/tenants', {
  json: { name: 'ui check', musique: { stores: 3 }, clock: { at: T0, frozen: true } },
});
if (created.status !== 201) throw new Error(`tenant: ${created.status} ${JSON.stringify(created.body)}`);
const tenant = created.body.id;
const token = created.body.musique.tokens.find((t) => t.environment === 'prod').token;
const form = new FormData();
form.append('file', new Blob([readFileSync(tonePath)], { type: 'audio/mpeg' }), 'tone.mp3');
const uploaded = await call('POST', '/api/v1/integration/audio', { key: token, form });
if (uploaded.status !== 200) throw new Error(`upload: ${uploaded.status}`);
const audio = uploaded.body.id;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const outside = [];
const consoleErrors = [];
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:') {
      return route.continue();
    }
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.setDefaultTimeout(15000);
  const shot = async (name) => {
    const path = `${outDir}/ui-${name}.png`;
    await page.screenshot({ path, fullPage: true });
    console.log(`   screenshot ${path}`);
    return path;
  };
  const tab = (name) => page.click(`#tab-${name}`);
  const lane = (store) => `#timeline .lane[data-store="${store}"]`;
  const tile = (store) => `#tiles .tile[data-store="${store}"]`;
  const advance = async (by) => {
    await tab('stores');
    await page.fill('#advance-quick input[name=advance]', by);
    await page.click('#advance-quick button');
  };
  const clockIs = (instant) => page.waitForFunction(
    (want) => document.getElementById('clock-now').getAttribute('datetime') === want, instant);

  await page.goto(`${base}/_soundcheck/ui#view=stores&tenant=${tenant}`);
  await page.waitForSelector(`${tile('store_003')}`);
  await clockIs(at(0));
  ok('the page opens on the tenant, with a tile per store (3) and its frozen clock');
  const picked = await page.$eval('#tenant', (s) => [s.value, [...s.options].map((o) => o.textContent)]);
  if (picked[0] !== tenant || !picked[1].some((t) => t.includes('default')) || !picked[1].some((t) => t.includes('3 stores'))) {
    throw new Error(`tenant picker: ${JSON.stringify(picked)}`);
  }
  ok('the tenant picker lists the default tenant and this one with its counts, this one chosen');

  // A send through the Musique API appears on the page, pushed by the server.
  const sent = await call('POST', `/api/v1/integration/audio/${audio}/send`, {
    key: token,
    json: { externalIds: ['store_001', 'store_002'], scheduleAt: at(30), repeat: 2, priority: 'high' },
  });
  if (sent.status !== 200) throw new Error(`send: ${sent.status} ${JSON.stringify(sent.body)}`);
  const send = sent.body.sendId;
  const block = (store) => `${lane(store)} .blk[data-send="${send}"]`;
  await page.waitForSelector(`${block('store_001')}[data-status="scheduled"]`);
  await page.waitForSelector(`${block('store_002')}[data-status="scheduled"]`);
  if (await page.$(`${lane('store_003')} .blk`)) throw new Error('store_003 got a block it was not sent');
  ok('a send through the Musique API shows as a scheduled block in the lanes of its two destinations only (live, no reload)');
  await shot('stores');

  // store_002 goes offline from the page, failing deliveries after 1 minute.
  await tab('controls');
  await page.fill('#player-form input[name=failAfter]', '1m');
  await tab('stores');
  await page.click(`${tile('store_002')} button`);
  await page.waitForSelector(`${tile('store_002')} .pill[data-online="false"]`);
  const player2 = await call('GET', `/_soundcheck/tenants/${tenant}/locations/store_002/player`);
  if (player2.body.online !== false || player2.body.failAfterMs !== 60000) throw new Error(`player: ${JSON.stringify(player2.body)}`);
  ok('"Set offline" on store_002\'s tile takes its player offline (failAfter 1m) through the control plane');

  // The clock moves from the page: the blocks move, store_001 plays, store_002 waits.
  const leftBefore = await page.$eval(block('store_001'), (b) => parseFloat(b.style.left));
  await advance('31s');
  await clockIs(at(31));
  await page.waitForSelector(`${block('store_001')}[data-status="playing"]`);
  await page.waitForSelector(`${block('store_002')}[data-status="queued"]`);
  const leftAfter = await page.$eval(block('store_001'), (b) => parseFloat(b.style.left));
  if (!(leftAfter < leftBefore)) throw new Error(`the block did not move left: ${leftBefore} -> ${leftAfter}`);
  const playingTile = await page.$eval(tile('store_001'), (t) => t.textContent);
  for (const want of ['tone', 'high', '2 of 2', '100%']) {
    if (!playingTile.includes(want)) throw new Error(`store_001's tile lacks ${want}: ${playingTile}`);
  }
  ok('"Advance clock" 31s from the page: the block moves left, store_001 plays it, in its second play (tile: name, priority high, repeat 2 of 2, volume 100%), store_002 holds it queued');
  await shot('stores-playing');

  await advance('10s');
  await clockIs(at(41));
  await page.waitForSelector(`${block('store_001')}[data-status="played"]`);
  await tab('library');
  await page.waitForSelector(`#library [data-audio="${audio}"] .times-played`);
  const played = await page.$eval(`#library [data-audio="${audio}"] .times-played`, (e) => e.textContent);
  const api = await call('GET', `/api/v1/integration/audio/${audio}`, { key: token });
  if (played !== '2' || api.body.stats.timesPlayed !== 2) throw new Error(`stats: page ${played}, API ${api.body.stats.timesPlayed}`);
  const src = await page.$eval(`#library [data-audio="${audio}"] audio`, (a) => a.src);
  if (src !== `${base}/media/audio/${audio}.mp3`) throw new Error(`audio src ${src}`);
  await page.waitForSelector(`#library [data-send="${send}"] [data-dest="store_001"].played`);
  await page.waitForSelector(`#library [data-send="${send}"] [data-dest="store_002"].queued`);
  ok('10s more: store_001 played it; the library shows timesPlayed 2 (repeat 2 at one store, as the API says), an <audio> on its media URL, and the send with store_001 played, store_002 queued');
  await shot('library');

  // store_002's delivery fails at due + 1m = T0+90s, not before.
  await advance('45s');
  await clockIs(at(86));
  await page.waitForSelector(`${block('store_002')}[data-status="queued"]`);
  await advance('5s');
  await clockIs(at(91));
  await page.waitForSelector(`${block('store_002')}[data-status="failed"]`);
  const sendView = await call('GET', `/_soundcheck/tenants/${tenant}/sends/${send}`);
  const dest = sendView.body.destinations.find((d) => d.externalId === 'store_002');
  if (dest.status !== 'failed' || dest.finishedAt !== at(90)) throw new Error(`store_002: ${JSON.stringify(dest)}`);
  ok('store_002\'s delivery is still queued at T0+86s and failed at T0+91s; the API says it failed at T0+90s (due + failAfter)');

  // A fault added from the page is what the API answers with.
  await tab('controls');
  await page.fill('#fault-form input[name=method]', 'GET');
  await page.fill('#fault-form input[name=path]', '/api/v1/integration/audio');
  await page.fill('#fault-form input[name=status]', '503');
  await page.fill('#fault-form input[name=times]', '1');
  await page.click('#fault-form button[type=submit]');
  await page.waitForSelector('#faults [data-fault]');
  const faulted = await call('GET', '/api/v1/integration/audio', { key: token });
  if (faulted.status !== 503) throw new Error(`fault: the API answered ${faulted.status}`);
  await page.waitForFunction(() => document.querySelector('#faults [data-fault]')?.textContent.includes('fired 1'));
  ok('a fault (GET /api/v1/integration/audio → 503, once) added from the Controls view: the API answers 503 and the page counts it fired');
  await shot('controls');

  // A request the real service may treat differently is journaled with its note.
  const paged = await call('GET', '/api/v1/integration/audio?page=1&limit=5', { key: token });
  if (paged.status !== 200) throw new Error(`list: ${paged.status}`);
  await tab('journal');
  const noted = '#journal tr.noted';
  await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((r) => r.textContent.includes('page=1') && r.textContent.includes('roadmap')), noted);
  const faultRow = await page.$$eval('#journal tr.err', (rows) => rows.map((r) => r.textContent));
  if (!faultRow.some((r) => r.includes('503'))) throw new Error('the 503 is not in the journal');
  await page.fill('#journal-filter input[name=status]', '503');
  await page.click('#journal-filter button');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#journal tr')];
    return rows.length === 1 && rows[0].textContent.includes('503');
  });
  ok('the journal shows the paged list with its highlighted "production would differ" note and the faulted 503; filtering by status 503 leaves that row alone');
  await page.fill('#journal-filter input[name=status]', '');
  await page.click('#journal-filter button');
  await page.waitForSelector(noted);
  await shot('journal');

  await tab('limits');
  await page.waitForSelector('#limits [data-window="minute"]');
  const minute = await page.$eval(`#limits [data-window="minute"]`, (d) => d.textContent);
  const limits = await call('GET', `/_soundcheck/tenants/${tenant}/limits`);
  const prod = limits.body.keys.find((k) => k.api === 'musique' && k.environment === 'prod');
  const used = prod.windows.find((w) => w.window === 'minute').used;
  // The windows run on the tenant's clock: the requests before the clock moved 91s have
  // dripped back out of the minute; the paged list since counts.
  if (used < 1) throw new Error(`the minute window counted ${used}`);
  const keyMinute = await page.$eval(`#limits [data-key="${prod.id}"] [data-window="minute"]`, (d) => d.textContent);
  if (!keyMinute.startsWith(`${used} / ${prod.windows[0].limit} used`)) throw new Error(`the page says ${keyMinute}, the API ${used}`);
  const text = await page.$eval('#limits', (d) => d.textContent);
  const arkKeys = limits.body.keys.filter((k) => k.api === 'musicark').length;
  if (text.includes(token)) throw new Error('limits: a secret shows');
  if (arkKeys > 0 && (await page.$$('#limits [data-window="month"]')).length !== arkKeys) throw new Error('limits: a MusicArk month is missing');
  ok(`the Limits view shows each key's minute/hour/day windows and MusicArk's month as gauges (minute: "${minute.trim().slice(0, 40)}…"), never a secret`);
  await shot('limits');

  // Keyboard: the tabs move with the arrow keys.
  await page.focus('#tab-limits');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#view-controls:not([hidden])');
  if ((await page.evaluate(() => document.activeElement.id)) !== 'tab-controls') throw new Error('focus did not follow');
  ok('the view tabs are keyboard-usable (arrow keys move view and focus)');

  // Reset, confirmed in a dialog.
  await page.click('#reset');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm button[value=cancel]');
  const still = await call('GET', `/_soundcheck/tenants/${tenant}/library`);
  if (still.body.total !== 1) throw new Error('cancel reset it anyway');
  await page.click('#reset');
  await page.click('#confirm-ok');
  await tab('stores');
  await page.waitForFunction(() => document.querySelectorAll('#timeline .blk').length === 0);
  await clockIs(at(0));
  ok('"Reset tenant…" asks first (Cancel keeps everything); confirmed, the blocks go and the clock is back at T0');

  // Narrow window: still one column, nothing wider than the window.
  await page.setViewportSize({ width: 420, height: 900 });
  await page.waitForTimeout(200);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 420) {
    // Names the element that reaches furthest right, for whoever has to fix it.
    const widest = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => !e.closest('.timeline'))
      .map((e) => [`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}`, Math.round(e.getBoundingClientRect().right)])
      .sort((a, b) => b[1] - a[1])[0]);
    throw new Error(`the narrow page is ${wide}px wide (${widest[0]} ends at ${widest[1]}px)`);
  }
  ok('readable on a 420px-wide window: no horizontal scroll');
  await shot('narrow');
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.close();

  // With --admin-token the page asks for it, then sends it on every call, the stream included.
  if (guardedBase && adminToken) {
    const guarded = await context.newPage();
    guarded.on('console', (m) => {
      // The 401s before the token is given are the page's question, not an error of its code.
      if (m.type() === 'error' && !m.text().includes('401')) consoleErrors.push(m.text());
    });
    guarded.on('pageerror', (e) => consoleErrors.push(String(e)));
    guarded.setDefaultTimeout(15000);
    await guarded.goto(`${guardedBase}/_soundcheck/ui`);
    await guarded.waitForSelector('#token-form:not([hidden])');
    await guarded.fill('#token', 'wrong-token');
    await guarded.click('#token-form button');
    await guarded.waitForSelector('#token-form:not([hidden])');
    await guarded.fill('#token', adminToken);
    await guarded.click('#token-form button');
    await guarded.waitForSelector('#tiles .tile[data-store="store_001"]');
    await guarded.waitForFunction(() => document.getElementById('live').textContent === 'live');
    await guarded.screenshot({ path: `${outDir}/ui-admin-token.png`, fullPage: true });
    console.log(`   screenshot ${outDir}/ui-admin-token.png`);
    ok('with --admin-token the page asks for the token, asks again after a wrong one, then shows the default tenant and its live stream');
    await guarded.close();
  }
} catch (err) {
  failed = err;
} finally {
  await browser.close();
}
if (failed) console.log(`not ok - ${failed.message}`);
if (consoleErrors.length > 0) console.log(`not ok - console errors: ${consoleErrors.join(' | ')}`);
else console.log(`ok ${checks.length + 1} - no console error`);
if (outside.length > 0) console.log(`not ok - requests that tried to leave the machine: ${outside.join(', ')}`);
else console.log(`ok ${checks.length + 2} - no request left the machine`);
process.exit(failed || consoleErrors.length > 0 || outside.length > 0 ? 1 : 0);
