/**
 * Reads an `application/x-www-form-urlencoded` body (the console's forms), bounded: the JSON
 * body reader leaves other media types unread, and a console form is a few hundred bytes.
 */
import type { Context } from 'koa';

/** Largest form body read, in bytes. */
export const FORM_LIMIT_BYTES = 8_192;

/** The fields of a form post, or null when the body is not a form or is too large. */
export async function readForm(ctx: Context): Promise<URLSearchParams | null> {
  if (ctx.request.type !== 'application/x-www-form-urlencoded') return null;
  const declared = ctx.request.length;
  if (declared !== undefined && declared > FORM_LIMIT_BYTES) return null;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > FORM_LIMIT_BYTES) {
      ctx.set('connection', 'close');
      return null;
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
