/**
 * Request bodies and query strings checked against a zod schema; a bad one is INVALID_REQUEST
 * listing each problem.
 */
import type { Context } from 'koa';
import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { isJsonType, mediaTypeOf } from './json-body.js';

/** A value as the schema's output, or throws ApiError INVALID_REQUEST with `details.issues`. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, whole: string): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || whole, message: issue.message }));
  const first = issues[0];
  throw new ApiError('INVALID_REQUEST', first ? `${first.path}: ${first.message}` : 'The request is invalid.', { issues });
}

/**
 * Throws UNSUPPORTED_MEDIA_TYPE unless the request declares no body type or a JSON one: the
 * body reader reads JSON only, and any other type would silently read as `{}`.
 */
export function requireJson(ctx: Context): void {
  const type = mediaTypeOf(ctx.get('content-type'));
  if (type !== '' && !isJsonType(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
}

/**
 * The request body (read by jsonBody) as the schema's output, or throws ApiError
 * INVALID_REQUEST with `details.issues` (UNSUPPORTED_MEDIA_TYPE for a body that is not JSON).
 */
export function parseBody<Schema extends z.ZodType>(schema: Schema, ctx: Context): z.output<Schema> {
  requireJson(ctx);
  const body = (ctx.request as { body?: unknown }).body;
  return parseInput(schema, body ?? {}, '(body)');
}

/**
 * The query string as the schema's output (values arrive as strings, or arrays when a name is
 * repeated), or throws ApiError INVALID_REQUEST with `details.issues`.
 */
export function parseQuery<Schema extends z.ZodType>(schema: Schema, ctx: Context): z.output<Schema> {
  return parseInput(schema, { ...ctx.query }, '(query)');
}
