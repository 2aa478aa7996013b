/**
 * The simulator's building blocks without HTTP: serde-exact request parsing (axum's rejection
 * texts), ryu-exact f32 formatting, and the tokenizer's round trips.
 */
import { describe, expect, it } from 'vitest';
import { formatF32, formatF64 } from '../float-format.js';
import { parseRequest } from '../request-types.js';
import { decode, encode } from '../tokenizer.js';

const DATA = 'Failed to deserialize the JSON body into the target type: ';
const SYNTAX = 'Failed to parse the request body as JSON: ';

function reject(kind: Parameters<typeof parseRequest>[0], body: string): { status: number; body: string } {
  const result = parseRequest(kind, Buffer.from(body, 'utf8'));
  if (result.ok) throw new Error(`expected ${body} to be rejected`);
  return result.rejection;
}

function accept<K extends Parameters<typeof parseRequest>[0]>(kind: K, body: string) {
  const result = parseRequest(kind, Buffer.from(body, 'utf8'));
  if (!result.ok) throw new Error(`expected ${body} to parse, got ${result.rejection.body}`);
  return result.value;
}

describe('request parsing as axum Json + serde_json + serde_path_to_error', () => {
  it('reads the Input variants like the untagged enum', () => {
    expect(accept('embed', '{"inputs":"a"}').inputs).toEqual({ batch: false, items: [{ kind: 'text', text: 'a' }] });
    expect(accept('embed', '{"inputs":[101,2023]}').inputs).toEqual({ batch: false, items: [{ kind: 'ids', ids: [101, 2023] }] });
    expect(accept('embed', '{"inputs":[]}').inputs).toEqual({ batch: false, items: [{ kind: 'ids', ids: [] }] });
    expect(accept('embed', '{"inputs":["a",[1,2]]}').inputs).toEqual({
      batch: true,
      items: [
        { kind: 'text', text: 'a' },
        { kind: 'ids', ids: [1, 2] },
      ],
    });
    expect(accept('embed', '{"inputs":[[]]}').inputs).toEqual({ batch: true, items: [{ kind: 'ids', ids: [] }] });
  });

  it('applies defaults, ignores unknown fields and trailing bytes', () => {
    const req = accept('embed', '{"inputs":"a","unknown":{"x":[1,{}]}} trailing garbage');
    expect(req).toMatchObject({ truncate: null, truncation_direction: 'right', prompt_name: null, normalize: true, dimensions: null });
    expect(accept('embed', '{"inputs":"a","truncation_direction":"Left"}').truncation_direction).toBe('left');
    expect(accept('openai', '{"input":"a","encoding_format":"base64"}').encoding_format).toBe('base64');
  });

  it('reads PredictInput with TEI visitor', () => {
    expect(accept('predict', '{"inputs":"s"}').inputs).toEqual({ batch: false, items: [{ first: 's' }] });
    expect(accept('predict', '{"inputs":["s"]}').inputs).toEqual({ batch: false, items: [{ first: 's' }] });
    expect(accept('predict', '{"inputs":["a","b"]}').inputs).toEqual({ batch: false, items: [{ first: 'a', second: 'b' }] });
    expect(accept('predict', '{"inputs":[["a"],["a","b"]]}').inputs).toEqual({
      batch: true,
      items: [{ first: 'a' }, { first: 'a', second: 'b' }],
    });
    const expecting = 'a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]';
    expect(reject('predict', '{"inputs":["a","b","c"]}')).toEqual({
      status: 422,
      body: `${DATA}inputs: invalid length 3, expected ${expecting} at line 1 column 23`,
    });
    expect(reject('predict', '{"inputs":[]}').body).toBe(`${DATA}inputs: invalid length 0, expected ${expecting} at line 1 column 12`);
    expect(reject('predict', '{"inputs":[["a"],"b"]}').body).toBe(
      `${DATA}inputs[1]: invalid type: string "b", expected a sequence at line 1 column 20`,
    );
    expect(reject('predict', '{"inputs":[5]}').body).toBe(
      `${DATA}inputs[0]: data did not match any variant of untagged enum Internal at line 1 column 13`,
    );
  });

  it('words data errors like serde, with path and byte position', () => {
    expect(reject('embed', '{}')).toEqual({ status: 422, body: `${DATA}missing field \`inputs\` at line 1 column 2` });
    expect(reject('embed', '{"inputs":5}').body).toBe(`${DATA}inputs: data did not match any variant of untagged enum Input at line 1 column 12`);
    expect(reject('embed', '{"inputs":5,"truncate":true}').body).toBe(
      `${DATA}inputs: data did not match any variant of untagged enum Input at line 1 column 11`,
    );
    expect(reject('embed', '{"inputs":"a","truncate":"yes"}').body).toBe(
      `${DATA}truncate: invalid type: string "yes", expected a boolean at line 1 column 30`,
    );
    expect(reject('embed', '{"inputs":"a","truncation_direction":"up"}').body).toBe(
      `${DATA}truncation_direction: unknown variant \`up\`, expected one of \`Left\`, \`left\`, \`Right\`, \`right\` at line 1 column 41`,
    );
    expect(reject('embed', '{"inputs":"a","inputs":"b"}').body).toBe(`${DATA}duplicate field \`inputs\` at line 1 column 22`);
    expect(reject('embed', '{"inputs":"a","dimensions":-1}').body).toBe(
      `${DATA}dimensions: invalid value: integer \`-1\`, expected usize at line 1 column 29`,
    );
    expect(reject('embed', '{"inputs":"a","dimensions":1.5}').body).toBe(
      `${DATA}dimensions: invalid type: floating point \`1.5\`, expected usize at line 1 column 30`,
    );
    expect(reject('embed', '"x"').body).toBe(`${DATA}invalid type: string "x", expected struct EmbedRequest at line 1 column 3`);
    expect(reject('openai', '{"input":"a","encoding_format":"Float"}').body).toBe(
      `${DATA}encoding_format: unknown variant \`Float\`, expected \`float\` or \`base64\` at line 1 column 38`,
    );
    expect(reject('embed', '{\n  "inputs": 5\n}').body).toBe(
      `${DATA}inputs: data did not match any variant of untagged enum Input at line 3 column 1`,
    );
  });

  it('words syntax errors like serde_json, answered 400', () => {
    expect(reject('embed', '')).toEqual({ status: 400, body: `${SYNTAX}EOF while parsing a value at line 1 column 0` });
    expect(reject('embed', '{"inputs":["a",]}')).toEqual({ status: 400, body: `${SYNTAX}inputs: trailing comma at line 1 column 16` });
    expect(reject('embed', '{"inputs":"a",}').body).toBe(`${SYNTAX}trailing comma at line 1 column 15`);
    expect(reject('embed', '{"inputs":"a","truncation_direction":null}').body).toBe(
      `${SYNTAX}truncation_direction: expected value at line 1 column 38`,
    );
    expect(reject('embed', '{"inputs":"\\ud800"}').body).toBe(`${SYNTAX}inputs: unexpected end of hex escape at line 1 column 18`);
    expect(reject('embed', '{"inputs":"a" "x"}').body).toBe(`${SYNTAX}expected \`,\` or \`}\` at line 1 column 15`);
    expect(reject('embed', '{"inputs":"a","dimensions":1e400}').body).toBe(`${SYNTAX}dimensions: number out of range at line 1 column 32`);
  });

  it('reads a struct from a JSON array, field by field, like serde derive', () => {
    expect(reject('embed', '["a"]').body).toBe(`${DATA}invalid length 3, expected struct EmbedRequest with 6 elements at line 1 column 5`);
    expect(accept('decode', '[[1,2]]')).toEqual({ ids: { batch: false, items: [[1, 2]] }, skip_special_tokens: true });
  });
});

