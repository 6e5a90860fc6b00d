/**
 * Reads JSON request bodies, bounded. Small on purpose: @koa/bodyparser (co-body, raw-body,
 * iconv) was tried first and cost a quarter of the validate route's CPU under load; this reads
 * the stream with plain listeners and refuses a body over the limit as soon as it knows.
 * Non-JSON bodies are left unread for the route to refuse (415, in parseBody).
 */
import type { Middleware } from 'koa';
import { ApiError } from './api-error.js';

/** Options for {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes; larger ones get 413 PAYLOAD_TOO_LARGE. Required. */
  readonly limitBytes: number;
}

/** Whether a media type (without parameters, lower case) is JSON: `application/json` or `…+json`. */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * The media type of a Content-Type header, without parameters, in lower case (media types are
 * case-insensitive, RFC 9110 §8.3.1); `''` when there is none. The one reading of the header for
 * the validate fast path and for Koa.
 */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Whether a Content-Type header declares a JSON body, in any letter case. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return isJsonType(mediaTypeOf(contentType));
}

/** Koa middleware: puts the parsed JSON body on `ctx.request.body` for POST, PUT and PATCH. */
export function jsonBody(options: JsonBodyOptions): Middleware {
  const { limitBytes } = options;
  return async (ctx, next) => {
    const method = ctx.method;
    if ((method !== 'POST' && method !== 'PUT' && method !== 'PATCH') || !isJsonContentType(ctx.get('content-type'))) return next();
    const declared = ctx.request.length;
    if (declared !== undefined && declared > limitBytes) {
      throw new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { limitBytes });
    }
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const request = ctx.req;
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > limitBytes) {
          cleanup();
          // Stop reading; the connection is closed after the answer.
          request.pause();
          ctx.set('connection', 'close');
          reject(new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { limitBytes }));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        request.off('data', onData);
        request.off('end', onEnd);
        request.off('error', onError);
      };
      request.on('data', onData);
      request.on('end', onEnd);
      request.on('error', onError);
    });
    if (text.length === 0) {
      (ctx.request as { body?: unknown }).body = undefined;
    } else {
      try {
        (ctx.request as { body?: unknown }).body = JSON.parse(text);
      } catch {
        throw new ApiError('INVALID_JSON', 'The request body is not valid JSON.');
      }
    }
    return next();
  };
}
