/**
 * The Universal Sentence Encoder (lite) sentencepiece tokenizer, giving the same ids as
 * `@energetic-ai/embeddings`' Tokenizer.encode.
 *
 * Ported rather than reused because the package's version copies the rest of the input for
 * every character (`symbols.slice(i)`), which makes long inputs quadratic; this one searches
 * the trie in place. Its quirks are kept on purpose so the ids stay identical: a score of 0
 * counts as "no path yet", and the back-trace steps by the vocabulary entry's UTF-16 length.
 */

/** The package's vocab.json: `[piece, log-probability]`, index = token id. */
export type UseVocabulary = ReadonlyArray<readonly [string, number]>;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Set when a vocabulary piece ends here. */
  piece: { readonly symbols: number; readonly score: number; readonly id: number } | undefined;
}

interface Piece {
  readonly start: number;
  readonly score: number;
  readonly id: number;
}

const WORD_SEPARATOR = '\u2581';
/** Ids 0..5 are <unk>, <s>, </s> and reserved ids; none of them is matched against text. */
const RESERVED_IDS = 6;
const UNKNOWN_ID = 0;

function newNode(): TrieNode {
  return { children: new Map(), piece: undefined };
}

export class UseTokenizer {
  readonly vocabularySize: number;
  private readonly root = newNode();
  private readonly vocabulary: UseVocabulary;

  constructor(vocabulary: UseVocabulary) {
    this.vocabulary = vocabulary;
    this.vocabularySize = vocabulary.length;
    for (let id = RESERVED_IDS; id < vocabulary.length; id++) {
      const entry = vocabulary[id];
      if (entry !== undefined) this.insert(entry[0], entry[1], id);
    }
  }

  /** Token ids for one text; an empty text has none. */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const symbols = Array.from(WORD_SEPARATOR + normalized.replaceAll(' ', WORD_SEPARATOR));
    const n = symbols.length;

    // endingAt[e] lists the pieces that end at symbol e, in increasing start order.
    const endingAt: Piece[][] = Array.from({ length: n + 1 }, () => []);
    for (let start = 0; start < n; start++) {
      let found = false;
      let node = this.root.children.get(symbols[start] as string);
      for (let k = start; k < n && node !== undefined; k++) {
        if (node.piece !== undefined) {
          endingAt[start + node.piece.symbols]!.push({ start, score: node.piece.score, id: node.piece.id });
          found = true;
        }
        const next = symbols[k + 1];
        node = next === undefined ? undefined : node.children.get(next);
      }
      if (!found) endingAt[start + 1]!.push({ start, score: 0, id: UNKNOWN_ID });
    }

    const best = new Float64Array(n + 1);
    const bestId = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      for (const piece of endingAt[end]!) {
        const score = piece.score + best[piece.start]!;
        if (best[end] === 0 || score >= best[end]!) {
          best[end] = score;
          bestId[end] = piece.id;
        }
      }
    }

    const reversed: number[] = [];
    for (let at = n; at > 0;) {
      const id = bestId[at]!;
      reversed.push(id);
      at -= this.vocabulary[id]![0].length;
    }
    // Runs of unknown pieces collapse into one, as in the original.
    const ids: number[] = [];
    let previousUnknown = false;
    for (const id of reversed) {
      if (!(previousUnknown && id === UNKNOWN_ID)) ids.push(id);
      previousUnknown = id === UNKNOWN_ID;
    }
    return ids.reverse();
  }

  private insert(piece: string, score: number, id: number): void {
    let node = this.root;
    let symbols = 0;
    for (const symbol of piece) {
      let child = node.children.get(symbol);
      if (child === undefined) {
        child = newNode();
        node.children.set(symbol, child);
      }
      node = child;
      symbols++;
    }
    if (symbols > 0) node.piece = { symbols, score, id };
  }
}
