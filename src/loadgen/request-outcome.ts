// The result of one request as the load loops record it.

/** Error kinds besides HTTP status codes (which are recorded as their number, e.g. "429"). */
export const ERROR_NETWORK = 'network';
export const ERROR_TIMEOUT = 'timeout';
export const ERROR_WRONG_ANSWER = 'wrong answer';
/** Open loop only: the request was due while the outstanding cap was reached, so never sent. */
export const ERROR_DROPPED = 'dropped';

export type RequestOutcome =
  | {
      readonly ok: true;
      /** Upstream batch sizes from x-autobatch-batch-size; undefined when the header is absent. */
      readonly batchSizes: readonly number[] | undefined;
    }
  | {
      readonly ok: false;
      /** An HTTP status ("503") or one of the ERROR_* kinds. */
      readonly error: string;
      /** What went wrong, for the report's samples (an error body, a message). */
      readonly detail: string;
    };
