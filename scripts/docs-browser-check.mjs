// The browser check of the docs page: headless Chromium opens /docs for each document and
// asserts that every operation of the document is listed on the rendered page, and that no
// request the page made left the machine. Then, for every operation of every document, it
// presses "Try it out" and "Execute" with nothing edited (the prefilled examples and
// defaults, the keys the Authorize dialogs were given) on a freshly reset default sandbox,
// and expects the operation's documented success status. Screenshots are kept as artifacts.
//   node scripts/docs-browser-check.mjs http://127.0.0.1:PORT OUT_DIR
// Needs the npm package playwright-core (installed by .ci/run) and Debian's chromium. The
// server must be a fresh one: the check resets its default tenant before each document.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: docs-browser-check.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const documents = [
  ['Musique Partner API', '/openapi/musique.json', '/api/v1/integration'],
  ['Musique Partner API: legacy paths and audio files', '/openapi/musique-legacy.json', '/'],
  ['MusicArk API', '/openapi/musicark.json', '/api/v1'],
  ['soundcheck control plane', '/openapi/control.json', '/_soundcheck'],
];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// The order each document's operations are executed in: reads first, then what writes, the
// destructive last (a delete after the send; revoking the calling token at the very end).
// An operation missing here fails the check. Swagger UI cannot prefill what only exists once
// an earlier step made it (a tenant to delete, a fault's, a webhook's or a send's id): those
// few parameters are typed in from that step's answer, as a user would, and named here.
// `file` is the one file input (uploads): the example announcement's MP3.
const MP3 = resolve('fixtures/welcome.mp3');
const PLANS = {
  '/openapi/musique.json': [
    'apiInfo', 'health', 'listAudio', 'getAudio', { op: 'uploadAudio', file: MP3 }, 'sendAudio', 'deleteAudio',
  ],
  '/openapi/musique-legacy.json': [
    'legacyInfo', 'legacyHealth', 'legacyLimits', 'legacyTestToken', 'legacyListAudio', 'legacyGetAudio',
    'getAudioFile', { op: 'legacyUploadAudio', file: MP3 }, 'legacySendAudio', 'legacyIssueToken',
    'legacyDeleteAudio', 'legacyRevokeToken',
  ],
  '/openapi/musicark.json': ['listSongs', 'getSong', 'searchText', 'searchColor', 'searchEmotional'],
  '/openapi/control.json': [
    'controlHealth', 'coverage', 'listTenants', 'getTenant', 'getClock', 'setClock', 'listStores',
    'getPlayer', 'setPlayer', 'listLibrary', 'listLimits', 'listRequests', 'exportScenario',
    'listFaults', { op: 'createFault', keep: 'fault' }, { op: 'deleteFault', fill: ['fault'] }, 'clearFaults',
    'listWebhooks', { op: 'createWebhook', keep: 'webhook' }, { op: 'deleteWebhook', fill: ['webhook'] },
    'listOutbox', 'listSends', { op: 'getSend', fill: ['send_id'] }, 'clearRequests',
    { op: 'createTenant', keep: 'tenant' }, { op: 'deleteTenant', fill: ['tenant'] }, 'resetTenant',
    'resetDefault', 'tenantEvents',
  ],
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const outside = [];
let failures = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Every request the page makes is seen here: loopback goes through, anything else is
  // recorded and refused.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:') {
      return route.continue();
    }
    outside.push(url.href);
    return route.abort();
  });
  for (const [name, path] of documents) {
    const document = await (await fetch(base + path)).json();
    const expected = [];
    for (const [p, item] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        if (item[method]) expected.push(`${method.toUpperCase()} ${p}`);
      }
    }
    const page = await context.newPage();
    await page.goto(`${base}/docs/?urls.primaryName=${encodeURIComponent(name)}`, { waitUntil: 'networkidle' });
    await page.waitForSelector('.opblock', { timeout: 30000 });
    const listed = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => {
        const method = b.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
        const path = b.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated')?.getAttribute('data-path') ?? '';
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    const missing = expected.filter((op) => !listed.includes(op));
    const shot = `${outDir}/docs-${path.split('/').pop().replace('.json', '')}.png`;
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`${name}: ${expected.length} operations documented, ${listed.length} listed on the page; screenshot ${shot}`);
    if (missing.length > 0) {
      console.log(`  MISSING from the page: ${missing.join(', ')}`);
      failures += 1;
    }
    await page.close();
  }
  for (const [name, path, server] of documents) {
    failures += await tryItOut(context, name, path, server);
  }
} finally {
  await browser.close();
}
if (outside.length > 0) {
  console.log(`requests that tried to leave the machine: ${outside.join(', ')}`);
  failures += 1;
} else {
  console.log('no request left the machine');
}
process.exit(failures === 0 ? 0 : 1);

