/** Errors the HTTP layer answers with: a closed list of codes, each with one status (http-status.ts). */
import { KeywardError } from '../../lib/errors/keyward-error.js';
import type { LifecycleRefusalCode } from '../../lib/lifecycle/outcome.js';
import type { CaseRefusalCode } from '../../lib/abuse/decide-case.js';
import type { RequestRefusal } from '../../lib/service/license-service.js';

/** Codes of request-level errors (lifecycle refusals have their own list). */
export type ApiErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHORIZED'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RECIPIENT_REQUIRED'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INVALID_SIGNATURE'
  | 'STRIPE_NOT_CONFIGURED'
  | 'INTERNAL';

/** Any code that can reach a client as an error. */
export type AnswerCode =
  | ApiErrorCode
  | LifecycleRefusalCode
  | RequestRefusal['code']
  | CaseRefusalCode
  | 'REPORT_NOT_READY'
  | 'DUPLICATE_KEY'
  | 'CONCURRENT_UPDATE'
  | 'DATASTORE_UNAVAILABLE';

/** An error whose code and message may be shown to the client (Koa's `expose`). */
export class ApiError extends KeywardError<Record<string, unknown>> {
  override readonly name = 'ApiError' as const;
  /** Safe to show: the message and details were written for the client. */
  readonly expose = true;
  readonly apiCode: AnswerCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: AnswerCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(code, message, { context: details });
    this.apiCode = code;
    this.headers = headers;
  }
}
