/**
 * A deterministic BERT-like tokenizer standing in for a model's tokenizer.json.
 *
 * It follows the steps of `bert-base-uncased` as Hugging Face tokenizers runs them, so token
 * counts, truncation, offsets and special tokens behave like TEI's: special tokens written in
 * the text are matched first, then the BertNormalizer (drop control characters, whitespace to
 * spaces, CJK characters as words, strip accents, lowercase), the BertPreTokenizer (split on
 * whitespace, isolate punctuation) and WordPiece with `##` continuations. The vocabulary is
 * synthetic but invertible: word pieces are every [a-z0-9] unigram and bigram plus every
 * lowercase letter trigram, so `decode(encode(text))` gives the normalized text back and
 * `encode(decode(ids))` gives the ids back for any canonical encoding, as TEI's token-id
 * inputs need (it decodes them and encodes the text again). Offsets are UTF-8 byte offsets into
 * the input, like the Rust tokenizers crate reports them.
 */

export const VOCAB_SIZE = 30522;
export const PAD_ID = 0;
export const UNK_ID = 100;
export const CLS_ID = 101;
export const SEP_ID = 102;
export const MASK_ID = 103;

const SPECIAL_TOKENS: ReadonlyArray<readonly [string, number]> = [
  ['[PAD]', PAD_ID],
  ['[UNK]', UNK_ID],
  ['[CLS]', CLS_ID],
  ['[SEP]', SEP_ID],
  ['[MASK]', MASK_ID],
];
const SPECIAL_IDS = new Set(SPECIAL_TOKENS.map(([, id]) => id));

const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const MAX_INPUT_CHARS_PER_WORD = 100;

// Id layout, after BERT's 1000 reserved ids.
const PUNCT_BASE = 999;
const START1_BASE = PUNCT_BASE + PUNCTUATION.length;
const START2_BASE = START1_BASE + 36;
const START3_BASE = START2_BASE + 36 * 36;
const CONT1_BASE = START3_BASE + 26 * 26 * 26;
const CONT2_BASE = CONT1_BASE + 36;
const FIRST_UNUSED_TAIL = CONT2_BASE + 36 * 36;

function alnumIndex(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 10;
  return -1;
}

/** The vocabulary: token text for every id. */
const ID_TO_TOKEN: string[] = buildVocabulary();

function buildVocabulary(): string[] {
  const vocab = new Array<string>(VOCAB_SIZE);
  for (const [text, id] of SPECIAL_TOKENS) vocab[id] = text;
  // Reserved ids are named like BERT's, numbered across both reserved ranges.
  let unused = 0;
  for (let id = 0; id < VOCAB_SIZE; id += 1) {
    if ((id < PUNCT_BASE || id >= FIRST_UNUSED_TAIL) && !SPECIAL_IDS.has(id)) vocab[id] = `[unused${unused++}]`;
  }
  for (let i = 0; i < PUNCTUATION.length; i += 1) vocab[PUNCT_BASE + i] = PUNCTUATION[i] as string;
  for (let a = 0; a < 36; a += 1) {
    vocab[START1_BASE + a] = ALNUM[a] as string;
    vocab[CONT1_BASE + a] = `##${ALNUM[a]}`;
    for (let b = 0; b < 36; b += 1) {
      vocab[START2_BASE + a * 36 + b] = `${ALNUM[a]}${ALNUM[b]}`;
      vocab[CONT2_BASE + a * 36 + b] = `##${ALNUM[a]}${ALNUM[b]}`;
    }
  }
  for (let x = 0; x < 26; x += 1) {
    for (let y = 0; y < 26; y += 1) {
      for (let z = 0; z < 26; z += 1) {
        vocab[START3_BASE + x * 676 + y * 26 + z] = `${ALNUM[x + 10]}${ALNUM[y + 10]}${ALNUM[z + 10]}`;
      }
    }
  }
  return vocab;
}

export type TruncationDirection = 'left' | 'right';

/** tokenizers' `Encoding`, reduced to what TEI reads. */
export interface Encoding {
  readonly ids: number[];
  /** UTF-8 byte offsets [start, stop) into the encoded text; (0, 0) for added specials. */
  readonly offsets: Array<readonly [number, number]>;
  /** special_tokens_mask: only the tokens the post-processor added. */
  readonly special: boolean[];
  readonly tokens: string[];
}

export interface Truncation {
  readonly maxLength: number;
  readonly direction: TruncationDirection;
}

function emptyEncoding(): Encoding {
  return { ids: [], offsets: [], special: [], tokens: [] };
}

function push(encoding: Encoding, id: number, token: string, start: number, stop: number, special = false): void {
  encoding.ids.push(id);
  encoding.tokens.push(token);
  encoding.offsets.push([start, stop]);
  encoding.special.push(special);
}