// "Try it out" → "Execute" on every operation of one document, in its plan's order; returns
// how many failed.
async function tryItOut(context, name, path, server) {
  const document = await (await fetch(base + path)).json();
  const operations = new Map();
  for (const [p, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      if (item[method]) operations.set(item[method].operationId, { path: p, method, op: item[method] });
    }
  }
  const plan = PLANS[path].map((step) => (typeof step === 'string' ? { op: step } : step));
  let failed = 0;
  const unplanned = [...operations.keys()].filter((id) => !plan.some((s) => s.op === id));
  if (unplanned.length > 0) {
    console.log(`${name}: no Try it out step for ${unplanned.join(', ')}`);
    failed += unplanned.length;
  }
  const reset = await fetch(`${base}/_soundcheck/reset`, { method: 'POST' });
  if (reset.status !== 200) throw new Error(`resetting the default sandbox answered ${reset.status}`);
  // What earlier steps made, for the parameters Swagger UI cannot prefill.
  const made = {};
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('crash', () => console.log(`  the page of ${name} crashed`));
  await page.goto(`${base}/docs/?urls.primaryName=${encodeURIComponent(name)}`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.opblock', { timeout: 30000 });
  let passed = 0;
  for (const step of plan) {
    const entry = operations.get(step.op);
    if (!entry) {
      console.log(`  ${step.op}: planned but not in ${path}`);
      failed += 1;
      continue;
    }
    const { method, op } = entry;
    const expected = Object.keys(op.responses).filter((s) => s.startsWith('2')).map(Number);
    if (step.op === 'getSend' && !made.send_id) {
      // A fresh sandbox has no send: one is made through the Musique API, as its document's
      // sendAudio would.
      const send = await fetch(`${base}/api/v1/integration/audio/aud_welcome0000001/send`, {
        method: 'POST',
        headers: { 'X-API-Key': 'msk_prod_1234567890abcdef', 'Content-Type': 'application/json' },
        body: JSON.stringify({ externalIds: ['store_001'] }),
      });
      made.send_id = (await send.json()).sendId;
    }
    let outcome;
    try {
      outcome = await execute(page, server, entry, step, made);
    } catch (err) {
      outcome = { status: 0, detail: String(err.message).split('\n')[0] };
    }
    if (expected.includes(outcome.status)) {
      passed += 1;
      if (step.keep && outcome.body) made[step.keep] = outcome.body.id;
    } else {
      failed += 1;
      console.log(`  FAILED ${step.op} (${method.toUpperCase()} ${entry.path}): ${outcome.status || 'no answer'}, expected ${expected.join(' or ')}${outcome.detail ? `: ${outcome.detail}` : ''}`);
    }
  }
  const shot = `${outDir}/try-${path.split('/').pop().replace('.json', '')}.png`;
  // Best effort: a page showing every answer (an MP3 among them) can be slow to capture.
  await page.screenshot({ path: shot, fullPage: true, timeout: 30000 }).catch(() => {});
  console.log(`${name}: Try it out → Execute unedited: ${passed} of ${operations.size} operations answered their documented success; screenshot ${shot}`);
  await page.close();
  return failed;
}

// Presses Try it out and Execute on one operation's block and returns the status (and JSON
// body) of the request the page sent.
async function execute(page, server, { path, method }, step, made) {
  // A deprecated operation's block is `opblock-deprecated`, not `opblock-{method}`.
  const block = page
    .locator('.opblock')
    .filter({ has: page.locator(`.opblock-summary-method:text-is("${method.toUpperCase()}")`) })
    .filter({ has: page.locator(`[data-path="${path}"]`) })
    .first();
  await block.scrollIntoViewIfNeeded();
  if (!(await block.locator('.opblock-body').count())) await block.locator('.opblock-summary').first().click();
  await block.locator('button.try-out__btn').click();
  for (const name of step.fill ?? []) {
    if (!made[name]) throw new Error(`no ${name} was made by an earlier step`);
    await block.locator(`tr[data-param-name="${name}"] input`).first().fill(made[name]);
  }
  if (step.file) await block.locator('input[type=file]').first().setInputFiles(step.file);
  const template = new RegExp(
    `^${(server === '/' ? '' : server) + path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
  );
  const answered = page.waitForResponse(
    (r) => r.request().method() === method.toUpperCase() && template.test(new URL(r.url()).pathname),
    { timeout: 30000 },
  );
  await block.locator('button.execute').click();
  const response = await answered;
  const status = response.status();
  // Closed again, so that the page does not grow with every answer shown.
  await block.locator('.opblock-summary').first().click().catch(() => {});
  let body;
  let detail;
  const type = response.headers()['content-type'] ?? '';
  if (type.includes('application/json')) {
    try {
      body = await response.json();
      if (status >= 300) detail = JSON.stringify(body).slice(0, 300);
    } catch {
      // No body (204).
    }
  }
  return { status, body, detail };
}
