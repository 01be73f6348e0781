// resilience-wasm/redis: breakers, rate limiters and retry budgets shared
// across processes through Redis, off the per-call path (Node only;
// ioredis, an optional peer dependency).
//
// Every call is decided locally, exactly as an unshared object decides it
// (a shared limiter or budget takes from tokens leased from the fleet). A
// background loop on unref()ed timers runs one call of a Lua script per
// shared object and sync interval (sooner after a breaker's transition, or
// when a limiter's or budget's pool runs dry): redis/scripts/breaker_sync.lua
// publishes a breaker's transitions and counts and reads the fleet's;
// limiter_lease.lua and budget_lease.lua lease tokens. The script texts,
// their keys and arguments,
// and every decision come from the wasm module (the same Rust sources as
// the Rust driver resilience-redis); this file only does the I/O: timers,
// the connection, EVALSHA (EVAL on NOSCRIPT), events, reconnects with
// core's backoff. What is shared, the error bounds and the fault behaviour:
// redis/README.md.

import { randomBytes } from 'node:crypto';

/** The default key prefix. */
export const DEFAULT_PREFIX = 'resilience';
/** The default connect timeout, ms (connecting happens in the background). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
/** How long close() waits for a sync in flight beyond the sync timeout, ms. */
const CLOSE_GRACE_MS = 100;
/** `BreakerSync.answer` status: the store restarted, seed now. */
const RESEED = 3;

/** Redis answered, but not with a count (e.g. a window mismatch): the connection is fine, that breaker stays local. */
class AnswerError extends Error {}

function instanceId() {
  return process.pid.toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

/** `open:<instance>:<name>` or `close:<instance>:<name>` → [instance, name]. */
function parseEvent(payload) {
  const text = String(payload);
  for (const kind of ['open:', 'close:']) {
    if (text.startsWith(kind)) {
      const rest = text.slice(kind.length);
      const sep = rest.indexOf(':');
      return sep < 0 ? undefined : [rest.slice(0, sep), rest.slice(sep + 1)];
    }
  }
  return undefined;
}

function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A timer that does not keep the process alive. */
function later(ms, fn) {
  const timer = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647)));
  timer.unref();
  return timer;
}

/** ioredis's constructor through `require` (an optional peer dependency: a clear error when it is missing). */
export function loadIoredis(require) {
  let mod;
  try {
    mod = require('ioredis');
  } catch (error) {
    throw new Error('resilience-wasm/redis needs ioredis (an optional peer dependency): npm install ioredis', {
      cause: error,
    });
  }
  return mod.default ?? mod.Redis ?? mod;
}

/**
 * Builds the RedisStore class over a wasm module instance (the one the
 * package's breakers use) and the ioredis constructor.
 */
