// The TypeScript declarations: strict usage compiles, misuse does not, and
// the public API never falls back to `any` — for `import` (index.d.ts) and
// for `require` (index.d.cts, generated from index.d.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { dctsFrom } from '../tools/sync-dcts.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

for (const file of ['index.d.ts', 'index.d.cts']) {
  test(`${file} has no \`any\``, () => {
    const dts = readFileSync(here(`../${file}`), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
    assert.doesNotMatch(dts, /\bany\b/);
  });
}

test('index.d.cts is index.d.ts for require (run `npm run sync-types` after editing index.d.ts)', () => {
  const dts = readFileSync(here('../index.d.ts'), 'utf8');
  assert.equal(readFileSync(here('../index.d.cts'), 'utf8'), dctsFrom(dts));
});

for (const [project, what] of [
  ['types', 'an ES module (import)'],
  ['types-cjs', 'a CommonJS module (require)'],
]) {
  test(`tsc --strict accepts the usage file of ${what} and every @ts-expect-error is an error`, () => {
    const tsc = here('../node_modules/typescript/bin/tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', here(`./${project}/tsconfig.json`)], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
  });
}
