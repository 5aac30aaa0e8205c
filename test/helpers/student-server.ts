// A vLLM-like OpenAI-compatible server on 127.0.0.1 that answers from REAL engine models: the
// base checkpoint it starts with, LoRA adapters registered at run time through vLLM's endpoints
// (POST /v1/load_lora_adapter, /v1/unload_lora_adapter: the adapter is loaded onto a fresh copy
// of the base and merged), and a test-only POST /admin/reload that replaces the served model
// with another checkpoint (what a user's reload command does to a real server). Test-only.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineStudentFactory, nativeModelLoader, type EngineStudent } from '@siked/core';

/** One request the server answered. */
export interface StudentServerRequest {
  url: string;
  body: Record<string, unknown>;
}

export interface StudentServerFixture {
  baseUrl: string;
  requests: StudentServerRequest[];
  close(): Promise<void>;
}

/** Starts the server; `servedName` is the base model's name (vLLM's --served-model-name). */
export async function startStudentServer(
  baseDir: string,
  servedName: string,
): Promise<StudentServerFixture> {
  const factory = new EngineStudentFactory({
    baseDir,
    loadModel: nativeModelLoader({ threads: 1 }),
  });
  const models = new Map<string, EngineStudent>([[servedName, await factory.loadBase()]]);
  const requests: StudentServerRequest[] = [];
  // One engine call at a time, like one GPU worker.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  async function answer(url: string, body: Record<string, unknown>): Promise<[number, unknown]> {
    if (url === '/v1/models') {
      return [
        200,
        { object: 'list', data: [...models.keys()].map((id) => ({ id, object: 'model' })) },
      ];
    }
    if (url === '/v1/load_lora_adapter') {
      const name = String(body.lora_name);
      if (models.has(name)) return [400, `The lora adapter '${name}' has already been loaded.`];
      const student = await factory.loadBase();
      await student.mergeAdapterFrom(String(body.lora_path));
      models.set(name, student);
      return [200, `Success: LoRA adapter '${name}' added successfully.`];
    }
    if (url === '/v1/unload_lora_adapter') {
      const name = String(body.lora_name);
      models.get(name)?.dispose();
      models.delete(name);
      return [200, `Success: LoRA adapter '${name}' removed successfully.`];
    }
    if (url === '/admin/reload') {
      models.get(servedName)?.dispose();
      models.set(servedName, await factory.load(String(body.path)));
      return [200, { reloaded: body.path }];
    }
    if (url === '/v1/completions') {
      const student = models.get(String(body.model));
      if (!student)
        return [404, { error: { message: `The model \`${String(body.model)}\` does not exist.` } }];
      const generations = await student.generate([String(body.prompt)], {
        numSamples: Number(body.n ?? 1),
        temperature: Number(body.temperature ?? 1),
        topP: Number(body.top_p ?? 1),
        maxNewTokens: Number(body.max_tokens ?? 16),
        seed: Number(body.seed ?? 0),
        ...(Array.isArray(body.stop) ? { stop: body.stop as string[] } : {}),
      });
      return [
        200,
        {
          object: 'text_completion',
          model: body.model,
          choices: generations.map((g, index) => ({
            index,
            text: g.text,
            finish_reason: g.finishReason,
          })),
        },
      ];
    }
    return [404, { error: { message: `no route ${url}` } }];
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const url = request.url ?? '';
      requests.push({ url, body });
      serially(() => answer(url, body)).then(
        ([status, payload]) => {
          const isText = typeof payload === 'string';
          response.writeHead(status, {
            'content-type': isText ? 'text/plain' : 'application/json',
          });
          response.end(isText ? payload : JSON.stringify(payload));
        },
        (error: Error) => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { message: error.message } }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      for (const student of models.values()) student.dispose();
    },
  };
}
