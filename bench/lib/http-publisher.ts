import { Agent, request } from 'node:http';
import type { BenchData } from './ipc.js';
import type { RunningServer } from './servers.js';
import { API_KEY } from './tokens.js';

const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * The backend side of the bench: publishes `bench` events to one user through a server's HTTP API over
 * keep-alive connections (at most `maxSockets` at once; further requests queue in the agent).
 */
export class HttpPublisher {
  private readonly agent: Agent;
  /** Non-2xx answers and transport errors, first few reasons kept for the report. */
  readonly failures: string[] = [];
  /** Send → answer time of each successful publish since the last {@link takeAnswerTimes}, ms. */
  private answerTimes: number[] = [];

  constructor(private readonly server: RunningServer, maxSockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Resolves true on a 2xx answer, false otherwise (never rejects). */
  publish(userId: string, data: BenchData): Promise<boolean> {
    const body = this.server.spec.publishBody(userId, data);
    const sentAt = performance.now();
    return new Promise((resolve) => {
      const fail = (reason: string) => {
        if (this.failures.length < 5) this.failures.push(reason);
        resolve(false);
      };
      const req = request({
        host: '127.0.0.1',
        port: this.server.port,
        path: this.server.spec.publishPath,
        method: 'POST',
        agent: this.agent,
        timeout: PUBLISH_TIMEOUT_MS,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      }, (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.once('end', () => {
          if (status < 200 || status >= 300) return fail(`HTTP ${status}`);
          this.answerTimes.push(performance.now() - sentAt);
          resolve(true);
        });
        res.once('error', (error) => fail(error.message));
      });
      req.once('timeout', () => req.destroy(new Error('publish timed out')));
      req.once('error', (error) => fail(error.message));
      req.end(body);
    });
  }

  /** The answer times recorded since the last call (and forgets them). */
  takeAnswerTimes(): Float64Array {
    const times = Float64Array.from(this.answerTimes);
    this.answerTimes = [];
    return times;
  }

  close(): void {
    this.agent.destroy();
  }
}
