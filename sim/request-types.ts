/**
 * TEI's request bodies (router/src/http/types.rs) and how serde reads them.
 *
 * Each spec lists the struct's fields in declaration order with serde's fallback for an absent
 * field: `#[serde(default)]` fields fall back in both the map and the sequence form of a struct,
 * `Option` fields without it are None in a map but an `invalid length` in a sequence. The
 * untagged enums (`Input`, `TokenizeInput`, `InputIds`) try their variants in order against the
 * buffered value; `PredictInput` has TEI's own visitor.
 */

import {
  type Chain,
  type Content,
  JsonDeError,
  NONE,
  SerdeJson,
  type SeqState,
  type StructSpec,
  contentAsStringVec,
  contentAsU32Vec,
  custom,
  invalidLength,
} from './serde-json.js';

export type InputItem = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'ids'; readonly ids: readonly number[] };

/** `Input`, `TokenizeInput` or `InputIds`: one item (`batch: false`) or a list of items. */
export interface Inputs<T> {
  readonly batch: boolean;
  readonly items: readonly T[];
}

export type TruncationDirection = 'left' | 'right';

/** One /predict input: a text or a pair of texts. */
export interface Sequence {
  readonly first: string;
  readonly second?: string;
}

export interface EmbedRequest {
  readonly inputs: Inputs<InputItem>;
  readonly truncate: boolean | null;
  readonly truncation_direction: TruncationDirection;
  readonly prompt_name: string | null;
  readonly normalize: boolean;
  readonly dimensions: number | null;
}

export interface EmbedSparseRequest {
  readonly inputs: Inputs<InputItem>;
  readonly truncate: boolean | null;
  readonly truncation_direction: TruncationDirection;
  readonly prompt_name: string | null;
}

export type EmbedAllRequest = EmbedSparseRequest;

export interface PredictRequest {
  readonly inputs: Inputs<Sequence>;
  readonly truncate: boolean | null;
  readonly truncation_direction: TruncationDirection;
  readonly raw_scores: boolean;
}

export interface RerankRequest {
  readonly query: string;
  readonly texts: readonly string[];
  readonly truncate: boolean | null;
  readonly truncation_direction: TruncationDirection;
  readonly raw_scores: boolean;
  readonly return_text: boolean;
}

export interface SimilarityParameters {
  readonly truncate: boolean | null;
  readonly truncation_direction: TruncationDirection;
  readonly prompt_name: string | null;
}

export interface SimilarityRequest {
  readonly inputs: { readonly source_sentence: string; readonly sentences: readonly string[] };
  readonly parameters: SimilarityParameters | null;
}

export type EncodingFormat = 'float' | 'base64';

export interface OpenAICompatRequest {
  readonly input: Inputs<InputItem>;
  readonly model: string | null;
  readonly user: string | null;
  readonly encoding_format: EncodingFormat;
  readonly dimensions: number | null;
}

export interface TokenizeRequest {
  readonly inputs: Inputs<string>;
  readonly add_special_tokens: boolean;
  readonly prompt_name: string | null;
}

export interface DecodeRequest {
  readonly ids: Inputs<readonly number[]>;
  readonly skip_special_tokens: boolean;
}

export interface VertexRequest {
  readonly instances: readonly Content[];
}

// ------------------------------------------------------------------ field readers

const TRUNCATION_DIRECTIONS = new Map<string, TruncationDirection>([
  ['Left', 'left'],
  ['left', 'left'],
  ['Right', 'right'],
  ['right', 'right'],
]);
// serde's VARIANTS: every alias, sorted per variant (BTreeSet), variants in declaration order.
const TRUNCATION_DIRECTION_NAMES = ['Left', 'left', 'Right', 'right'];

const ENCODING_FORMATS = new Map<string, EncodingFormat>([
  ['float', 'float'],
  ['base64', 'base64'],
]);
const ENCODING_FORMAT_NAMES = ['float', 'base64'];

const readBool = (de: SerdeJson, c: Chain): boolean => de.deserializeBool(c);
const readOptionBool = (de: SerdeJson, c: Chain): boolean | null => de.deserializeOption(c, (cc) => de.deserializeBool(cc));
const readOptionString = (de: SerdeJson, c: Chain): string | null => de.deserializeOption(c, (cc) => de.deserializeString(cc));
const readOptionUsize = (de: SerdeJson, c: Chain): number | null => de.deserializeOption(c, (cc) => de.deserializeUsize(cc));
const readString = (de: SerdeJson, c: Chain): string => de.deserializeString(c);
const readStringVec = (de: SerdeJson, c: Chain): string[] => de.deserializeVec(c, (cc) => de.deserializeString(cc));
const readTruncationDirection = (de: SerdeJson, c: Chain): TruncationDirection =>
  de.deserializeUnitEnum(c, TRUNCATION_DIRECTIONS, TRUNCATION_DIRECTION_NAMES);
