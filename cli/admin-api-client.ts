/**
 * The CLI's client of the admin API: one request per call, `Authorization: Bearer <token>`,
 * JSON in and out. An API refusal comes back as data (`{ ok: false, status, error }`) for the
 * command to print; an unreachable server is an {@link AdminApiUnreachable} fault naming the URL.
 */
import { KeywardError } from '../lib/errors/keyward-error.js';

/** Options for {@link AdminApiClient}. */
export interface AdminApiClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. Required. */
  readonly url: string;
  /** An admin token, `kwa_…`. Required. */
  readonly token: string;
  /** Longest wait for one answer, in ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** The fetch to use. Default the global one. */
  readonly fetch?: typeof fetch;
}

/** The error body every admin route answers with. */
export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** An answer: the parsed JSON (or text) of a 2xx, or the API's error. */
export type ApiAnswer<T = unknown> =
  | { readonly ok: true; readonly status: number; readonly body: T; readonly text: string; readonly contentType: string }
  | { readonly ok: false; readonly status: number; readonly error: ApiErrorBody };

/** The server could not be reached, or answered something that is not Keyward. */
export class AdminApiUnreachable extends KeywardError<{ readonly url: string }> {
  override readonly name = 'AdminApiUnreachable' as const;
  constructor(url: string, message: string) {
    // The underlying reason is in the message already (the CLI prints a cause after it).
    super('SERVER_UNREACHABLE', message, { context: { url } });
  }
}

/** A query string from defined values only. */
export function queryOf(values: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Admin API calls over HTTP. */
export class AdminApiClient {
  readonly url: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: AdminApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** `GET path`. */
  get<T = unknown>(path: string): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path);
  }

  /** `POST path` with a JSON body (`{}` when none). */
  post<T = unknown>(path: string, body: unknown = {}): Promise<ApiAnswer<T>> {
    return this.request<T>('POST', path, body);
  }

  /** One request. */
  async request<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new AdminApiUnreachable(this.url, `Cannot reach the Keyward server at ${this.url} (${reason}); check --url / KEYWARD_URL and that the server runs.`);
    }
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    const json = contentType.includes('json') ? parseJson(text) : undefined;
    if (response.ok) return { ok: true, status: response.status, body: (json ?? text) as T, text, contentType };
    const error = (json as { error?: ApiErrorBody } | undefined)?.error;
    if (error && typeof error.code === 'string') return { ok: false, status: response.status, error };
    throw new AdminApiUnreachable(this.url, `The server at ${this.url} answered ${response.status} without a Keyward error; is --url / KEYWARD_URL a Keyward server?`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
