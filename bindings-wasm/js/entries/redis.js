// Node entry of `resilience-wasm/redis` (bundled to dist/redis.cjs). It
// loads the package's own Node entry first — that installs the wasm module
// and the package's error classes — and then drives the same wasm instance
// (Node's module cache hands both the one nodejs build), so its stores
// share the breakers the package creates. ioredis is an optional peer
// dependency, loaded when the first store is made.
import './node.cjs';
import * as wasm from './node/resilience_wasm.js';
import { defineRedisStore, loadIoredis } from '../redis.js';

export { DEFAULT_PREFIX, DEFAULT_CONNECT_TIMEOUT_MS } from '../redis.js';
export const { RedisStore } = defineRedisStore(wasm, () => loadIoredis(require));
