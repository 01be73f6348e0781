// Every js/cjs example of README.md runs here, and prints exactly what its
// `// →` comments say; the library warns exactly what its `// ⚠` comments
// say (the message, without the exception reported with it). Timers fire at once and fetch is a local fake, so
// examples read naturally yet take no real time and need no network.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';

import { withFakeTimers } from './helpers/fake-timers.mjs';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// Inside the package, so `resilience-wasm` resolves to itself by name.
const DIR = fileURLToPath(new URL('./.readme/', import.meta.url));

const blocks = [...README.matchAll(/```(js|cjs)\n([\s\S]*?)```/g)].map((m, i) => ({ lang: m[1], code: m[2], index: i }));
// The CommonJS examples run last: in a coverage run `import` loads the
// sources and `require` the bundle (tests/coverage/register.mjs), and the
// bundle installs its own error classes in the one wasm instance.
blocks.sort((a, b) => (a.lang === 'cjs') - (b.lang === 'cjs'));

/** The `// <marker> text` comments of a snippet, in order. */
function expected(code, marker) {
  return [...code.matchAll(new RegExp(`// ${marker} (.*)$`, 'gm'))].map((m) => m[1]);
}

test('the README has examples', () => {
  assert.ok(blocks.length >= 7, `found ${blocks.length}`);
});

for (const block of blocks) {
  const firstLine = block.code.split('\n').find((l) => l.trim() && !l.startsWith('import') && !l.startsWith('const {'));
  test(`README example ${block.index + 1}: ${firstLine?.slice(0, 60)}`, async (t) => {
    const output = expected(block.code, '→');
    assert.ok(output.length > 0, 'an example shows its output');
    mkdirSync(DIR, { recursive: true });
    const file = `${DIR}example-${block.index}.${block.lang === 'cjs' ? 'cjs' : 'mjs'}`;
    writeFileSync(file, block.code);
    t.after(() => rmSync(file, { force: true }));
    const printed = [];
    t.mock.method(console, 'log', (...args) => printed.push(...format(...args).split('\n')));
    const warned = [];
    t.mock.method(console, 'warn', (message) => warned.push(message));
    const realFetch = globalThis.fetch;
    const answers = [503, 200];
    globalThis.fetch = async () => new Response(null, { status: answers.shift() ?? 200 });
    try {
      await withFakeTimers(() => import(pathToFileURL(file).href));
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.deepEqual(printed, output);
    assert.deepEqual(warned, expected(block.code, '⚠'));
  });
}