const CONTROL = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}]/u;
const WHITE_SPACE = /\p{White_Space}/u;
const UNICODE_PUNCTUATION = /\p{P}/u;
const NONSPACING_MARKS = /\p{Mn}/gu;

function isChineseChar(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

function isAsciiPunctuation(code: number): boolean {
  return (code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96) || (code >= 123 && code <= 126);
}

function utf8Length(code: number): number {
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/** A pre-tokenized word: normalized characters, each with the byte range it came from. */
interface Word {
  chars: string[];
  starts: number[];
  stops: number[];
}

/** BertNormalizer + BertPreTokenizer over `text`, offsets shifted by `base`. */
function splitWords(text: string, base: number): Word[] {
  const words: Word[] = [];
  let current: Word | undefined;
  const flush = (): void => {
    if (current !== undefined && current.chars.length > 0) words.push(current);
    current = undefined;
  };
  const append = (ch: string, start: number, stop: number): void => {
    current ??= { chars: [], starts: [], stops: [] };
    current.chars.push(ch);
    current.starts.push(start);
    current.stops.push(stop);
  };
  const alone = (ch: string, start: number, stop: number): void => {
    flush();
    words.push({ chars: [ch], starts: [start], stops: [stop] });
  };

  let offset = base;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const start = offset;
    offset += utf8Length(code);
    if (code < 0x80) {
      if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) {
        flush();
      } else if (code < 0x20 || code === 0x7f) {
        // clean_text drops control characters.
      } else if (isAsciiPunctuation(code)) {
        alone(ch, start, offset);
      } else {
        append(code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 32) : ch, start, offset);
      }
      continue;
    }
    if (code === 0xfffd || CONTROL.test(ch)) continue;
    if (WHITE_SPACE.test(ch)) {
      flush();
      continue;
    }
    if (isChineseChar(code)) {
      alone(ch, start, offset);
      continue;
    }
    // strip_accents (NFD, drop nonspacing marks), then lowercase.
    const normalized = ch.normalize('NFD').replace(NONSPACING_MARKS, '').toLowerCase();
    for (const out of normalized) {
      const outCode = out.codePointAt(0) ?? 0;
      if (isAsciiPunctuation(outCode) || UNICODE_PUNCTUATION.test(out)) alone(out, start, offset);
      else append(out, start, offset);
    }
  }
  flush();
  return words;
}

/** WordPiece over one word with the synthetic vocabulary. */
function wordPiece(word: Word, encoding: Encoding): void {
  const n = word.chars.length;
  const first = word.chars[0] as string;
  const wordStart = word.starts[0] as number;
  const wordStop = word.stops[n - 1] as number;
  if (n === 1) {
    const punct = PUNCTUATION.indexOf(first);
    if (punct >= 0 && first.length === 1) {
      push(encoding, PUNCT_BASE + punct, first, wordStart, wordStop);
      return;
    }
  }
  const indices: number[] = [];
  for (const ch of word.chars) {
    const index = ch.length === 1 ? alnumIndex(ch.charCodeAt(0)) : -1;
    if (index < 0 || n > MAX_INPUT_CHARS_PER_WORD) {
      // Like WordPiece, a word with anything outside the vocabulary is one [UNK].
      push(encoding, UNK_ID, '[UNK]', wordStart, wordStop);
      return;
    }
    indices.push(index);
  }
  let i = 0;
  while (i < n) {
    const remaining = n - i;
    const a = indices[i] as number;
    let id: number;
    let length: number;
    if (i === 0) {
      if (remaining >= 3 && a >= 10 && (indices[1] as number) >= 10 && (indices[2] as number) >= 10) {
        id = START3_BASE + (a - 10) * 676 + ((indices[1] as number) - 10) * 26 + ((indices[2] as number) - 10);
        length = 3;
      } else if (remaining >= 2) {
        id = START2_BASE + a * 36 + (indices[1] as number);
        length = 2;
      } else {
        id = START1_BASE + a;
        length = 1;
      }
    } else if (remaining >= 2) {
      id = CONT2_BASE + a * 36 + (indices[i + 1] as number);
      length = 2;
    } else {
      id = CONT1_BASE + a;
      length = 1;
    }
    push(encoding, id, ID_TO_TOKEN[id] as string, word.starts[i] as number, word.stops[i + length - 1] as number);
    i += length;
  }
}

