import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayElements, objectMembers } from '../../src/json/scan.js';

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
