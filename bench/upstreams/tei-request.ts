/**
 * Request bodies of TEI's /embed and OpenAI-compatible /v1/embeddings, read the way TEI's serde
 * types read them (router/src/http/types.rs), and TEI's error kinds.
 *
 * `Input` is serde's untagged `Single(InputType) | Batch(Vec<InputType>)` with
 * `InputType = String | Ids(Vec<u32>)`, tried in that order. Hence `[101, 2023]` is ONE item of
 * token ids, and `[]` is one EMPTY item of ids (TEI answers 400 Empty for it, from the item, not
 * from the batch check). Unknown fields are ignored, as serde does without deny_unknown_fields.
 */

// TEI's error kinds and their one wire shape live with the simulator (sim/tei-error.ts), shared by every stand-in upstream.
export { TEI_ERROR_STATUS, TeiError, teiErrorBody, type ErrorType as TeiErrorKind } from '../../sim/tei-error.js';

/**
 * An error of the HTTP layer (axum's Json extractor), which TEI answers as plain text:
 * 415 without a JSON content type, 413 over the payload limit, 400 for malformed JSON,
 * 422 for JSON of the wrong shape.
 */
export class BodyRejection extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'BodyRejection';
  }
}

/** One item: a text, or token ids of the model's vocabulary. */
export type TeiInputItem = string | number[];

export interface TeiInput {
  readonly items: TeiInputItem[];
  /** `Single` in TEI: no batch-size or empty-batch check applies. */
  readonly single: boolean;
}

export type TruncationDirection = 'left' | 'right';

export interface EmbedRequest extends TeiInput {
  /** null: the server's auto_truncate. */
  readonly truncate: boolean | null;
  readonly truncationDirection: TruncationDirection;
  readonly promptName: string | null;
  readonly normalize: boolean;
  readonly dimensions: number | null;
}

export interface OpenAIEmbedRequest extends TeiInput {
  readonly encodingFormat: 'float' | 'base64';
  readonly dimensions: number | null;
}

const U32_MAX = 0xffff_ffff;

function shapeError(message: string): BodyRejection {
  return new BodyRejection(422, `Failed to deserialize the JSON body into the target type: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

function isIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isU32);
}

/** Reads TEI's `Input`; `field` is the JSON field name, for messages. */
export function parseInput(value: unknown, field: string): TeiInput {
  if (typeof value === 'string') return { items: [value], single: true };
  if (isIds(value)) return { items: [value], single: true };
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || isIds(item))) {
    return { items: value as TeiInputItem[], single: false };
  }
  if (value === undefined) throw shapeError(`missing field \`${field}\``);
  throw shapeError(`${field}: data did not match any variant of untagged enum Input`);
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw shapeError(`${field}: invalid type, expected a boolean`);
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw shapeError(`${field}: invalid type, expected a string`);
  return value;
}

function optionalUsize(body: Record<string, unknown>, field: string): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw shapeError(`${field}: invalid value, expected usize`);
  }
  return value;
}

function truncationDirection(body: Record<string, unknown>): TruncationDirection {
  const value = body['truncation_direction'];
  if (value === undefined) return 'right';
  if (value === 'Right' || value === 'right') return 'right';
  if (value === 'Left' || value === 'left') return 'left';
  throw shapeError('truncation_direction: unknown variant, expected `Left` or `Right`');
}

/** POST /embed (and / and /invocations on an embedding model). */
export function parseEmbedRequest(body: unknown): EmbedRequest {
  if (!isObject(body)) throw shapeError('invalid type, expected struct EmbedRequest');
  const normalize = body['normalize'];
  if (normalize !== undefined && typeof normalize !== 'boolean') {
    throw shapeError('normalize: invalid type, expected a boolean');
  }
  return {
    ...parseInput(body['inputs'], 'inputs'),
    truncate: optionalBoolean(body, 'truncate'),
    truncationDirection: truncationDirection(body),
    promptName: optionalString(body, 'prompt_name'),
    normalize: normalize ?? true,
    dimensions: optionalUsize(body, 'dimensions'),
  };
}

/** POST /v1/embeddings and /embeddings. `model` and `user` are read but ignored, as in TEI. */
export function parseOpenAIEmbedRequest(body: unknown): OpenAIEmbedRequest {
  if (!isObject(body)) throw shapeError('invalid type, expected struct OpenAICompatRequest');
  optionalString(body, 'model');
  optionalString(body, 'user');
  const format = body['encoding_format'];
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    throw shapeError('encoding_format: unknown variant, expected `float` or `base64`');
  }
  return {
    ...parseInput(body['input'], 'input'),
    encodingFormat: format ?? 'float',
    dimensions: optionalUsize(body, 'dimensions'),
  };
}
