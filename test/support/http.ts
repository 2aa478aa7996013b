import { Agent, request } from 'undici';

/** Enough connections for the concurrency tests, so the client side never serialises them. */
const agent = new Agent({ connections: 1024, pipelining: 1 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

export async function send(
  base: string,
  path: string,
  options: { method?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | Buffer | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await request(new URL(path, base), {
    method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers,
    body,
    dispatcher: agent,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

export const post = (base: string, path: string, body: unknown, headers?: Record<string, string>) =>
  send(base, path, { body, ...(headers ? { headers } : {}) });
