// Type declarations of resilience-wasm/redis (Node only): breakers, rate
// limiters and retry budgets shared across processes through Redis, off the per-call path. ioredis is an
// optional peer dependency (npm install ioredis).
import type { SharedStore } from './index.js';

/** `RedisStore.fromUrl` options. */
export interface RedisStoreOptions {
  /** Keys go under `<prefix>:cb:{<name>}:…` (default 'resilience'; 1..=200 bytes, no control characters). */
  prefix?: string;
  /** Milliseconds between two syncs of a shared breaker (default 250, at least 1). */
  syncIntervalMs?: number;
  /** The longest sync (default 50 ms): a slower one is abandoned, the connection dropped, and decisions stay local. */
  syncTimeoutMs?: number;
  /** The longest connect (default 1000 ms; in the background). */
  connectTimeoutMs?: number;
  /** Listen for other processes' openings (default true: they open within milliseconds; false: within one interval). */
  subscribe?: boolean;
  /** Passed to the ioredis client (TLS, auth, …); the store sets its own timeouts and turns ioredis's retries off. */
  redisOptions?: Record<string, unknown>;
}

/** What a store is doing (a frozen copy). */
export interface StoreMetrics {
  /** The sync connection is up. */
  readonly connected: boolean;
  /** Some shared breaker decides locally: not connected, or its last sync failed (also before the first sync). */
  readonly degraded: boolean;
  /** The event subscription is up. */
  readonly subscribed: boolean;
  /** Script calls made (a re-seed makes two). */
  readonly syncs: number;
  /** Syncs that failed or timed out. */
  readonly failedSyncs: number;
  /** Every command sent: script calls, SCRIPT LOADs, EVAL fallbacks, SUBSCRIBEs. */
  readonly commands: number;
  /** Connections made by the sync loop. */
  readonly connects: number;
  /** Times a breaker re-seeded a store that lost its counts (a restart). */
  readonly reseeds: number;
  /** Openings and closings this process published. */
  readonly published: number;
  /** The last error seen, if any. */
  readonly lastError: string | undefined;
}

/** A shared breaker's view of its fleet, as of its last sync. */
export interface FleetStatus {
  /** Decisions use the fleet's view (a sync succeeded recently and none failed since). */
  readonly live: boolean;
  /** The fleet window's totals (a time window; else 0). */
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  /** Half-open trial leases this process holds. */
  readonly leases: number;
  /** Openings caused by another process's trip. */
  readonly remoteOpens: number;
  /** Closings caused by a trial that succeeded elsewhere. */
  readonly remoteCloses: number;
  /** Milliseconds since the last successful sync (undefined before the first). */
  readonly sinceSyncMs: number | undefined;
}

/** A shared rate limiter's or retry budget's view of its fleet, as of its last sync. */
export interface LeaseStatus {
  /** Decisions use the leased pool (a sync succeeded recently and none failed since). */
  readonly live: boolean;
  /** Tokens (cells, retries) leased and not yet used. */
  readonly pool: number;
  /** The pool's target. */
  readonly leaseSize: number;
  /** Processes sharing this name that Redis saw recently (at least 1). */
  readonly fleetSize: number;
  /** What the fleet could still grant, as of the last sync. */
  readonly available: number;
  /** Syncs that granted at least one token. */
  readonly leases: number;
  /** Tokens granted in total. */
  readonly granted: number;
  /** Milliseconds since the last successful sync (undefined before the first). */
  readonly sinceSyncMs: number | undefined;
  /** Early leases asked for (a call found the pool short): each costs at most one script call beyond the one per interval. */
  readonly earlyLeases: number;
}

/**
 * Shares breakers, rate limiters and retry budgets across processes through
 * one Redis: pass it as `new CircuitBreaker({ …, store, name })`,
 * `new RateLimiter({ …, store, name })` or `new RetryBudget({ …, store, name })`. Every call is still decided
 * locally; the store syncs in the background (timers and sockets unref()ed).
 * It holds what it shares weakly: keep a reference to a breaker, limiter or
 * budget for as long as it should share (one nobody can reach is collected
 * and stops syncing).
 */
export class RedisStore implements SharedStore {
  /** A store for `url` (`redis://[user:password@]host[:port][/db]`, `rediss://…`). Never connects on the caller's turn. @throws ConfigError for an option out of range. */
  static fromUrl(url: string, options?: RedisStoreOptions): RedisStore;
  constructor(url: string, options?: RedisStoreOptions);
  readonly prefix: string;
  readonly syncIntervalMs: number;
  readonly syncTimeoutMs: number;
  /** What the store is doing now. */
  metrics(): StoreMetrics;
  /** The fleet as this store's breaker named `name` last saw it (undefined: no such breaker). */
  fleetStatus(name: string): FleetStatus | undefined;
  /** The fleet as this store's rate limiter or retry budget named `name` last saw it (undefined: no such object). */
  leaseStatus(name: string): LeaseStatus | undefined;
  /** Syncs every shared breaker now instead of at its next interval. */
  syncNow(): void;
  /** Stops syncing (the breakers keep working, locally); resolves within about the sync timeout + 100 ms, even with Redis gone. */
  close(): Promise<void>;
}

export const DEFAULT_PREFIX: 'resilience';
export const DEFAULT_CONNECT_TIMEOUT_MS: 1000;
