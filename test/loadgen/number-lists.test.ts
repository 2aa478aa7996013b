/**
 * The byte-level check of /embed answers may only ever spare the bench a parse: whatever it
 * vouches for, JSON.parse and the full check accept too, with the same vector width recorded.
 * Checked on hand-picked bodies and on thousands of random ones, valid and damaged.
 */
import { describe, expect, it } from 'vitest';
import { numberListsShape } from '../../src/loadgen/number-lists.js';
import { routeShapeFor, type AnswerCheckState } from '../../src/loadgen/route-shapes.js';
import { seededRandom } from '../support/seeded-random.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const embed = routeShapeFor('/embed');

describe('numberListsShape', () => {
  it('reads lists of finite numbers of one width', () => {
    expect(numberListsShape(bytes('[[0.1,-2,3e-5],[1E+2,0,-0.0]]'))).toEqual({ rows: 2, width: 3 });
    expect(numberListsShape(bytes('[[1]]'))).toEqual({ rows: 1, width: 1 });
    expect(numberListsShape(bytes('[]'))).toEqual({ rows: 0, width: 0 });
  });

  it.each([
    ['rows of two widths', '[[1,2],[3]]'],
    ['an empty row', '[[]]'],
    ['a flat list', '[1,2]'],
    ['whitespace', '[[1, 2]]'],
    ['a leading zero', '[[01]]'],
    ['a bare minus', '[[-]]'],
    ['a bare dot', '[[1.]]'],
    ['an exponent without digits', '[[1e]]'],
    ['an overflowing exponent', '[[1e400]]'],
    ['an overflowing integer', `[[${'9'.repeat(400)}]]`],
    ['null', '[[null]]'],
    ['a string', '[["1"]]'],
    ['NaN', '[[NaN]]'],
    ['a trailing comma', '[[1,]]'],
    ['bytes after the list', '[[1]]x'],
    ['an unclosed list', '[[1]'],
    ['an error object', '{"error":"x"}'],
    ['nothing', ''],
    ['a byte-order mark', '\u00ef\u00bb\u00bf[[1]]'],
  ])('cannot vouch for %s', (_what, text) => {
    expect(numberListsShape(bytes(text))).toBeUndefined();
  });

  it('reads a Buffer that is a view into a larger one', () => {
    const whole = bytes('xx[[1,2]]yy');
    expect(numberListsShape(whole.subarray(2, 9))).toEqual({ rows: 1, width: 2 });
    expect(numberListsShape(bytes('xx[[1e3]]yy').subarray(2, 9))).toEqual({ rows: 1, width: 1 });
  });
});

describe('the /embed answer check from bytes', () => {
  it('vouches for the right count and width only, and records the width as the full check does', () => {
    const state: AnswerCheckState = {};
    expect(embed.vouchesFor!(bytes('[[1,2],[3,4]]'), 2, state)).toBe(true);
    expect(state.vectorWidth).toBe(2);
    expect(embed.vouchesFor!(bytes('[[1,2]]'), 2, state)).toBe(false);
    expect(embed.vouchesFor!(bytes('[[1,2,3]]'), 1, state)).toBe(false);
    expect(embed.vouchesFor!(bytes('[]'), 0, {})).toBe(false);
  });

  it('never vouches for what JSON.parse and the full check would refuse (random bodies)', () => {
    const rand = seededRandom(11);
    const atoms = [
      '0',
      '-0',
      '1',
      '12',
      '0.5',
      '-3.25',
      '1e5',
      '2E-7',
      '1e400',
      '01',
      '.5',
      '1.',
      '-',
      'null',
      '"1"',
      'true',
      ' ',
      ',',
      '[',
      ']',
      '{}',
      'NaN',
    ];
    let vouched = 0;
    for (let run = 0; run < 5000; run++) {
      const rows = Math.floor(rand() * 4);
      const width = 1 + Math.floor(rand() * 3);
      let text = `[${Array.from({ length: rows }, () => `[${Array.from({ length: width }, () => String((rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3))).join(',')}]`).join(',')}]`;
      // Damage about half of them: an atom put in, or a byte taken out.
      if (rand() < 0.5) {
        const at = Math.floor(rand() * (text.length + 1));
        text = rand() < 0.7 ? text.slice(0, at) + atoms[Math.floor(rand() * atoms.length)]! + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      const count = Math.max(1, rows + (rand() < 0.1 ? 1 : 0));
      const fast: AnswerCheckState = rand() < 0.5 ? {} : { vectorWidth: width };
      const full: AnswerCheckState = { ...fast };
      if (!embed.vouchesFor!(bytes(text), count, fast)) continue;
      vouched++;
      expect(embed.checkAnswer(JSON.parse(text), count, full), text).toBeUndefined();
      expect(fast).toEqual(full);
    }
    // The property is not vacuous: most undamaged bodies are vouched for.
    expect(vouched).toBeGreaterThan(1500);
  });
});
