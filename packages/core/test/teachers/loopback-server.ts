// A real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible model server, and fails
// on request in the ways real ones do. Test-only.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request. */
export type Behaviour =
  | { kind: 'ok'; choices?: number; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'truncated' }
  /** Status 200 with this JSON body (e.g. `{}` or an error object: not a completion). */
  | { kind: 'body'; body: unknown };

/** One request the server received. */
export interface ReceivedRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  atMs: number;
}

/** The server, its address and what it saw. */
export interface LoopbackServer {
  baseUrl: string;
  requests: ReceivedRequest[];
  maxInFlight: number;
  /** Behaviours consumed in order; when empty, `fallback` answers. */
  script: Behaviour[];
  fallback: Behaviour;
  close(): Promise<void>;
}

function completionText(body: Record<string, unknown>, index: number): string {
  const prompt = JSON.stringify(body.messages ?? body.prompt);
  return `sample ${index} for ${prompt.length} chars of prompt; Final answer: ${index}`;
}

/** Starts the server on a free loopback port. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  let inFlight = 0;
  let served = 0;
  const state: LoopbackServer = {
    baseUrl: '',
    requests: [],
    maxInFlight: 0,
    script: [],
    fallback: { kind: 'ok' },
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      state.requests.push({
        url: request.url ?? '',
        headers: request.headers,
        body,
        atMs: Date.now(),
      });
      const behaviour = state.script.shift() ?? state.fallback;
      inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const done = () => {
        inFlight -= 1;
      };
      switch (behaviour.kind) {
        case 'hang':
          response.on('close', done);
          return; // never answers; the client must time out
        case 'status':
          response.writeHead(behaviour.status, {
            'content-type': 'application/json',
            ...(behaviour.retryAfter !== undefined ? { 'retry-after': behaviour.retryAfter } : {}),
          });
          response.end(JSON.stringify({ error: { message: `status ${behaviour.status}` } }));
          return done();
        case 'malformed':
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"choices": [oops');
          return done();
        case 'body':
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(behaviour.body));
          return done();
        case 'truncated':
          // Promise more bytes than are sent, then drop the connection mid-body.
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
          response.write('{"choices": [{"index": 0, "text": "partial');
          setTimeout(() => {
            response.socket?.destroy();
            done();
          }, 10);
          return;
        case 'ok': {
          const n = behaviour.choices ?? (typeof body.n === 'number' ? body.n : 1);
          const isChat = (request.url ?? '').endsWith('/chat/completions');
          const choices = Array.from({ length: n }, (_, index) => {
            const text = completionText(body, served + index);
            return isChat
              ? { index, message: { role: 'assistant', content: text }, finish_reason: 'stop' }
              : { index, text, finish_reason: 'stop' };
          });
          served += n;
          setTimeout(() => {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(
              JSON.stringify({ id: 'x', object: 'completion', model: body.model, choices }),
            );
            done();
          }, behaviour.delayMs ?? 0);
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
