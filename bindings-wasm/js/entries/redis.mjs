// `import` entry of resilience-wasm/redis: the CommonJS build, re-exported,
// so `require` and `import` share one wasm instance and one RedisStore class.
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('./redis.cjs');

export const { RedisStore, DEFAULT_PREFIX, DEFAULT_CONNECT_TIMEOUT_MS } = api;
