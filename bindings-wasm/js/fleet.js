// The `store` / `name` options of CircuitBreaker, RateLimiter and
// RetryBudget (shared mode, issue 12):
// kept apart from resilience-wasm/redis so the breaker never loads a Redis
// client. A store is what RedisStore.fromUrl returns.

import { native } from './native.js';

/**
 * The shared-mode options of a breaker: `{ store, name, config }` (config
 * is core's fleet parameters for the breaker's constructor), or undefined
 * for an unshared breaker. `store` and `name` go together (core's rule
 * requires_other) and `name` is a key part (core's rule key_part): a
 * ConfigError otherwise. `lease`: for a RateLimiter or RetryBudget.
 */
export function fleetOptions(options, lease = false) {
  const { store, name } = options;
  const given = store !== undefined && store !== null;
  if (!given && name === undefined) return undefined;
  const shared = native.shared_name(given, name);
  if (shared === undefined) return undefined;
  const share = lease ? store._shareLease : store._share;
  if (typeof store._fleetConfig !== 'function' || typeof share !== 'function') {
    throw new TypeError('store must be a RedisStore of resilience-wasm/redis');
  }
  return { store, name: shared, config: store._fleetConfig() };
}