/** Tokens of `text` without special tokens added (AddedVocabulary split, then the model). */
function encodeRaw(text: string): Encoding {
  const encoding = emptyEncoding();
  let segmentStart = 0;
  let byteOffset = 0;
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === 0x5b) {
      const match = SPECIAL_TOKENS.find(([name]) => text.startsWith(name, i));
      if (match !== undefined) {
        const [name, id] = match;
        const before = text.slice(segmentStart, i);
        for (const word of splitWords(before, byteOffset)) wordPiece(word, encoding);
        byteOffset += Buffer.byteLength(before, 'utf8');
        push(encoding, id, name, byteOffset, byteOffset + name.length);
        byteOffset += name.length;
        i += name.length;
        segmentStart = i;
        continue;
      }
    }
    i += 1;
  }
  for (const word of splitWords(text.slice(segmentStart), byteOffset)) wordPiece(word, encoding);
  return encoding;
}

/** Encoding::truncate with stride 0: drop tokens from the end (right) or the start (left). */
function truncateEncoding(encoding: Encoding, maxLength: number, direction: TruncationDirection): Encoding {
  const length = encoding.ids.length;
  if (maxLength >= length) return encoding;
  const [from, to] = direction === 'right' ? [0, maxLength] : [length - maxLength, length];
  return {
    ids: encoding.ids.slice(from, to),
    offsets: encoding.offsets.slice(from, to),
    special: encoding.special.slice(from, to),
    tokens: encoding.tokens.slice(from, to),
  };
}

/** tokenizers' truncate_encodings with the LongestFirst strategy and stride 0. */
function truncatePair(a: Encoding, b: Encoding | undefined, maxLength: number, direction: TruncationDirection): [Encoding, Encoding | undefined] {
  if (maxLength === 0) return [truncateEncoding(a, 0, direction), b === undefined ? undefined : truncateEncoding(b, 0, direction)];
  const total = a.ids.length + (b?.ids.length ?? 0);
  if (total <= maxLength) return [a, b];
  if (b === undefined) return [truncateEncoding(a, maxLength, direction), undefined];
  // n1: the shorter encoding's share, n2: the longer's.
  const swap = a.ids.length > b.ids.length;
  let n1 = Math.min(a.ids.length, b.ids.length);
  let n2 = n1 > maxLength ? n1 : Math.max(n1, maxLength - n1);
  if (n1 + n2 > maxLength) {
    n1 = Math.floor(maxLength / 2);
    n2 = n1 + (maxLength % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [truncateEncoding(a, n1, direction), truncateEncoding(b, n2, direction)];
}

function concat(parts: Encoding[]): Encoding {
  const out = emptyEncoding();
  for (const part of parts) {
    out.ids.push(...part.ids);
    out.offsets.push(...part.offsets);
    out.special.push(...part.special);
    out.tokens.push(...part.tokens);
  }
  return out;
}

function specialEncoding(id: number): Encoding {
  return { ids: [id], offsets: [[0, 0]], special: [true], tokens: [ID_TO_TOKEN[id] as string] };
}

/**
 * Tokenizer::encode for a text or a pair of texts: truncation (leaving room for the special
 * tokens when they are added), then the BERT template `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`.
 */
export function encode(text: string, addSpecialTokens: boolean, truncation?: Truncation, pair?: string): Encoding {
  let a = encodeRaw(text);
  let b = pair === undefined ? undefined : encodeRaw(pair);
  if (truncation !== undefined) {
    const added = addSpecialTokens ? (b === undefined ? 2 : 3) : 0;
    [a, b] = truncatePair(a, b, Math.max(0, truncation.maxLength - added), truncation.direction);
  }
  if (!addSpecialTokens) return b === undefined ? a : concat([a, b]);
  const cls = specialEncoding(CLS_ID);
  const sep = specialEncoding(SEP_ID);
  return b === undefined ? concat([cls, a, sep]) : concat([cls, a, sep, b, specialEncoding(SEP_ID)]);
}

/** Token text for an id, undefined outside the vocabulary (tokenizers skips those). */
export function idToToken(id: number): string | undefined {
  return ID_TO_TOKEN[id];
}

export function isSpecialId(id: number): boolean {
  return SPECIAL_IDS.has(id);
}

/** WordPiece decoder's per-token cleanup (`cleanup: true`). */
function cleanup(token: string): string {
  return token
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Tokenizer::decode with the WordPiece decoder. */
export function decode(ids: readonly number[], skipSpecialTokens: boolean): string {
  let out = '';
  let index = 0;
  for (const id of ids) {
    const token = ID_TO_TOKEN[id];
    if (token === undefined) continue;
    if (skipSpecialTokens && SPECIAL_IDS.has(id)) continue;
    let piece: string;
    if (index === 0) piece = token;
    else if (token.startsWith('##')) piece = token.slice(2);
    else piece = ` ${token}`;
    out += cleanup(piece);
    index += 1;
  }
  return out;
}