const readEncodingFormat = (de: SerdeJson, c: Chain): EncodingFormat => de.deserializeUnitEnum(c, ENCODING_FORMATS, ENCODING_FORMAT_NAMES);

function inputItemFromContent(content: Content): InputItem | undefined {
  if (content.t === 'str') return { kind: 'text', text: content.v };
  const ids = contentAsU32Vec(content);
  return ids === undefined ? undefined : { kind: 'ids', ids };
}

/** `Input`: untagged Single(InputType) | Batch(Vec<InputType>), InputType = String | Ids(Vec<u32>). */
function readInput(de: SerdeJson, c: Chain): Inputs<InputItem> {
  const content = de.deserializeContent(c);
  const single = inputItemFromContent(content);
  if (single !== undefined) return { batch: false, items: [single] };
  if (content.t === 'seq') {
    const items: InputItem[] = [];
    for (const element of content.v) {
      const item = inputItemFromContent(element);
      if (item === undefined) break;
      items.push(item);
    }
    if (items.length === content.v.length) return { batch: true, items };
  }
  throw custom('data did not match any variant of untagged enum Input');
}

/** `TokenizeInput`: untagged Single(String) | Batch(Vec<String>). */
function readTokenizeInput(de: SerdeJson, c: Chain): Inputs<string> {
  const content = de.deserializeContent(c);
  if (content.t === 'str') return { batch: false, items: [content.v] };
  const batch = contentAsStringVec(content);
  if (batch !== undefined) return { batch: true, items: batch };
  throw custom('data did not match any variant of untagged enum TokenizeInput');
}

/** `InputIds`: untagged Single(Vec<u32>) | Batch(Vec<Vec<u32>>). */
function readInputIds(de: SerdeJson, c: Chain): Inputs<readonly number[]> {
  const content = de.deserializeContent(c);
  const single = contentAsU32Vec(content);
  if (single !== undefined) return { batch: false, items: [single] };
  if (content.t === 'seq') {
    const items: number[][] = [];
    for (const element of content.v) {
      const ids = contentAsU32Vec(element);
      if (ids === undefined) break;
      items.push(ids);
    }
    if (items.length === content.v.length) return { batch: true, items };
  }
  throw custom('data did not match any variant of untagged enum InputIds');
}

const PREDICT_INPUT_EXPECTING =
  'a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]';

function sequenceFromVec(values: readonly string[]): Sequence {
  if (values.length === 1) return { first: values[0] as string };
  if (values.length === 2) return { first: values[0] as string, second: values[1] as string };
  throw invalidLength(values.length, PREDICT_INPUT_EXPECTING);
}

/** TEI's PredictInputVisitor (types.rs): "s", ["s"] and ["a","b"] are single; [[..], ..] a batch. */
function readPredictInput(de: SerdeJson, c: Chain): Inputs<Sequence> {
  return de.deserializeAnyStringOrSeq<Inputs<Sequence>>(
    c,
    PREDICT_INPUT_EXPECTING,
    (value) => ({ batch: false, items: [{ first: value }] }),
    () => {
      const state: SeqState = { first: true, index: 0 };
      // The first element decides: a string means one input, a list means a batch.
      const first = de.nextElement(state, c, (cc): { single: string } | { multiple: string[] } => {
        const content = de.deserializeContent(cc);
        if (content.t === 'str') return { single: content.v };
        const multiple = contentAsStringVec(content);
        if (multiple !== undefined) return { multiple };
        throw custom('data did not match any variant of untagged enum Internal');
      });
      if (first === NONE) throw invalidLength(0, PREDICT_INPUT_EXPECTING);
      if ('single' in first) {
        const second = de.nextElement(state, c, (cc) => de.deserializeString(cc));
        if (de.nextElement(state, c, (cc) => de.deserializeString(cc)) !== NONE) {
          throw invalidLength(3, PREDICT_INPUT_EXPECTING);
        }
        const sequence: Sequence = second === NONE ? { first: first.single } : { first: first.single, second };
        return { batch: false, items: [sequence] };
      }
      const batch: Sequence[] = [sequenceFromVec(first.multiple)];
      for (;;) {
        const next = de.nextElement(state, c, (cc) => de.deserializeVec(cc, (e) => de.deserializeString(e)));
        if (next === NONE) return { batch: true, items: batch };
        batch.push(sequenceFromVec(next));
      }
    },
  );
}

