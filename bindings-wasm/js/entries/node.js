// Node entry (bundled to dist/node.cjs): loads the nodejs build of the wasm
// module synchronously, then exposes the API. `dist/node.mjs` re-exports
// this same instance for `import`, so require and import share classes.
import { webcrypto } from 'node:crypto';
import * as wasm from './node/resilience_wasm.js';
import { setNative } from '../native.js';

// Jitter is seeded from crypto.getRandomValues (getrandom's wasm_js backend),
// which Node only exposes as a global from v19 on: supply it on Node 18.
globalThis.crypto ??= webcrypto;
setNative(wasm);

export * from '../index.js';
