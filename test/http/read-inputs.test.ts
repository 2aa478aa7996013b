/**
 * A big body's inputs read with stand-ins for its long strings (src/json/stand-ins.ts,
 * src/http/read-inputs.ts) must be exactly what reading it whole gives: the same texts sent
 * upstream byte for byte, the same parameters, the same refusals with the same words, for every
 * route. And the point of it, checked here too: a plain big input is held as a view of the body's
 * bytes, not as a copy.
 */
import { describe, expect, it } from 'vitest';
import { readInputs, STAND_IN_MIN_BODY_BYTES } from '../../src/http/read-inputs.js';
import { duplicateKey } from '../../src/json/scan.js';
import { MIN_STOOD_IN_BYTES } from '../../src/json/stand-ins.js';
import { parseRouteSpec } from '../../src/routes/custom.js';
import { isRuleError } from '../../src/routes/errors.js';
import { ruleTable } from '../../src/routes/registry.js';
import { inputLength } from '../../src/routes/input-text.js';
import type { BatchRule, InputText } from '../../src/routes/rule.js';
import { callBodyBytes, sendableBody } from '../../src/upstream/call-body.js';

const rules = ruleTable([parseRouteSpec('/v2/encode:texts'), parseRouteSpec('/v1/objects:items:data')]);

/** How every body was read before stand-ins: decoded whole, JSON.parse, the rule's JSON.stringify. */
function readWholeReference(rule: BatchRule, body: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    const detail = error instanceof TypeError ? 'the body is not valid UTF-8' : (error as Error).message;
    return { status: 400, errorType: 'Validation', message: `Failed to parse the request body as JSON: ${detail}` };
  }
  const repeated = duplicateKey(body);
  if (repeated !== undefined) return { error: repeated };
  const parsed = rule.parse(value);
  if (isRuleError(parsed)) return parsed;
  return { items: parsed.items, params: parsed.params, solo: parsed.solo };
}

const text = (item: InputText): string => (typeof item === 'string' ? item : item.toString('utf8'));

function read(rule: BatchRule, body: Buffer): unknown {
  const result = readInputs(rule, body);
  if (!result.ok) {
    const message = result.error.message;
    const repeated = /^Failed to deserialize the JSON body into the target type: duplicate field `(.*)`$/.exec(message);
    return repeated === null ? result.error : { error: repeated[1] };
  }
  return { items: result.items.map(text), params: result.parsed.params, solo: result.parsed.solo };
}

/** `seed` repeated to at least `length` characters, never cut inside an escape. */
const long = (seed: string, length = 40_000): string => seed.repeat(Math.ceil(length / seed.length));
const plain = long('lorem ipsum dolor sit amet ');
const escaped = long('a \\"quoted\\" line\\n with a \\\\ backslash\\t and a tab. ');

/** Bodies as raw JSON text, most of them bigger than STAND_IN_MIN_BODY_BYTES. */
const BODIES: string[] = [
  `{"inputs":"${plain}"}`,
  `{"inputs":["${plain}","short","${escaped}"],"truncate":true}`,
  `{ "inputs" : [ "${plain}" , [1, 2, 3] , "${plain}" ] , "normalize" : false }`,
  `\ufeff{"inputs":["${plain}"]}`,
  `{"inputs":["${long('caf\u00e9 \ud83d\ude00 \u4e2d\u6587 ')}","${long('\ufeff starts with a BOM ')}"]}`,
  // Spellings JSON.stringify would not write: kept in the text JSON.parse reads.
  `{"inputs":["${long('caf\\u00e9 ')}","${long('a\\/b ')}","${plain}"]}`,
  `{"inputs":["${long('nul \\u0000 ')}","${plain}"]}`,
  `{"inputs":["${long('\\\\u0000 ')}","${plain}"]}`,
  // A short input spelled exactly as a stand-in would be.
  `{"inputs":["\\u00001","${plain}","${plain}"]}`,
  // Invalid: a raw control character, bad UTF-8, broken JSON after a long string, an unclosed string.
  `{"inputs":["${long('tab\there ')}"]}`,
  `{"inputs":["${plain}"],}`,
  `{"inputs":["${plain}"] "x":1}`,
  `{"inputs":["${plain}`,
  // A long key and a long parameter.
  `{"${plain}":1,"inputs":["${plain}"]}`,
  `{"inputs":["${plain}"],"model":"${plain}","user":"u"}`,
  `{"input":["${plain}","${plain}"],"model":"m"}`,
  // Refusals: types, empties, duplicates, not an object.
  `{"inputs":["${plain}",""]}`,
  `{"inputs":["${plain}",5]}`,
  `{"inputs":["${plain}"],"inputs":["x"]}`,
  `["${plain}"]`,
  `"${plain}"`,
  `{"inputs":[["${plain}","${plain}"],["${plain}"]]}`,
  `{"inputs":["${plain}","${plain}"]}`,
  `{"texts":[{"t":"${plain}"},"${plain}",null,1.50]}`,
  `{"items":["${plain}","${plain}"]}`,
  `{"input":["${plain}"],"model":""}`,
  `{"inputs":[${Array.from({ length: 20 }, (_, i) => `"${'x'.repeat(MIN_STOOD_IN_BYTES - 3 + i)}"`).join(',')}]}`,
  `{"ids":[[${Array.from({ length: 9000 }, (_, i) => i).join(',')}]],"skip_special_tokens":true}`,
];

