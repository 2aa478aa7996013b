/**
 * What the proxy must know about a batchable route: how to take a client's body apart into
 * inputs, how to write a call carrying many clients' inputs, how to cut the upstream's answer
 * into one piece per input, and how to give each client its own answer back. Everything
 * route-specific lives behind this interface, one file per route family, so adding a route is
 * adding a rule.
 */
import type { AnswerFrame } from './object-answer.js';

/** TEI's error kinds, as they appear on the wire. */
export type ErrorType = 'Validation' | 'Empty' | 'Overloaded' | 'Backend' | 'Unhealthy' | 'Tokenizer';

/** How a route's errors are written: TEI's `{error, error_type}` or OpenAI's `{message, code, type}`. */
export type ErrorStyle = 'tei' | 'openai';

export interface RuleError {
  readonly status: number;
  readonly errorType: ErrorType;
  readonly message: string;
}

/** The upstream's answer for one input, cut out of a merged answer. */
export interface ItemAnswer {
  /** The upstream's bytes for this element (with an index field: the element up to its index value). */
  readonly bytes: Uint8Array;
  /** Object answers with an index field (OpenAI's `index`): the element after its index value. */
  readonly tail?: Uint8Array;
  /** Object answers: the call's answer around the list (see object-answer.ts). */
  readonly frame?: AnswerFrame;
  /** Object answers: this input's share of each of the call's counts (e.g. prompt tokens). */
  readonly counts?: readonly number[];
}

export interface ParsedRequest {
  /** The JSON text of each input, exactly as it will appear in a call body. */
  readonly items: string[];
  /**
   * The other fields as canonical JSON members (keys sorted, no braces; '' when none). Equal
   * text means equal semantics, so it is both the batch key and what the call sends.
   */
  readonly params: string;
  /**
   * True when the request is known to fail upstream (an empty input inside a list): it is sent
   * alone, so the client gets exactly the upstream's own error for it, and it never fails a
   * call shared with others.
   */
  readonly solo: boolean;
  /** Writes this client's answer from the answers to its inputs, in order. */
  assemble(answers: readonly ItemAnswer[]): Buffer;
}

export interface BatchRule {
  /** The POST path this rule batches. */
  readonly path: string;
  readonly errorStyle: ErrorStyle;
  parse(body: unknown): ParsedRequest | RuleError;
  /** The body of one call carrying `items` with `params`. */
  encodeCall(params: string, items: readonly string[]): string;
  /**
   * Cuts a successful upstream answer into one answer per input, or undefined when it does not
   * have one element per input (the call then fails; nothing is handed out by position).
   */
  splitAnswer(body: Buffer, items: readonly string[]): ItemAnswer[] | undefined;
}

export function isRuleError(value: ParsedRequest | RuleError): value is RuleError {
  return 'status' in value;
}

export function validationError(message: string): RuleError {
  return { status: 422, errorType: 'Validation', message };
}

export function emptyError(message: string): RuleError {
  return { status: 400, errorType: 'Empty', message };
}

/**
 * TEI's error for an empty input found while tokenizing (after the request was read): its
 * message carries the "Input validation error: " prefix of TextEmbeddingsError, unlike the
 * check for an empty batch, which the HTTP handler makes before tokenizing.
 */
export function emptyInputError(what: '`inputs`' | '`input_ids`'): RuleError {
  return emptyError(`Input validation error: ${what} cannot be empty`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
