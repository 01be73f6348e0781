// Headless Chromium (Debian's), driven by playwright-core: loads the package
// as a plain ES module from a local static server on 127.0.0.1, runs it
// against that server, asserts the page's results; then renders the demo
// page examples/browser/ and checks its timeline (screenshot kept in
// bindings-wasm/test-results/demo.png).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

import { chromium } from 'playwright-core';

import { RetryPolicy } from 'resilience-wasm';
import { startServer } from '../../../examples/browser/serve.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

let server;
let context;
let profile;
const sequenceCalls = new Map();
let itemsCalls = 0;

before(async () => {
  server = await startServer({
    routes: {
      // 503, then 429 with Retry-After: 1, then 200 — per id.
      '/api/sequence': (url, res) => {
        const id = url.searchParams.get('id');
        const n = (sequenceCalls.get(id) ?? 0) + 1;
        sequenceCalls.set(id, n);
        if (n === 1) res.writeHead(503).end('unavailable');
        else if (n === 2) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
        else res.writeHead(200).end('hello');
      },
      // The API of the README's HTML example: down once, then back.
      '/api/items': (_url, res) => {
        itemsCalls += 1;
        if (itemsCalls === 1) res.writeHead(503).end('down');
        else res.writeHead(200).end('fresh items');
      },
      // The README's HTML example, with its package path served from dist/.
      '/readme-example.html': (_url, res) => {
        const readme = readFileSync(join(REPO, 'bindings-wasm/README.md'), 'utf8');
        const html = readme.match(/```html\n([\s\S]*?)```/)[1];
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><body>${html.replace('./node_modules/resilience-wasm/', '/bindings-wasm/')}</body>`);
      },
    },
  });
  profile = mkdtempSync(join(tmpdir(), 'resilience-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/**
 * Decodes a PNG enough to prove it is whole: the signature, every chunk's
 * CRC, and IDAT data that inflates to exactly one filtered row per line.
 */
function decodePng(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let offset = 8;
  let header;
  const data = [];
  for (;;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    assert.equal(bytes.readUInt32BE(offset + 8 + length), crc32(bytes.subarray(offset + 4, offset + 8 + length)), `${type} CRC`);
    offset += 12 + length;
    if (type === 'IHDR') header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9] };
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
  }
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[header.color];
  const rowBytes = 1 + Math.ceil((header.width * channels * header.depth) / 8);
  const pixels = inflateSync(Buffer.concat(data));
  return { width: header.width, height: header.height, decoded: pixels.length === rowBytes * header.height };
}

function crc32(buf) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

async function open(path, readyExpression) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(readyExpression, undefined, { timeout: 20000 }).catch((e) => {
    throw new Error(`${path} did not finish: ${e.message}; page errors: ${errors.join('; ')}`);
  });
  assert.deepEqual(errors, []);
  return page;
}

test('the package loads as an ES module and runs retry, breaker, fallback and withRetry', async (t) => {
  const page = await open('/bindings-wasm/tests/browser/page.html', () => window.__results !== undefined);
  const r = await page.evaluate(() => window.__results);
  assert.deepEqual(r.retry, { value: 'ok', calls: 3, sleeps: [100, 200], sameError: true });
  assert.deepEqual(r.breaker, {
    states: ['closed', 'open', 'half_open', 'closed'],
    rejectedName: 'BrokenCircuitError',
    isBrokenCircuitError: true,
    retryAfterMs: 1000,
  });
  assert.equal(r.fallback, 'guest-7');
  // The windowed breaker made the same decisions in Chromium as in Node.
  assert.deepEqual(r.windowed, await windowedInNode(), 'the same windowed-breaker run as in Node');
  assert.deepEqual(r.windowed.trace.slice(0, 3), ['0 error closed', '0 error closed', '0 ok closed'], 'below the minimum throughput');
  assert.deepEqual(r.windowed.trace.slice(6, 8), ['1100 error open', '1100 rejected open 1000 open'], 'a failure reached the ratio');
  assert.equal(r.windowed.trace[9], '2100 rejected open 2000 open', 'the failed trial doubled the break');
  assert.equal(r.windowed.isolated, 'isolated Infinity');
  assert.equal(r.windowed.snapshotError, 'SnapshotError true unsupported_version');
  assert.equal(r.windowed.frozen, true);
  assert.deepEqual(r.withRetry, {
    status: 200,
    body: 'hello',
    retried: [
      [1, 503, 100],
      [2, 429, 1000],
    ],
    sleeps: [100, 1000],
  });
  const node = new RetryPolicy({ seed: 42, baseDelayMs: 1000 });
  assert.deepEqual(r.seededDelays, [1, 2, 3, 4].map((n) => node.calculateDelayMs(n)), 'same seed, same delays as Node');
  assert.ok(r.unseededDistinct > 40, 'unseeded jitter comes from crypto.getRandomValues');
  assert.deepEqual(r.configError, { name: 'ConfigError', parameter: 'maxAttempts', isClass: true });
  assert.deepEqual(r.exports, Object.keys(await import('resilience-wasm')).sort(), 'the browser entry exports what Node does');
  assert.equal(r.notAFunction, 'TypeError: retry: fn must be a function, got number');
  assert.equal(r.zeroDelayAbort.sameReason, true, 'the abort from a timer ended the zero-delay retry storm');
  assert.ok(r.zeroDelayAbort.calls < r.zeroDelayAbort.maxAttempts / 10, `aborted after ${r.zeroDelayAbort.calls} attempts`);
  t.diagnostic(`zero-delay storm in Chromium: aborted after ${r.zeroDelayAbort.calls} attempts`);
  assert.deepEqual(r.issues10and11, {
    timedOut: 'TimeoutError 5',
    abortedWith: 'TimeoutError',
    hedged: 'copy 2',
    loserAborted: true,
    strategies: ['retry', 'breaker', 'attempt_timeout'],
    piped: 'TimeoutError',
    events: ['timeout', 'retry_scheduled', 'timeout', 'gave_up'],
    limiter: [true, false],
  });
  await page.close();
});

/**
 * The page's windowed-breaker script, run in Node: the block of page.js
 * between its markers, with the package imported by name.
 */
async function windowedInNode() {
  const page = readFileSync(fileURLToPath(new URL('./page.js', import.meta.url)), 'utf8');
  const block = page.slice(page.indexOf('// A failure-rate breaker over a time window'), page.indexOf('// Fallback.'));
  const module = `import { BrokenCircuitError, CircuitBreaker, SnapshotError } from 'resilience-wasm';\nconst results = {};\n${block}\nexport default results;`;
  const file = fileURLToPath(new URL('../.windowed-in-node.mjs', import.meta.url));
  writeFileSync(file, module);
  try {
    return (await import(pathToFileURL(file).href)).default.windowed;
  } finally {
    rmSync(file, { force: true });
  }
}

test("the README's HTML example runs", async () => {
  const page = await open('/readme-example.html', () => document.body.dataset.result !== undefined);
  assert.equal(await page.evaluate(() => document.body.dataset.result), 'served from cache, then fresh items (closed)');
  await page.close();
});

test('the demo page draws its timeline, and its trace matches the Node leg', async () => {
  const page = await open('/examples/browser/?virtual', () => document.body.dataset.done === 'true');
  const trace = await page.evaluate(() => document.getElementById('trace').textContent);
  const nodeTrace = execFileSync(
    process.execPath,
    [join(REPO, 'examples/node/demo.mjs'), join(REPO, 'examples/scenario.json'), join(tmpdir(), 'browser-spec-js.trace')],
    { encoding: 'utf8' },
  );
  assert.equal(trace, nodeTrace, 'the browser made the same decisions as Node (and so as Rust)');
  const attemptLines = trace.split('\n').filter((l) => / attempt=\d+ /.test(l)).length;
  assert.equal(await page.locator('#timeline .attempt').count(), attemptLines);
  assert.ok((await page.locator('#timeline .attempt.rejected').count()) > 0, 'rejections are drawn');
  assert.ok((await page.locator('#timeline .delay').count()) > 0, 'retry delays are drawn');
  const changes = await page.locator('#changes .state-change').allTextContents();
  assert.ok(changes.some((c) => c.includes('closed → open')), changes.join('\n'));
  assert.ok(changes.some((c) => c.includes('half_open → closed')), changes.join('\n'));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const png = join(RESULTS_DIR, 'demo.png');
  await page.screenshot({ path: png, fullPage: true });
  const size = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  assert.deepEqual(decodePng(readFileSync(png)), { width: size.width, height: size.height, decoded: true });
  await page.close();
});
