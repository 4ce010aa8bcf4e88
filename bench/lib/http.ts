import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One HTTP exchange's outcome. */
export interface HttpResult {
  readonly status: number;
  readonly body: string;
  /** From sending the request to the end of the response, in ms. */
  readonly ms: number;
}

/** A keep-alive agent holding at most `sockets` connections. */
export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** Sends one request to 127.0.0.1:`port` and reads the whole answer. */
export function send(
  agent: Agent,
  port: number,
  method: 'GET' | 'POST',
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} took over ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs a GraphQL operation and returns its parsed answer; throws on HTTP or GraphQL errors. */
export async function graphql<T>(
  agent: Agent,
  port: number,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data: T; ms: number; bytes: number }> {
  const result = await send(agent, port, 'POST', '/graphql', JSON.stringify({ query, variables }), {
    'content-type': 'application/json',
  });
  const parsed = JSON.parse(result.body) as { data?: T; errors?: { message: string }[] };
  if (result.status !== 200 || parsed.errors?.length || !parsed.data) {
    throw new Error(`GraphQL answered ${result.status}: ${result.body.slice(0, 500)}`);
  }
  return { data: parsed.data, ms: result.ms, bytes: Buffer.byteLength(result.body) };
}

/**
 * Runs `total` jobs with `concurrency` in flight at once, each job given its
 * index; stops at the first error or once `deadline` (epoch ms) has passed.
 */
export async function runConcurrently(
  total: number,
  concurrency: number,
  deadline: number,
  job: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < total) {
      if (Date.now() > deadline) {
        failure = new Error(`deadline passed after ${next} of ${total} requests`);
        return;
      }
      const index = next++;
      try {
        await job(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  if (failure !== null) throw failure;
}
