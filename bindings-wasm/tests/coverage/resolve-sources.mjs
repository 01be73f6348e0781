// Module resolution hook for coverage runs (see register.mjs): the package
// name resolves to the Node entry's source, and that entry's import of the
// wasm-bindgen module resolves to the built one in dist/node/ (the same
// CommonJS module the tests load directly, so one wasm instance).
const PKG = new URL('../../', import.meta.url);
const ENTRY = new URL('js/entries/node.js', PKG).href;
const WASM = new URL('dist/node/resilience_wasm.js', PKG).href;
const REDIS_ENTRY = new URL('tests/coverage/redis-entry.mjs', PKG).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'resilience-wasm') {
    return { url: ENTRY, shortCircuit: true };
  }
  if (specifier === 'resilience-wasm/redis') {
    return { url: REDIS_ENTRY, shortCircuit: true };
  }
  if (context.parentURL === ENTRY && specifier === './node/resilience_wasm.js') {
    return { url: WASM, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
