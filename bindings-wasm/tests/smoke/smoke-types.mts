// The installed tarball's declarations for `import` (index.d.ts).
import { CircuitBreaker, RetryPolicy, retry } from 'resilience-wasm';

export const delay: number = new RetryPolicy({ seed: 1 }).calculateDelayMs(1);
export const state: 'closed' | 'open' | 'half_open' = new CircuitBreaker().state;
export const wrapped: (n: number) => Promise<number> = retry(async (n: number) => n);
