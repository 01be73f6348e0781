// A real, throwaway redis-server for the Node Redis tests (the twin of
// redis/src/testing.rs): started on a free port in a temp dir
// (`redis-server --port P --bind 127.0.0.1 --dir TMP --save '' --daemonize
// yes --pidfile TMP/r.pid`), stopped by that pid. It can be paused
// (SIGSTOP), resumed, killed, and restarted empty on the same port.
// Nothing is mocked and nothing is skipped: without redis-server on the
// PATH, start() fails with how to install it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, rmSync as rm } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const INSTALL_HINT =
  "redis-server is not installed: run `make test-redis` (it installs Debian's package), or `apt-get install -y redis-server`";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(') ') + 2, stat.lastIndexOf(') ') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** One command over a plain socket; resolves with the raw reply text. */
export function command(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, 2000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', (chunk) => {
      data += chunk;
      const complete =
        data[0] === '$' ? (() => { const [head, ...rest] = data.split('\r\n'); const n = Number(head.slice(1)); return n < 0 || rest.join('\r\n').length >= n + 2; })()
          : data.endsWith('\r\n');
      if (complete) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
  });
}

export class RedisServer {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'resilience-redis-node-'));
    this.port = 0;
    this.pid = undefined;
  }

  static async start() {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(INSTALL_HINT);
    }
    const server = new RedisServer();
    let last;
    for (let i = 0; i < 5; i += 1) {
      server.port = await freePort();
      try {
        await server.#launch();
        return server;
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  async #launch() {
    const pidfile = join(this.dir, 'r.pid');
    rm(pidfile, { force: true });
    execFileSync('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      let pid;
      try {
        pid = Number(readFileSync(pidfile, 'utf8').trim());
      } catch {
        await sleep(20);
        continue;
      }
      this.pid = pid;
      if (!alive(pid)) throw new Error(`redis-server on port ${this.port} exited at start`);
      if (await this.ping()) return;
      await sleep(20);
    }
    await this.kill();
    throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
  }

  async ping() {
    try {
      return (await command(this.port, 'PING')).startsWith('+PONG');
    } catch {
      return false;
    }
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  command(...args) {
    return command(this.port, ...args);
  }

  /** `calls` of `name` in INFO commandstats. */
  async commandCalls(name) {
    const info = await this.command('INFO', 'commandstats');
    const line = info.split('\r\n').find((l) => l.startsWith(`cmdstat_${name}:calls=`));
    return line === undefined ? 0 : Number(line.split('=')[1].split(',')[0]);
  }

  pause() {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume() {
    process.kill(this.pid, 'SIGCONT');
  }

  async kill() {
    const pid = this.pid;
    this.pid = undefined;
    if (pid === undefined) return;
    for (const sig of ['SIGCONT', 'SIGKILL']) {
      try {
        process.kill(pid, sig);
      } catch {
        break;
      }
    }
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await sleep(10);
  }

  async restartEmpty() {
    await this.kill();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.#launch();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }

  async stop() {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A store holds what it shares only weakly (a breaker, limiter or budget
 * nobody can reach stops syncing), and V8 may collect a local that an async
 * test no longer reads after an await. Tests hold what they share here;
 * their afterEach lets it go.
 */
export const held = new Set();

/** Keeps `shared` reachable until the test ends; returns it. */
export function hold(shared) {
  held.add(shared);
  return shared;
}

/**
 * Polls `condition` until it holds; fails naming `what` after `withinMs`
 * (`what` may be a function: it then describes the state at the failure).
 * Resolves with how long it took (ms).
 */
export async function waitUntil(withinMs, what, condition) {
  const start = performance.now();
  for (let polls = 0; ; polls += 1) {
    // Under --expose-gc (make test-redis), a shared object a test forgot to
    // hold is collected every time, not once in a while (every 25th poll: a
    // collection costs a few ms).
    if (polls % 25 === 1) globalThis.gc?.();
    if (await condition()) return performance.now() - start;
    if (performance.now() - start >= withinMs) {
      throw new Error(`not within ${withinMs} ms: ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(2);
  }
}
