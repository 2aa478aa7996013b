/** The proxy's own errors, written the way the route's clients expect TEI to write them. */
import type { ErrorStyle, ErrorType } from '../routes/errors.js';

export function errorBody(style: ErrorStyle, status: number, errorType: ErrorType, message: string): string {
  return style === 'openai' ? JSON.stringify({ message, code: status, type: errorType }) : JSON.stringify({ error: message, error_type: errorType });
}