// ------------------------------------------------------------------ struct specs

const EMBED_REQUEST: StructSpec = {
  name: 'EmbedRequest',
  fields: [
    { name: 'inputs', fallback: 'required', read: readInput },
    { name: 'truncate', fallback: 'default', defaultValue: null, read: readOptionBool },
    { name: 'truncation_direction', fallback: 'default', defaultValue: 'right', read: readTruncationDirection },
    { name: 'prompt_name', fallback: 'none', read: readOptionString },
    { name: 'normalize', fallback: 'default', defaultValue: true, read: readBool },
    { name: 'dimensions', fallback: 'none', read: readOptionUsize },
  ],
};

const EMBED_SPARSE_REQUEST: StructSpec = {
  name: 'EmbedSparseRequest',
  fields: [
    { name: 'inputs', fallback: 'required', read: readInput },
    { name: 'truncate', fallback: 'default', defaultValue: null, read: readOptionBool },
    { name: 'truncation_direction', fallback: 'default', defaultValue: 'right', read: readTruncationDirection },
    { name: 'prompt_name', fallback: 'none', read: readOptionString },
  ],
};

const EMBED_ALL_REQUEST: StructSpec = { ...EMBED_SPARSE_REQUEST, name: 'EmbedAllRequest' };

const PREDICT_REQUEST: StructSpec = {
  name: 'PredictRequest',
  fields: [
    { name: 'inputs', fallback: 'required', read: readPredictInput },
    // No #[serde(default)] here, unlike the other requests.
    { name: 'truncate', fallback: 'none', read: readOptionBool },
    { name: 'truncation_direction', fallback: 'default', defaultValue: 'right', read: readTruncationDirection },
    { name: 'raw_scores', fallback: 'default', defaultValue: false, read: readBool },
  ],
};

const RERANK_REQUEST: StructSpec = {
  name: 'RerankRequest',
  fields: [
    { name: 'query', fallback: 'required', read: readString },
    { name: 'texts', fallback: 'required', read: readStringVec },
    { name: 'truncate', fallback: 'default', defaultValue: null, read: readOptionBool },
    { name: 'truncation_direction', fallback: 'default', defaultValue: 'right', read: readTruncationDirection },
    { name: 'raw_scores', fallback: 'default', defaultValue: false, read: readBool },
    { name: 'return_text', fallback: 'default', defaultValue: false, read: readBool },
  ],
};

const SIMILARITY_INPUT: StructSpec = {
  name: 'SimilarityInput',
  fields: [
    { name: 'source_sentence', fallback: 'required', read: readString },
    { name: 'sentences', fallback: 'required', read: readStringVec },
  ],
};

const SIMILARITY_PARAMETERS: StructSpec = {
  name: 'SimilarityParameters',
  fields: [
    { name: 'truncate', fallback: 'none', read: readOptionBool },
    { name: 'truncation_direction', fallback: 'default', defaultValue: 'right', read: readTruncationDirection },
    { name: 'prompt_name', fallback: 'none', read: readOptionString },
  ],
};

const SIMILARITY_REQUEST: StructSpec = {
  name: 'SimilarityRequest',
  fields: [
    { name: 'inputs', fallback: 'required', read: (de, c) => de.deserializeStruct(c, SIMILARITY_INPUT) },
    {
      name: 'parameters',
      fallback: 'none',
      read: (de, c) => de.deserializeOption(c, (cc) => de.deserializeStruct(cc, SIMILARITY_PARAMETERS)),
    },
  ],
};

const OPENAI_COMPAT_REQUEST: StructSpec = {
  name: 'OpenAICompatRequest',
  fields: [
    { name: 'input', fallback: 'required', read: readInput },
    { name: 'model', fallback: 'none', read: readOptionString },
    { name: 'user', fallback: 'none', read: readOptionString },
    { name: 'encoding_format', fallback: 'default', defaultValue: 'float', read: readEncodingFormat },
    { name: 'dimensions', fallback: 'none', read: readOptionUsize },
  ],
};

