/**
 * TEI's error responses (router/src/lib.rs ErrorType/ErrorResponse, core/src/lib.rs
 * TextEmbeddingsError). On the wire the kind is the Rust variant name (serde's default for a
 * unit variant), so PascalCase: `{"error":"...","error_type":"Validation"}`.
 *
 * The one TEI error shape of every stand-in upstream (the simulator, its injected faults, the
 * real-model upstream in bench/upstreams and the tiny TEI of the tests): a TeiError is a value
 * the simulator returns and an Error the real-model upstream throws, and both write it through
 * teiErrorBody, so the two wire shapes cannot drift apart.
 */

export type ErrorType = 'Unhealthy' | 'Backend' | 'Overloaded' | 'Validation' | 'Tokenizer' | 'Empty';

/** router/src/http/server.rs `impl From<&ErrorType> for StatusCode` */
export const TEI_ERROR_STATUS: Readonly<Record<ErrorType, number>> = {
  Unhealthy: 503,
  Backend: 424,
  Overloaded: 429,
  Tokenizer: 422,
  Validation: 422,
  Empty: 400,
};

/**
 * TEI's error body: `{"error","error_type"}` as the native routes answer, or `{"message","code","type"}`
 * as the OpenAI-compatible route does. `status` is the code the OpenAI shape states (the kind's own
 * status unless the answer has another, as an injected 500 does).
 */
export function teiErrorBody(type: ErrorType, message: string, openAi = false, status = TEI_ERROR_STATUS[type]): string {
  return openAi ? JSON.stringify({ message, code: status, type }) : JSON.stringify({ error: message, error_type: type });
}

export class TeiError extends Error {
  override readonly name = 'TeiError';

  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return TEI_ERROR_STATUS[this.type];
  }

  /** `{"error","error_type"}` as the native routes answer. */
  toJson(): string {
    return teiErrorBody(this.type, this.message);
  }

  /** `{"message","code","type"}` as the OpenAI-compatible route answers. */
  toOpenAiJson(): string {
    return teiErrorBody(this.type, this.message, true);
  }
}

// TextEmbeddingsError's Display adds these prefixes; errors the router builds itself have none.

export function validationError(message: string): TeiError {
  return new TeiError('Validation', `Input validation error: ${message}`);
}

export function emptyError(message: string): TeiError {
  return new TeiError('Empty', `Input validation error: ${message}`);
}

export function backendError(message: string): TeiError {
  return new TeiError('Backend', `Backend error: ${message}`);
}

export function overloadedError(): TeiError {
  return new TeiError('Overloaded', 'Model is overloaded');
}

export function batchSizeError(batchSize: number, maxClientBatchSize: number): TeiError {
  return new TeiError('Validation', `batch size ${batchSize} > maximum allowed batch size ${maxClientBatchSize}`);
}
