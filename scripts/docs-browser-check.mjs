// The browser check of the docs page: headless Chromium opens /docs for each document and
// asserts that every operation of the document is listed on the rendered page, and that no
// request the page made left the machine. Screenshots are kept as artifacts.
//   node scripts/docs-browser-check.mjs http://127.0.0.1:PORT OUT_DIR
// Needs the npm package playwright-core (installed by .ci/run) and Debian's chromium.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

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
