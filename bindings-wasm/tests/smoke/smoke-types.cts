// The installed tarball's declarations for `require` (index.d.cts).
import { CircuitBreaker, RetryPolicy, SnapshotError, retry, type BreakerSnapshot } from 'resilience-wasm';

export const delay: number = new RetryPolicy({ seed: 1 }).calculateDelayMs(1);
export const state: 'closed' | 'open' | 'half_open' | 'isolated' = new CircuitBreaker().state;
export const saved: BreakerSnapshot = new CircuitBreaker({ failureRate: { ratio: 0.5, windowSize: 20 } }).toJSON();
export const typed: boolean = new Error() instanceof SnapshotError;
export const wrapped: (n: number) => Promise<number> = retry(async (n: number) => n);
