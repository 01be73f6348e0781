// `resilience-wasm/redis` in coverage runs (see resolve-sources.mjs): the
// sources of js/redis.js over the same wasm instance the package's source
// entry loaded, as js/entries/redis.js does for the bundle.
import 'resilience-wasm';
import { createRequire } from 'node:module';
import { defineRedisStore, loadIoredis } from '../../js/redis.js';

const require = createRequire(import.meta.url);
const wasm = require('../../dist/node/resilience_wasm.js');

export { DEFAULT_PREFIX, DEFAULT_CONNECT_TIMEOUT_MS } from '../../js/redis.js';
export const { RedisStore } = defineRedisStore(wasm, () => loadIoredis(require));
