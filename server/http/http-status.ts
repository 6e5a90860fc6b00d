/**
 * Every code the API answers with, mapped to its HTTP status in one exhaustive switch: adding a
 * code anywhere without a status here is a compile error.
 */
import type { AnswerCode } from './api-error.js';

/** The HTTP status for a code. */
export function httpStatusFor(code: AnswerCode): number {
  switch (code) {
    case 'INVALID_REQUEST':
    case 'INVALID_JSON':
    case 'INVALID_SIGNATURE':
    case 'MALFORMED_KEY':
    case 'RECIPIENT_REQUIRED':
      return 400;
    case 'UNAUTHORIZED':
    case 'TOKEN_EXPIRED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'UNKNOWN_PLAN':
    case 'UNKNOWN_KEY_TYPE':
    case 'INVALID_COMMAND':
    case 'UNKNOWN_ACTIVATION':
    case 'NETWORK_CASE_DISMISS_ONLY':
      return 422;
    // Refusals by the lifecycle: the request was fine, the license's state says no.
    case 'LICENSE_REVOKED':
    case 'LICENSE_EXPIRED':
    case 'LICENSE_SUSPENDED':
    case 'ALREADY_REVOKED':
    case 'ALREADY_EXPIRED':
    case 'ALREADY_SUSPENDED':
    case 'ALREADY_CANCELLED':
    case 'ALREADY_ACTIVATED':
    case 'NOT_SUSPENDED':
    case 'NOT_CANCELLED':
    case 'SUSPENDED_FOR_OTHER_REASON':
    case 'PERIOD_ENDED':
    case 'PERIOD_NOT_EXTENDED':
    case 'NO_PERIOD':
    case 'NOT_DUE':
    case 'NO_PENDING_CHANGE':
    case 'SAME_PLAN':
    case 'ACTIVATION_LIMIT_REACHED':
    case 'DOMAIN_LIMIT_REACHED':
    case 'BINDING_NOT_ALLOWED':
    case 'NOT_ACTIVATED':
    case 'SEATS_EXCEED_PLAN':
    case 'NOT_FLOATING':
    case 'DUPLICATE_KEY':
    case 'CASE_ALREADY_DISMISSED':
    case 'REPORT_NOT_READY':
      return 409;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'SERVICE_UNAVAILABLE':
    case 'STRIPE_NOT_CONFIGURED':
    case 'CONCURRENT_UPDATE':
    case 'DATASTORE_UNAVAILABLE':
      return 503;
    default:
      return assertNever(code);
  }
}

function assertNever(code: never): never {
  throw new TypeError(`No HTTP status for code ${String(code)}`);
}
