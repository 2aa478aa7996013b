/**
 * The texts the demo and the results benchmark send. On a CPU model that pads every input of a
 * batch to the longest one (as the Universal Sentence Encoder upstream does), the spread of
 * lengths decides whether batching pays: one paragraph in a batch of short queries makes every
 * query in it cost as much as the paragraph. So results are reported for both sets below.
 */
import { BUILT_IN_CORPUS } from '../src/loadgen/index.js';

export type TextSetKey = 'short' | 'mixed';

export interface TextSet {
  key: TextSetKey;
  texts: readonly string[];
  /** What the texts are, e.g. "the 215 queries and single sentences of …". */
  detail: string;
  /** For bench reports: "short texts: " and the detail. */
  description: string;
}

/** Longest text, in characters, of the short set: queries and single sentences, no paragraphs. */
const SHORT_TEXT_MAX_CHARS = 120;

const shortTexts = BUILT_IN_CORPUS.filter((text) => text.length <= SHORT_TEXT_MAX_CHARS);

const shortDetail =
  `the ${shortTexts.length} queries and single sentences of the built-in corpus ` +
  `(at most ${SHORT_TEXT_MAX_CHARS} characters; 1 to 49 tokens of the model, median 20)`;
const mixedDetail =
  `the built-in corpus of ${BUILT_IN_CORPUS.length} queries, sentences and paragraphs ` +
  '(1 to 286 tokens of the model, median 23; every fourth text is a paragraph of 80 to 290 tokens)';

export const TEXT_SETS: Readonly<Record<TextSetKey, TextSet>> = {
  short: { key: 'short', texts: shortTexts, detail: shortDetail, description: `short texts: ${shortDetail}` },
  mixed: { key: 'mixed', texts: BUILT_IN_CORPUS, detail: mixedDetail, description: `mixed texts: ${mixedDetail}` },
};
