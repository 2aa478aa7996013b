/**
 * The batch key: which requests may share one upstream call. Two requests share a call only if
 * everything the call carries besides their inputs is the same for both, so the key is built
 * from exactly that, in this one place:
 *   - the path (and query string) the call is sent to;
 *   - the parameters: every body field other than the inputs, as canonical JSON, so it includes
 *     `model` on the OpenAI-compatible and Ollama routes (a server hosting several models must
 *     never see two models' inputs in one call);
 *   - the forwarded headers (credentials such as `Authorization`, `api-key`, `OpenAI-Project`,
 *     plus `--forward-header`): they decide who pays and who may see the answer, so callers
 *     that differ in any of them never share a call;
 *   - the length band (`--bucket-by-length`), for upstreams that pad a batch to its longest input;
 *   - solo: a request known to fail upstream gets a key nobody else has.
 * The HTTP handler only gathers these parts; it never writes a key itself.
 */
import { lengthBucket } from '../core/length-bucket.js';

/** The headers a call carries on behalf of its clients, lower-case names, sorted by name. */
export type ForwardedHeaders = readonly (readonly [name: string, value: string])[];

export interface BatchKeyParts {
  /** Path and query string of the call. */
  readonly path: string;
  /** Canonical JSON members of every non-input field (ParsedRequest.params). */
  readonly params: string;
  readonly headers: ForwardedHeaders;
  /** Bytes of the request's longest input as sent (its JSON text plus the separating comma). */
  readonly longestItemBytes: number;
  /** The length-band factor (`--bucket-by-length`, or an adaptive one); undefined: no bands. */
  readonly bandFactor: number | undefined;
  readonly solo: boolean;
}

/** Requests sent alone get a key nobody else has. */
let soloSequence = 0;

export function batchKey(parts: BatchKeyParts): string {
  // JSON keeps the parts apart whatever they hold (a header value cannot forge a path or params).
  let key = JSON.stringify([parts.path, parts.params, parts.headers]);
  if (parts.solo) return `${key}\u0000solo${++soloSequence}`;
  if (parts.bandFactor !== undefined) key += `\u0000len${lengthBucket(parts.longestItemBytes - 1, parts.bandFactor)}`;
  return key;
}

/** Headers forwarded when no `--forward-header` is given: the credentials OpenAI, Azure OpenAI and TEI read. */
export const DEFAULT_FORWARDED_HEADERS = ['authorization', 'openai-organization', 'openai-project', 'api-key'] as const;

/** The default names plus `extra`, lower-cased, without repeats, sorted (the order keys and calls use). */
export function forwardedHeaderNames(extra: readonly string[] = []): string[] {
  return [...new Set([...DEFAULT_FORWARDED_HEADERS, ...extra.map((name) => name.toLowerCase())])].sort();
}

/**
 * The values of `names` on a client's request. A header sent twice is joined with ", " (what
 * Node does for most headers, and how HTTP defines a repeated field's value).
 */
export function pickHeaders(incoming: Readonly<Record<string, string | string[] | undefined>>, names: readonly string[]): ForwardedHeaders {
  const picked: [string, string][] = [];
  for (const name of names) {
    const value = incoming[name];
    if (value === undefined) continue;
    picked.push([name, Array.isArray(value) ? value.join(', ') : value]);
  }
  return picked;
}
