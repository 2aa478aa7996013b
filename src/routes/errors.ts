/**
 * Every error a route rule can answer with, in one module: TEI's error kinds and the messages TEI
 * itself writes for a body it cannot read (serde's "Failed to deserialize ..."), an empty request
 * or an empty input. Why one module: the rules, the HTTP handler and the upstream failures all
 * speak TEI's error vocabulary, and each message must match TEI's byte for byte; written once
 * here, a wording can neither drift between routes nor pull one rule's file into another's
 * imports (it used to: list-rule.ts and tei-input.ts imported each other for `notAnObject`).
 */
/** TEI's error kinds, as they appear on the wire. */
export type ErrorType = 'Validation' | 'Empty' | 'Overloaded' | 'Backend' | 'Unhealthy' | 'Tokenizer';

/** How a route's errors are written: TEI's `{error, error_type}` or OpenAI's `{message, code, type}`. */
export type ErrorStyle = 'tei' | 'openai';

/** A request the rule refuses, with the status and wording TEI would answer it with. */
export interface RuleError {
  readonly status: number;
  readonly errorType: ErrorType;
  readonly message: string;
}

/** Tells a refusal from a parse result (a ParsedRequest has no `status`). */
export function isRuleError<T extends object>(value: T | RuleError): value is RuleError {
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

/** A body serde could not read into the route's request type (axum's JSON extractor wording). */
export function deserializeError(detail: string): RuleError {
  return validationError(`Failed to deserialize the JSON body into the target type: ${detail}`);
}

/** A body that is JSON but not an object. */
export function notAnObject(): RuleError {
  return deserializeError('invalid type: expected a JSON object');
}
