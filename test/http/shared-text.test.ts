/**
 * Inputs swapped for substrings of the body's text must stay the very same text (they are what
 * the upstream is sent); where the body spells an input differently, the copy is kept.
 * That the swap saves the memory is measured in test/reliability/memory-held.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { shareSourceText } from '../../src/http/shared-text.js';

function itemsOf(body: string): string[] {
  const inputs = (JSON.parse(body) as { inputs: unknown[] }).inputs;
  return inputs.map((input) => JSON.stringify(input));
}

describe('shareSourceText', () => {
  it('keeps every input equal to its JSON text, in order, whatever the body spells', () => {
    const bodies = [
      '{"inputs":["a long enough first input","a long enough second input","short","a long enough first input"]}',
      '{"inputs":["caf\\u00e9 au lait, please", "caf\u00e9 au lait, please", [1, 2, 3, 4, 5, 6, 7, 8], "and after the miss: still equal"]}',
      '{"truncate":true,"inputs":["emoji \ud83d\ude00 in a long input", "\\ud800 lone surrogate, escaped"]}',
      '{"inputs":["\\"quoted\\" \\\\ and \\n escapes inside"]}',
    ];
    for (const body of bodies) {
      const expected = itemsOf(body);
      const items = itemsOf(body);
      shareSourceText(body, items);
      expect(items).toEqual(expected);
    }
  });

  it('finds an input only after the previous one, and stops at the first it cannot find', () => {
    // Searching from the start would find the second input inside the first.
    const body = '{"inputs":["xx \\"needle text here\\" xx", "needle text here"]}';
    const items = itemsOf(body);
    shareSourceText(body, items);
    expect(items).toEqual(itemsOf(body));
    let searched = 0;
    const counting = {
      indexOf: (search: string, from: number) => {
        searched++;
        return body.indexOf(search, from);
      },
      slice: (start: number, end: number) => body.slice(start, end),
    } as unknown as string;
    const many = ['"\\u0041 spelled otherwise"', ...Array.from({ length: 50 }, (_, i) => JSON.stringify(`input number ${i} of many`))];
    const manyBody = `{"inputs":[${many.join(',')}]}`;
    const manyItems = itemsOf(manyBody);
    shareSourceText(counting, manyItems);
    // The first input is spelled otherwise in the body: one search, then the copies are kept.
    expect(searched).toBe(1);
    expect(manyItems).toEqual(itemsOf(manyBody));
  });
});
