// Browser (and default) entry: a plain ES module, no bundler needed. Loads
// the web build of the wasm module (fetched next to this file) before the
// API can be used, through top-level await.
import init, * as wasm from './web/resilience_wasm.js';
import { setNative } from './lib/native.js';

await init({ module_or_path: new URL('./web/resilience_wasm_bg.wasm', import.meta.url) });
setNative(wasm);

export * from './lib/index.js';