export function defineRedisStore(wasm, loadRedis) {
  const SCRIPT = wasm.breaker_sync_script();
  /** Every script a store runs, by name (`redis/scripts/<name>.lua`). */
  const SCRIPTS = new Map([
    ['breaker_sync', SCRIPT],
    ['limiter_lease', wasm.limiter_lease_script()],
    ['budget_lease', wasm.budget_lease_script()],
  ]);

  /** One shared breaker of a store. */
  class Entry {
    constructor(core, sync) {
      this.lease = false;
      this.ref = new WeakRef(core);
      this.sync = sync;
      this.name = sync.name;
      this.instance = sync.instance;
      this.dueNow = true;
      this.dueAt = performance.now();
      this.failing = true;
      /** The id of its waker in the wasm module (see forget_fleet_waker). */
      this.wakerId = Number.NaN;
    }

    due(now) {
      const due = this.dueNow || this.dueAt <= now;
      this.dueNow = false;
      return due;
    }

    /** Decisions are local (a failed sync, or the store closed). */
    lost() {
      this.ref.deref()?.fleet_lost();
    }

    /** Forgets its waker and frees what the wasm module holds for it. */
    drop() {
      wasm.forget_fleet_waker(this.wakerId);
    }
  }

  /** One shared rate limiter or retry budget of a store. */
  class LeaseEntry extends Entry {
    constructor(owner, sync, clock) {
      super(owner, sync);
      this.lease = true;
      this.clock = clock;
    }

    lost() {
      this.sync.lost();
    }

    drop() {
      wasm.forget_fleet_waker(this.wakerId);
      this.sync.free();
    }
  }

  /**
   * Shares breakers across processes through one Redis: a sync loop and an
   * event subscription, both in the background; nothing touches Redis on a
   * call. Create it with `RedisStore.fromUrl`, pass it as `{ store, name }`
   * to `CircuitBreaker`, and `await store.close()` at the end (its timers
   * and sockets are unref()ed: a process may also just exit).
   */
  class RedisStore {
    #url;
    #prefix;
    #fleet;
    #connectTimeoutMs;
    #subscribe;
    #clientOptions;
    #channel;
    #entries = [];
    #stopped = false;
    #timer = undefined;
    #running = undefined;
    #wakePending = false;
    #client = undefined;
    #shas = new Map();
    #failures = 0;
    #retryAt = 0;
    #sub = undefined;
    #subTimer = undefined;
    #subFailures = 0;
    #m = {
      connected: false,
      degraded: true,
      subscribed: false,
      syncs: 0,
      failedSyncs: 0,
      commands: 0,
      connects: 0,
      reseeds: 0,
      published: 0,
      lastError: undefined,
    };

    /**
     * A store for the Redis at `url` (`redis://[user:password@]host[:port][/db]`,
     * `rediss://…`, as ioredis reads them). Never connects on the caller's
     * turn: an unreachable Redis is not an error here (the store starts
     * degraded and connects in the background).
     */
    static fromUrl(url, options = {}) {
      return new RedisStore(url, options);
    }

    constructor(url, options = {}) {
      const {
        prefix = DEFAULT_PREFIX,
        syncIntervalMs,
        syncTimeoutMs,
        connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
        subscribe = true,
        redisOptions = {},
      } = options;
      if (typeof url !== 'string') throw new TypeError('RedisStore: url must be a string');
      this.#prefix = wasm.key_part('prefix', prefix);
      this.#fleet = new wasm.FleetConfigCore(syncIntervalMs, syncTimeoutMs);
      this.#connectTimeoutMs = wasm.connect_timeout_ms(connectTimeoutMs);
      this.#url = url;
      this.#subscribe = subscribe !== false;
      this.#channel = `${this.#prefix}:cb:events`;
      this.#clientOptions = redisOptions;
      this.#newClient(true).disconnect(); // checks the options now (never connects here)
      this.#schedule(0);
      if (this.#subscribe) this.#subTimer = later(0, () => this.#listen());
    }

    /** The key prefix: keys go under `<prefix>:cb:{<name>}:…`. */
    get prefix() {
      return this.#prefix;
    }

    /** Milliseconds between two syncs of a shared breaker. */
    get syncIntervalMs() {
      return this.#fleet.sync_interval_ms;
    }

    /** The longest sync, ms: a slower one is abandoned and decisions stay local. */
    get syncTimeoutMs() {
      return this.#fleet.sync_timeout_ms;
    }

    /** @internal The fleet parameters a shared breaker is built with. */
    _fleetConfig() {
      return this.#fleet.copy();
    }

    /**
     * @internal Starts syncing a shared limiter's or budget's core under
     * `name`: `owner` is the RateLimiter or RetryBudget (a weak reference:
     * one that goes away stops syncing), `clock` its clock.
     */
    _shareLease(owner, core, name, clock) {
      if (this.#stopped) throw new Error('RedisStore: the store is closed');
      const instance = instanceId();
      const sync =
        core instanceof wasm.LimiterCore
          ? wasm.LeaseSyncCore.for_limiter(this.#prefix, name, instance, core)
          : wasm.LeaseSyncCore.for_budget(this.#prefix, name, instance, core);
      const entry = new LeaseEntry(owner, sync, clock);
      entry.wakerId = sync.set_waker(() => {
        entry.dueNow = true;
        this.#wake();
      });
      this.#entries.push(entry);
      this.#wake();
    }

    /**
     * The fleet as this store's limiter or budget named `name` last saw
     * it: `{ live, pool, leaseSize, fleetSize, available, leases, granted,
     * sinceSyncMs, earlyLeases }`, or undefined when this store shares none of that name.
     */
    leaseStatus(name) {
      for (const entry of this.#liveEntries()) {
        if (!entry.lease || entry.name !== name) continue;
        const v = entry.sync.status(entry.clock());
        return Object.freeze({
          live: v[0] === 1,
          pool: v[1],
          leaseSize: v[2],
          fleetSize: v[3],
          available: v[4],
          leases: v[5],
          granted: v[6],
          sinceSyncMs: Number.isNaN(v[7]) ? undefined : v[7],
          earlyLeases: v[8],
        });
      }
      return undefined;
    }

    /** @internal Starts syncing a breaker's core under `name` (a weak reference). */
    _share(core, name) {
      if (this.#stopped) throw new Error('RedisStore: the store is closed');
      const entry = new Entry(core, new wasm.BreakerSync(this.#prefix, name, instanceId(), core));
      entry.wakerId = core.fleet_set_waker(() => {
        entry.dueNow = true;
        this.#wake();
      });
      this.#entries.push(entry);
      this.#wake();
    }

    /** What the store is doing now (a frozen copy). */
    metrics() {
      return Object.freeze({ ...this.#m });
    }

    /**
     * The fleet as this store's breaker named `name` last saw it: `{ live,
     * calls, failures, slow, leases, remoteOpens, remoteCloses, sinceSyncMs }`,
     * or undefined when this store shares no breaker of that name.
     */
    fleetStatus(name) {
      for (const entry of this.#liveEntries()) {
        if (entry.lease || entry.name !== name) continue;
        const v = entry.ref.deref().fleet_status();
        return Object.freeze({
          live: v[0] === 1,
          calls: v[1],
          failures: v[2],
          slow: v[3],
          leases: v[4],
          remoteOpens: v[5],
          remoteCloses: v[6],
          sinceSyncMs: Number.isNaN(v[7]) ? undefined : v[7],
        });
      }
      return undefined;
    }

    /** Syncs every shared breaker now instead of at its next interval. */
    syncNow() {
      for (const entry of this.#entries) entry.dueNow = true;
      this.#wake();
    }

    /**
     * Stops syncing: the breakers keep working, locally. Resolves within
     * about the sync timeout + 100 ms even when Redis is gone. Idempotent.
     */
    async close() {
      if (this.#stopped) return;
      this.#stopped = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#subTimer);
      const running = this.#running;
      if (running !== undefined) {
        let timer;
        const grace = new Promise((resolve) => {
          timer = later(this.#fleet.sync_timeout_ms + CLOSE_GRACE_MS, resolve);
        });
        await Promise.race([running, grace]);
        clearTimeout(timer);
      }
      this.#dropClient();
      const sub = this.#sub;
      this.#sub = undefined;
      sub?.disconnect();
      for (const entry of this.#entries) {
        entry.lost();
        entry.drop();
      }
      this.#entries = [];
      this.#m.connected = false;
      this.#m.subscribed = false;
      this.#m.degraded = true;
    }

    // -- the loop ------------------------------------------------------------------

    #wake() {
      if (this.#stopped) return;
      if (this.#running !== undefined) this.#wakePending = true;
      else this.#schedule(0);
    }

    #schedule(ms) {
      clearTimeout(this.#timer);
      this.#timer = later(ms, () => {
        this.#timer = undefined;
        this.#running = this.#pass().finally(() => {
          this.#running = undefined;
        });
      });
    }

    #liveEntries() {
      this.#entries = this.#entries.filter((entry) => {
        if (entry.ref.deref() !== undefined) return true;
        entry.drop();
        return false;
      });
      return this.#entries;
    }

    #newClient(check = false) {
      const Redis = loadRedis();
      const client = new Redis(this.#url, {
        lazyConnect: true,
        connectTimeout: this.#connectTimeoutMs,
        commandTimeout: this.#fleet.sync_timeout_ms,
        // Retries and reconnects are the driver's own (core's backoff).
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        autoResubscribe: false,
        enableReadyCheck: false,
        ...this.#clientOptions,
      });
      if (!check) {
        // Errors surface through the commands; the event would crash the process.
        client.on('error', () => {});
      }
      return client;
    }

    #dropClient() {
      const client = this.#client;
      this.#client = undefined;
      this.#shas.clear();
      client?.disconnect();
    }

    #note(error) {
      this.#m.lastError = typeof error === 'string' ? error : describe(error);
    }

    #allLost(entries, error) {
      this.#m.degraded = true;
      this.#note(error);
      for (const entry of entries) {
        entry.failing = true;
        entry.lost();
      }
    }

    async #connect() {
      const client = this.#newClient();
      try {
        await client.connect();
        client.stream?.unref?.();
        this.#m.commands += 1;
        this.#shas.set('breaker_sync', await client.script('LOAD', SCRIPT));
      } catch (error) {
        client.disconnect();
        throw error;
      }
      this.#client = client;
    }

    async #script(keys, args, name = 'breaker_sync') {
      const client = this.#client;
      let sha = this.#shas.get(name);
      if (sha === undefined) {
        // First use of this script on this connection.
        this.#m.commands += 1;
        sha = await client.script('LOAD', SCRIPTS.get(name));
        this.#shas.set(name, sha);
      }
      let reply;
      try {
        reply = await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String(error?.message).startsWith('NOSCRIPT')) throw error;
        // The server lost its script cache (a restart, SCRIPT FLUSH).
        this.#m.commands += 1;
        reply = await client.eval(SCRIPTS.get(name), keys.length, ...keys, ...args);
      }
      this.#m.commands += 1;
      this.#m.syncs += 1;
      return reply;
    }

    /** One lease: count the deposits, lease, let the limiter or budget take the grant. */
    async #syncLease(entry) {
      const sync = entry.sync;
      let args;
      try {
        args = sync.prepare(entry.clock());
      } catch (error) {
        // The object's own clock threw: this one stays local.
        sync.failed();
        throw new AnswerError(describe(error));
      }
      let reply;
      try {
        reply = await this.#script(sync.keys(), args, sync.script_name());
      } catch (error) {
        sync.failed();
        if (error?.name === 'ReplyError') throw new AnswerError(error.message);
        throw error;
      }
      try {
        sync.answer(reply, !this.#stopped, entry.clock());
      } catch (error) {
        throw new AnswerError(describe(error));
      }
    }

    async #sync(entry) {
      entry.dueAt = performance.now() + this.#fleet.sync_interval_ms;
      if (entry.lease) return this.#syncLease(entry);
      const sync = entry.sync;
      // A second call only to seed a store that restarted.
      for (let i = 0; i < 2; i += 1) {
        let core = entry.ref.deref();
        if (core === undefined) return;
        const args = sync.prepare(core);
        core = undefined;
        let reply;
        try {
          reply = await this.#script(sync.keys(), args);
        } catch (error) {
          const alive = entry.ref.deref();
          if (alive !== undefined) sync.failed(alive);
          // A reply error: Redis answered (the connection is fine).
          if (error?.name === 'ReplyError') throw new AnswerError(error.message);
          throw error;
        }
        core = entry.ref.deref();
        if (core === undefined) return;
        let answer;
        try {
          answer = sync.answer(core, reply, !this.#stopped);
        } catch (error) {
          sync.failed(core);
          throw new AnswerError(describe(error));
        }
        if (answer[0] === RESEED) {
          this.#m.reseeds += 1;
          continue;
        }
        if (answer[1] === 1) this.#m.published += 1;
        return;
      }
    }

    async #pass() {
      this.#wakePending = false;
      const interval = this.#fleet.sync_interval_ms;
      const now = performance.now();
      const entries = this.#liveEntries().slice();
      if (this.#client === undefined && now >= this.#retryAt) {
        try {
          await this.#connect();
          this.#failures = 0;
          this.#m.connects += 1;
          this.#m.connected = true;
        } catch (error) {
          this.#failures += 1;
          this.#retryAt = performance.now() + this.#fleet.reconnect_delay_ms(this.#failures);
          this.#allLost(entries, error);
        }
      }
      let wakeAt = now + interval;
      if (this.#client !== undefined && !this.#stopped) {
        let broken;
        for (const entry of entries) {
          if (this.#stopped) break;
          if (!entry.due(performance.now())) continue;
          try {
            await this.#sync(entry);
            entry.failing = false;
          } catch (error) {
            this.#m.failedSyncs += 1;
            if (error instanceof AnswerError) {
              entry.failing = true;
              this.#note(error.message);
            } else {
              broken = error;
              break;
            }
          }
        }
        if (broken !== undefined) {
          this.#dropClient();
          this.#m.connected = false;
          this.#failures = 1;
          this.#retryAt = performance.now() + this.#fleet.reconnect_delay_ms(1);
          this.#allLost(entries, broken);
          wakeAt = this.#retryAt;
        } else {
          this.#m.degraded = entries.some((e) => e.failing);
          if (entries.length > 0) wakeAt = Math.min(...entries.map((e) => e.dueAt));
        }
      } else {
        this.#m.connected = false;
        wakeAt = this.#retryAt;
      }
      if (!this.#stopped) this.#schedule(this.#wakePending ? 0 : wakeAt - performance.now());
    }

    // -- the event subscription -----------------------------------------------

    async #listen() {
      this.#subTimer = undefined;
      if (this.#stopped) return;
      const sub = this.#newClient();
      this.#sub = sub;
      const retry = (error) => {
        if (this.#sub !== sub) return;
        this.#sub = undefined;
        sub.disconnect();
        this.#m.subscribed = false;
        if (this.#stopped) return;
        this.#note(`event subscription: ${describe(error)}`);
        this.#subFailures += 1;
        this.#subTimer = later(this.#fleet.reconnect_delay_ms(this.#subFailures), () => this.#listen());
      };
      sub.on('message', (_channel, message) => this.#poke(message));
      sub.on('end', () => retry('the connection closed'));
      try {
        await sub.connect();
        sub.stream?.unref?.();
        await sub.subscribe(this.#channel);
        this.#m.commands += 1;
        if (this.#sub !== sub) return;
        this.#m.subscribed = true;
        this.#subFailures = 0;
      } catch (error) {
        retry(error);
      }
    }

    #poke(message) {
      const parsed = parseEvent(message);
      if (parsed === undefined) return;
      const [instance, name] = parsed;
      let hit = false;
      for (const entry of this.#entries) {
        if (!entry.lease && entry.name === name && entry.instance !== instance) {
          entry.dueNow = true;
          hit = true;
        }
      }
      if (hit) this.#wake();
    }
  }

  return { RedisStore };
}
