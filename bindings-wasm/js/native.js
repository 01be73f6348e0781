// The wasm-bindgen module the glue calls for every decision. Each entry
// point (Node CommonJS, Node ESM, browser ESM) loads its own build of the
// module and installs it here before any API is used.

import { ConfigError, SnapshotError } from './errors.js';

/** @type {any} */
export let native;

/**
 * Installs the loaded wasm-bindgen module, and gives it the package's error
 * classes: core's configuration and snapshot errors are built as instances
 * of them (with core's kind and message).
 */
export function setNative(module) {
  module.install_error_classes(ConfigError, SnapshotError);
  native = module;
}