const TOKENIZE_REQUEST: StructSpec = {
  name: 'TokenizeRequest',
  fields: [
    { name: 'inputs', fallback: 'required', read: readTokenizeInput },
    { name: 'add_special_tokens', fallback: 'default', defaultValue: true, read: readBool },
    { name: 'prompt_name', fallback: 'none', read: readOptionString },
  ],
};

const DECODE_REQUEST: StructSpec = {
  name: 'DecodeRequest',
  fields: [
    { name: 'ids', fallback: 'required', read: readInputIds },
    { name: 'skip_special_tokens', fallback: 'default', defaultValue: true, read: readBool },
  ],
};

const VERTEX_REQUEST: StructSpec = {
  name: 'VertexRequest',
  fields: [{ name: 'instances', fallback: 'required', read: (de, c) => de.deserializeVec(c, (cc) => de.deserializeContent(cc)) }],
};

export const REQUEST_SPECS = {
  embed: EMBED_REQUEST,
  embedSparse: EMBED_SPARSE_REQUEST,
  embedAll: EMBED_ALL_REQUEST,
  predict: PREDICT_REQUEST,
  rerank: RERANK_REQUEST,
  similarity: SIMILARITY_REQUEST,
  openai: OPENAI_COMPAT_REQUEST,
  tokenize: TOKENIZE_REQUEST,
  decode: DECODE_REQUEST,
  vertex: VERTEX_REQUEST,
} as const;

export interface RequestTypes {
  embed: EmbedRequest;
  embedSparse: EmbedSparseRequest;
  embedAll: EmbedAllRequest;
  predict: PredictRequest;
  rerank: RerankRequest;
  similarity: SimilarityRequest;
  openai: OpenAICompatRequest;
  tokenize: TokenizeRequest;
  decode: DecodeRequest;
  vertex: VertexRequest;
}

export type RequestKind = keyof RequestTypes;

/** axum's Json rejection: status and plain-text body. */
export interface JsonRejection {
  readonly status: number;
  readonly body: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: JsonRejection };

/** axum 0.7's text for a serde_json error: 400 for syntax, 422 for data. */
export function rejectionFor(error: JsonDeError): JsonRejection {
  return error.category === 'syntax'
    ? { status: 400, body: `Failed to parse the request body as JSON: ${error.display()}` }
    : { status: 422, body: `Failed to deserialize the JSON body into the target type: ${error.display()}` };
}

/** Reads a request body exactly as `Json<T>` would (trailing bytes after the value are ignored). */
export function parseRequest<K extends RequestKind>(kind: K, body: Uint8Array): ParseResult<RequestTypes[K]> {
  const de = new SerdeJson(body);
  try {
    const value = de.deserializeStruct([], REQUEST_SPECS[kind]) as unknown as RequestTypes[K];
    return { ok: true, value };
  } catch (error) {
    if (error instanceof JsonDeError) return { ok: false, rejection: rejectionFor(error) };
    throw error;
  }
}

/**
 * serde_json::from_value for one /vertex instance: the same type rules, but errors carry no
 * position or path. The instance is re-encoded and parsed; only the message is kept.
 */
export function parseInstance<K extends RequestKind>(
  kind: K,
  instance: Content,
): { ok: true; value: RequestTypes[K] } | { ok: false; message: string } {
  const body = Buffer.from(contentToJson(instance), 'utf8');
  const de = new SerdeJson(body);
  try {
    return { ok: true, value: de.deserializeStruct([], REQUEST_SPECS[kind]) as unknown as RequestTypes[K] };
  } catch (error) {
    if (error instanceof JsonDeError) return { ok: false, message: error.code };
    throw error;
  }
}

export function contentToJson(content: Content): string {
  switch (content.t) {
    case 'unit':
      return 'null';
    case 'bool':
      return content.v ? 'true' : 'false';
    case 'num':
      if (content.n.kind === 'u64') return content.n.digits;
      if (content.n.kind === 'i64') return `-${content.n.digits}`;
      return Number.isFinite(content.n.value) ? String(content.n.value) : 'null';
    case 'str':
      return JSON.stringify(content.v);
    case 'seq':
      return `[${content.v.map(contentToJson).join(',')}]`;
    case 'map':
      return `{${content.v.map(([k, v]) => `${contentToJson(k)}:${contentToJson(v)}`).join(',')}}`;
    default:
      return 'null';
  }
}
