import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.js';

/** One request the receiver got, recorded once its body arrived. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body. */
  readonly body: string;
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  readonly json: unknown;
}

/**
 * How the receiver answers one request: a status (empty body), `'hang'` (never answers), or a status
 * (default 200) with headers and a body (a string as it is, anything else as JSON), after `delayMs`.
 */
export type ReceiverAnswer = number | 'hang' | { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number };

/** Answers by position (the n-th request gets `answers[n]`, the last one repeats) or by a function of the request. */
export type ReceiverAnswers = ReceiverAnswer[] | ((request: ReceivedRequest, index: number) => ReceiverAnswer);

/** A real HTTP server on 127.0.0.1 and port 0 standing for a webhook receiver, a JWKS, introspection or user-check endpoint. */
export interface HttpReceiver {
  /** `http://127.0.0.1:{port}`; append any path. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly received: ReceivedRequest[];
  /** Parks every answer from now on until {@link release}. */
  hold(): void;
  /** Sends the parked answers; later ones go out at once again. */
  release(): void;
  /** Drops open connections and stops listening (connections are refused from then on). */
  close(): Promise<void>;
  /** Listens again on the same port after {@link close}: the endpoint is back. */
  reopen(): Promise<void>;
}

/** Starts an {@link HttpReceiver} that records every request and answers as `answers` says; it is closed after the test. */
export async function startReceiver(answers: ReceiverAnswers = [200]): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  let held: (() => void)[] | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: ReceivedRequest = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, json: parseJson(body) };
      const index = received.push(entry) - 1;
      const answer = typeof answers === 'function' ? answers(entry, index) : answers[Math.min(index, answers.length - 1)] ?? 200;
      if (answer === 'hang') return;
      const { status = 200, headers = {}, body: content, delayMs } = typeof answer === 'number' ? { status: answer } : answer;
      const respond = () => {
        if (content === undefined) response.writeHead(status, headers).end();
        else if (typeof content === 'string') response.writeHead(status, headers).end(content);
        else response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(content));
      };
      const send = delayMs === undefined ? respond : () => void setTimeout(respond, delayMs);
      if (held === undefined) send();
      else held.push(send);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onCleanup(close);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    hold: () => void (held ??= []),
    release: () => {
      const pending = held ?? [];
      held = undefined;
      for (const send of pending) send();
    },
    close,
    reopen: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }),
  };
}

/** A real RFC 7662-style introspection endpoint on port 0: answers each POSTed `{ token }` with `answer(token)`. */
export async function serveIntrospection(answer: (token: string) => ReceiverAnswer): Promise<HttpReceiver> {
  const receiver = await startReceiver(({ json }) => answer((json as { token: string }).token));
  return { ...receiver, url: `${receiver.url}/introspect` };
}

function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
