// The wasm-bindgen module the glue calls for every decision. Each entry
// point (Node CommonJS, Node ESM, browser ESM) loads its own build of the
// module and installs it here before any API is used.

/** @type {any} */
export let native;

/** Installs the loaded wasm-bindgen module. */
export function setNative(module) {
  native = module;
}
