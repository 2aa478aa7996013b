/**
 * TEI's error responses (router/src/lib.rs ErrorType/ErrorResponse, core/src/lib.rs
 * TextEmbeddingsError). On the wire the kind is the Rust variant name (serde's default for a
 * unit variant), so PascalCase: `{"error":"...","error_type":"Validation"}`.
 */

export type ErrorType = 'Unhealthy' | 'Backend' | 'Overloaded' | 'Validation' | 'Tokenizer' | 'Empty';

const STATUS: Record<ErrorType, number> = {
  Unhealthy: 503,
  Backend: 424,
  Overloaded: 429,
  Tokenizer: 422,
  Validation: 422,
  Empty: 400,
};

export class TeiError {
  constructor(
    readonly type: ErrorType,
    readonly message: string,
  ) {}

  get status(): number {
    return STATUS[this.type];
  }

  /** `{"error","error_type"}` as the native routes answer. */
  toJson(): string {
    return JSON.stringify({ error: this.message, error_type: this.type });
  }

  /** `{"message","code","type"}` as the OpenAI-compatible route answers. */
  toOpenAiJson(): string {
    return JSON.stringify({ message: this.message, code: this.status, type: this.type });
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
