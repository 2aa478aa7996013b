import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayElements, duplicateKey, objectMembers } from '../../src/json/scan.js';

const text = (value: string) => Buffer.from(value);
const cut = (source: string) => {
  const buffer = text(source);
  const ranges = arrayElements(buffer);
  if (ranges === undefined) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < ranges.length; i += 2) parts.push(buffer.toString('utf8', ranges[i], ranges[i + 1]));
  return parts;
};

describe('arrayElements', () => {
  it('cuts lists of vectors, objects, strings and literals into the upstream bytes', () => {
    expect(cut('[[0.1,-2e-7,3],[4]]')).toEqual(['[0.1,-2e-7,3]', '[4]']);
    expect(cut(' [ {"a":"]}","b":[1,[2]]} , "x\\"]" ,null,true, -1.5e+3 ] ')).toEqual([
      '{"a":"]}","b":[1,[2]]}',
      '"x\\"]"',
      'null',
      'true',
      '-1.5e+3',
    ]);
    expect(cut('[]')).toEqual([]);
    expect(cut('[[]]')).toEqual(['[]']);
  });

  it('does not take the number fast path past a string or nested list', () => {
    expect(cut('[[1,"]"],[2]]')).toEqual(['[1,"]"]', '[2]']);
    expect(cut('[[1,[2]],[3]]')).toEqual(['[1,[2]]', '[3]']);
  });

  it('answers undefined for text that is not a list', () => {
    for (const bad of ['', '{}', '[1,', '[1 2]', '["a]', '[[1,2]', 'null']) expect(cut(bad)).toBeUndefined();
  });

  it('agrees with JSON.parse on any JSON list', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom(0, 2), (values, indent) => {
        const source = JSON.stringify(values, null, indent);
        const parts = cut(source);
        expect(parts?.map((part) => JSON.parse(part) as unknown)).toEqual(JSON.parse(source));
      }),
    );
  });
});

describe('objectMembers', () => {
  it('finds each member value', () => {
    const buffer = text('{"object":"list","data":[{"index":0}],"model":"m","usage":{"prompt_tokens":3}}');
    const members = objectMembers(buffer)!;
    expect(members.map((m) => [m.key, buffer.toString('utf8', m.valueStart, m.valueEnd)])).toEqual([
      ['object', '"list"'],
      ['data', '[{"index":0}]'],
      ['model', '"m"'],
      ['usage', '{"prompt_tokens":3}'],
    ]);
    expect(objectMembers(text('[1]'))).toBeUndefined();
    expect(objectMembers(text('{"a" 1}'))).toBeUndefined();
  });
});

describe('duplicateKey', () => {
  const of = (text: string): string | undefined => duplicateKey(Buffer.from(text));

  it('finds a repeated top-level key, compared decoded', () => {
    expect(of('{"inputs":"a","inputs":"b"}')).toBe('inputs');
    expect(of('{ "a" : 1 , "b" : [1,{"a":2}] , "a" : 3 }')).toBe('a');
    expect(of('{"inputs":"a","\\u0069nputs":"b"}')).toBe('inputs');
    expect(of('{"é":1,"\\u00e9":2}')).toBe('é');
  });

  it('finds nothing where keys differ, repeat only inside values, or the text is not an object', () => {
    expect(of('{"inputs":"a","truncate":true}')).toBeUndefined();
    expect(of('{"inputs":[{"a":1,"a":2}],"x":{"b":1,"b":2}}')).toBeUndefined();
    expect(of('{"inputs":"\\"inputs\\":1"}')).toBeUndefined();
    expect(of('[1,1]')).toBeUndefined();
    expect(of('{}')).toBeUndefined();
  });

  it('agrees with JSON.parse on random objects: a repeat exactly when parsing loses a key', () => {
    const key = fc.constantFrom('a', 'b', 'inputs', '\\u0061', 'é');
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.jsonValue()), { maxLength: 6 }), (members) => {
        const text = `{${members.map(([k, v]) => `"${k}":${JSON.stringify(v)}`).join(',')}}`;
        const parsedKeys = Object.keys(JSON.parse(text) as object).length;
        expect(of(text) !== undefined).toBe(parsedKeys < members.length);
      }),
    );
  });
});
