// Node entry (bundled to dist/node.cjs): loads the nodejs build of the wasm
// module synchronously, then exposes the API. `dist/node.mjs` re-exports
// this same instance for `import`, so require and import share classes.
import * as wasm from './node/resilience_wasm.js';
import { setNative } from '../native.js';

setNative(wasm);

export * from '../index.js';
