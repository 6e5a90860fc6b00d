/**
 * How any failure is answered: `{ error: { code, message, details, requestId } }` with the
 * status of http-status.ts. A message reaches the client only when the error was written for it
 * (ApiError, Keyward errors with a known code); anything else is a 500 with a generic message.
 * Used by the Koa error boundary and by the validate fast path, so both answer alike.
 */
import { KeywardError } from '../../lib/errors/keyward-error.js';
import { ApiError, type AnswerCode } from './api-error.js';
import { httpStatusFor } from './http-status.js';

/** An error, ready to send. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: { code: AnswerCode; message: string; details: Record<string, unknown>; requestId: string | null } };
  /** Whether the error was unexpected (to be logged with its stack). */
  readonly fault: boolean;
}

const SERVICE_CODES = new Set(['CONCURRENT_UPDATE', 'DATASTORE_UNAVAILABLE', 'DUPLICATE_KEY']);

/** The code and exposed message of an http-errors client error (4xx with `expose`), if it is one. */
function codeForClientError(error: unknown): { code: AnswerCode; message: string } | undefined {
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (typeof candidate?.status !== 'number' || candidate.expose !== true || candidate.status < 400 || candidate.status >= 500) return undefined;
  const message = typeof candidate.message === 'string' ? candidate.message : 'The request is invalid.';
  const byStatus: Partial<Record<number, AnswerCode>> = {
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'ROUTE_NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'RATE_LIMITED',
  };
  return { code: byStatus[candidate.status] ?? 'INVALID_REQUEST', message };
}

/** The answer for an error thrown while handling a request. */
export function errorAnswer(error: unknown, requestId: string | null): ErrorAnswer {
  let code: AnswerCode = 'INTERNAL';
  let message = 'Something went wrong on our side.';
  let details: Record<string, unknown> = {};
  let headers: Record<string, string> = {};
  if (error instanceof ApiError) {
    ({ apiCode: code, message } = error);
    details = error.context;
    headers = { ...error.headers };
  } else if (error instanceof KeywardError && SERVICE_CODES.has(error.code)) {
    code = error.code as AnswerCode;
    message = error.message;
    if (code !== 'DUPLICATE_KEY') headers = { 'retry-after': '1' };
  } else {
    // Client errors raised by Koa or a library (http-errors: `status` 4xx, `expose`), e.g. a
    // malformed percent-encoding in the path: answered with a code of the list, not as a fault.
    const clientError = codeForClientError(error);
    if (clientError !== undefined) ({ code, message } = clientError);
  }
  const status = httpStatusFor(code);
  return { status, headers, body: { error: { code, message, details, requestId } }, fault: status >= 500 };
}