describe('f32 formatting as serde_json (ryu)', () => {
  it('prints the shortest text that reads back as the same f32', () => {
    expect(formatF32(Math.fround(0.1))).toBe('0.1');
    expect(formatF32(1)).toBe('1.0');
    expect(formatF32(-2.5)).toBe('-2.5');
    expect(formatF32(Math.fround(1e13))).toBe('1e13');
    expect(formatF32(Math.fround(1.5e-7))).toBe('1.5e-7');
    expect(formatF32(Math.fround(0.000001))).toBe('0.000001');
    expect(formatF32(Math.fround(123456.789))).toBe('123456.79');
    expect(formatF32(0)).toBe('0.0');
    const values = new Float32Array(2000);
    for (let i = 0; i < values.length; i += 1) values[i] = Math.sin(i * 7.3) * 10 ** ((i % 13) - 6);
    for (const v of values) {
      const text = formatF32(v);
      expect(Math.fround(Number(text))).toBe(v);
      // No shorter decimal reads back as v.
      const digits = text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
      if (digits.length > 1) expect(Math.fround(Number(v.toPrecision(digits.length - 1)))).not.toBe(v);
    }
  });

  it('prints f64 like ryu for error messages', () => {
    expect(formatF64(1.5)).toBe('1.5');
    expect(formatF64(1e16)).toBe('1e16');
    expect(formatF64(1e15)).toBe('1000000000000000.0');
    expect(formatF64(1e-6)).toBe('1e-6');
    expect(formatF64(-0)).toBe('-0.0');
  });
});

describe('tokenizer', () => {
  it('encodes BERT-like with special tokens and byte offsets', () => {
    const encoding = encode('Héllo, world!', true);
    expect(encoding.tokens).toEqual(['[CLS]', 'hel', '##lo', ',', 'wor', '##ld', '!', '[SEP]']);
    expect(encoding.ids[0]).toBe(101);
    expect(encoding.ids.at(-1)).toBe(102);
    // "é" is two bytes: "Hél" spans bytes 0..4.
    expect(encoding.offsets[1]).toEqual([0, 4]);
    expect(encoding.special).toEqual([true, false, false, false, false, false, false, true]);
  });

  it('decodes what it encodes, and encodes decoded ids to the same ids', () => {
    const text = 'the quick brown fox, 42 times!';
    const ids = encode(text, true).ids;
    expect(decode(ids, true)).toBe(text);
    expect(decode(ids, false)).toBe(`[CLS] ${text} [SEP]`);
    expect(encode(decode(ids, false), false).ids).toEqual(ids);
  });

  it('truncates after leaving room for the special tokens', () => {
    const long = 'one two three four five six seven eight';
    expect(encode(long, true, { maxLength: 5, direction: 'right' }).tokens).toEqual(['[CLS]', 'one', 'two', 'thr', '[SEP]']);
    expect(encode(long, true, { maxLength: 5, direction: 'left' }).tokens).toEqual(['[CLS]', '##en', 'eig', '##ht', '[SEP]']);
  });
});
