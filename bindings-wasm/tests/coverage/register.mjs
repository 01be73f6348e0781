// Preloaded by `make coverage-js` (node --import): while measuring, the
// tests' `import 'resilience-wasm'` runs the unbundled sources, js/*.js,
// instead of the esbuild bundle dist/node.cjs, so c8 reports coverage on
// the files developers edit, line for line. (Through the bundle's source
// map, c8 loses uncovered ranges and reports nearly every line covered.)
import { register } from 'node:module';

register('./resolve-sources.mjs', import.meta.url);
// `require('resilience-wasm')` is not resolved by the hook (Node 20 hooks
// serve `import` only): it loads the bundle, a second instance of the
// package. Tests that compare the two instances' objects say so.
process.env.RESILIENCE_WASM_SOURCES = '1';
