/**
 * What the proxy must know about a batchable route: how to take a client's body apart into
 * inputs, how to write a call carrying many clients' inputs, how to cut the upstream's answer
 * into one piece per input, and how to give each client its own answer back. Everything
 * route-specific lives behind this interface, one file per route family, so adding a route is
 * adding a rule.
 */

export type { ErrorStyle, ErrorType, RuleError } from './errors.js';
import type { ErrorStyle, RuleError } from './errors.js';
import type { InputText } from './input-text.js';

export type { InputText } from './input-text.js';

/**
 * A call's body: one string, or pieces to be sent one after the other (the inputs held as the
 * clients' own bytes among the strings around them), never joined into one copy.
 */
export type CallBody = string | readonly InputText[];

/** The upstream's object cut around the list and the counts: pieces[0] hole pieces[1] hole ... */
export interface AnswerFrame {
  readonly pieces: readonly Uint8Array[];
  /** 'list', or the position in ObjectAnswerShape.counts (object-answer.ts) of the count that goes there. */
  readonly holes: readonly ('list' | number)[];
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

/**
 * What a list-shaped rule reads from its input field (list-rule.ts): defined here, beside the
 * other shapes a rule deals in, so that the readers of inputs (tei-input.ts) and the rule that
 * uses them need not import each other.
 */
export interface ReadInputs {
  /** JSON text of each input. */
  items: string[];
  /** Some input is empty: the request is sent alone (see ParsedRequest.solo). */
  hasEmptyItem: boolean;
  /** The client's answer from its elements; default: the list of them. */
  assemble?: (answers: readonly ItemAnswer[]) => Buffer;
}

export interface BatchRule {
  /** The POST path this rule batches. */
  readonly path: string;
  readonly errorStyle: ErrorStyle;
  parse(body: unknown): ParsedRequest | RuleError;
  /** The body of one call carrying `items` with `params`. */
  encodeCall(params: string, items: readonly InputText[]): CallBody;
  /**
   * Cuts a successful upstream answer into one answer per input, or undefined when it does not
   * have one element per input (the call then fails; nothing is handed out by position).
   */
  splitAnswer(body: Buffer, items: readonly InputText[]): ItemAnswer[] | undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
