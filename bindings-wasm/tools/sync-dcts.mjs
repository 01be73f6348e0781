// Writes index.d.cts, the declarations `require` users resolve, from
// index.d.ts. Both describe one API; they are two files only because the
// package is "type": "module", so TypeScript reads index.d.ts as an ES
// module and a CommonJS file could not import it. Run by hand after editing
// index.d.ts (`npm run sync-types`); tests/types.test.mjs fails on drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const HEADER =
  '// Type declarations of resilience-wasm for `require` (CommonJS). Generated from\n' +
  '// index.d.ts by `npm run sync-types`; edit index.d.ts, not this file.\n';

/** The .d.cts text for a given .d.ts text: the header, then the .d.ts without its first line. */
export function dctsFrom(dts) {
  return HEADER + dts.slice(dts.indexOf('\n') + 1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  writeFileSync(new URL('../index.d.cts', import.meta.url), dctsFrom(dts));
}
