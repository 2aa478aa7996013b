import type { ErrorType } from '../routes/errors.js';

/**
 * Why a call, or a client's part of it, failed. An upstream failure is handed to the client as
 * the upstream wrote it (status and body); a proxy failure is written in the route's error shape.
 */
export type CallFailure =
  | {
      kind: 'upstream';
      status: number;
      contentType: string | undefined;
      retryAfter: string | undefined;
      body: Buffer;
    }
  | { kind: 'proxy'; status: number; errorType: ErrorType; message: string };

export function proxyFailure(status: number, errorType: ErrorType, message: string): CallFailure {
  return { kind: 'proxy', status, errorType, message };
}
