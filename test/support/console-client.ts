/**
 * A cookie-keeping HTTP client for the review console, as a browser without scripts would use it:
 * GET pages, read the CSRF token from a form, POST forms (url-encoded), never follow redirects
 * (tests look at them).
 */

/** One answer. */
export interface ConsoleAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** `Set-Cookie` lines of the answer. */
  readonly cookies: readonly string[];
}

/** A client with its own cookie jar. */
export interface ConsoleClient {
  get(path: string, headers?: Record<string, string>): Promise<ConsoleAnswer>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<ConsoleAnswer>;
  /** Signs in with an admin token through the sign-in form; answers the POST's answer. */
  signIn(token: string, headers?: Record<string, string>): Promise<ConsoleAnswer>;
  /** The cookies held, by name. */
  readonly jar: Map<string, string>;
}

/** The value of the first `csrf` hidden field in a page. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no csrf field on the page');
  return match[1];
}

/** A client for the console at `baseUrl`. */
export function consoleClient(baseUrl: string): ConsoleClient {
  const jar = new Map<string, string>();
  const send = async (method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<ConsoleAnswer> => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(cookie === '' ? {} : { cookie }), ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const cookies = response.headers.getSetCookie();
    for (const line of cookies) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return { status: response.status, headers: response.headers, text: await response.text(), cookies };
  };
  const client: ConsoleClient = {
    jar,
    get: (path, headers = {}) => send('GET', path, undefined, headers),
    post: (path, form, headers = {}) => send('POST', path, new URLSearchParams(form).toString(), headers),
    async signIn(token, headers = {}) {
      const page = await client.get('/console/sign-in', headers);
      return client.post('/console/sign-in', { csrf: csrfOf(page.text), token, next: '/console' }, headers);
    },
  };
  return client;
}