const PATHS = ['/embed', '/embed_all', '/tokenize', '/predict', '/decode', '/v1/embeddings', '/api/embed', '/v2/encode', '/v1/objects'];

describe('readInputs', () => {
  it('reads every body as reading it whole does, on every route', () => {
    for (const source of BODIES) {
      const body = Buffer.from(source);
      for (const path of PATHS) {
        const rule = rules.get(path)!;
        expect(read(rule, body), `${path} ${source.slice(0, 60)}`).toEqual(readWholeReference(rule, body));
      }
    }
    const broken = Buffer.from(`{"inputs":["${plain}","${plain}"]}`);
    broken[100] = 0xff;
    expect(read(rules.get('/embed')!, broken)).toEqual(readWholeReference(rules.get('/embed')!, broken));
  });

  it('holds a long input as a view of the body, and a small body as before', () => {
    const body = Buffer.from(`{"inputs":["${plain}","short","${escaped}"]}`);
    expect(body.length).toBeGreaterThanOrEqual(STAND_IN_MIN_BODY_BYTES);
    const result = readInputs(rules.get('/embed')!, body);
    if (!result.ok) throw new Error(result.error.message);
    const [first, second, third] = result.items;
    expect(Buffer.isBuffer(first) && first.buffer === body.buffer).toBe(true);
    expect(second).toBe('"short"');
    expect(Buffer.isBuffer(third) && third.buffer === body.buffer).toBe(true);
    expect(result.text).toBeUndefined();

    const longKey = readInputs(rules.get('/embed')!, Buffer.from(`{"inputs":["${plain}"],"${plain}":1}`));
    expect(longKey.ok && longKey.items.every((item) => Buffer.isBuffer(item))).toBe(true);

    const small = readInputs(rules.get('/embed')!, Buffer.from('{"inputs":"a short one"}'));
    expect(small.ok && small.items).toEqual(['"a short one"']);
  });

  it('sends the call as the very bytes of the joined text, in pieces', () => {
    const rule = rules.get('/v1/embeddings')!;
    const body = Buffer.from(`{"input":["${plain}","short","${escaped}"],"model":"m"}`);
    const result = readInputs(rule, body);
    if (!result.ok) throw new Error(result.error.message);
    const call = rule.encodeCall(result.parsed.params, [...result.items, ...result.items]);
    const joined = Buffer.from(rule.encodeCall(result.parsed.params, [...result.items, ...result.items].map(text)) as string);
    const sendable = sendableBody(call);
    if (typeof sendable === 'string') throw new Error('expected pieces');
    expect(Buffer.concat(sendable.chunks).equals(joined)).toBe(true);
    expect(sendable.length).toBe(joined.length);
    expect(callBodyBytes(call)).toBe(joined.length);
    // The big inputs go as they are, not copied.
    expect(sendable.chunks.some((chunk) => chunk.buffer === body.buffer)).toBe(true);
  });

  it("weighs a held input by its length as a string, whatever it is held as (object answers' counts)", () => {
    const body = Buffer.from(`{"inputs":["${long('caf\u00e9 \ud83d\ude00 \u4e2d\u6587 \\n ')}","${plain}"]}`);
    const result = readInputs(rules.get('/embed')!, body);
    if (!result.ok) throw new Error(result.error.message);
    for (const item of result.items) {
      expect(Buffer.isBuffer(item)).toBe(true);
      expect(inputLength(item)).toBe(text(item).length);
    }
  });
});
