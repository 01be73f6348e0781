// The TypeScript declarations: strict usage compiles, misuse does not, and
// the public API never falls back to `any`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

test('index.d.ts has no `any`', () => {
  const dts = readFileSync(here('../index.d.ts'), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
  assert.doesNotMatch(dts, /\bany\b/);
});

test('tsc --strict accepts the usage file and every @ts-expect-error is an error', () => {
  const tsc = here('../node_modules/typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', here('./types/tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
