/** The sign-in page: one field for an admin token, posted with its double-submit CSRF token. */
import { consolePage, h } from './console-layout.js';

/** The sign-in page, with an optional refusal. */
export function renderSignInPage(csrfToken: string, problem: string | null, next: string): string {
  return consolePage(
    'Sign in',
    `<h1>Sign in to the review console</h1>` +
      (problem === null ? '' : `<p class="error" role="alert">${h(problem)}</p>`) +
      `<form class="signin" method="post" action="/console/sign-in">` +
      `<input type="hidden" name="csrf" value="${h(csrfToken)}"><input type="hidden" name="next" value="${h(next)}">` +
      `<label>Admin token<input type="password" name="token" autocomplete="off" required placeholder="kwa_…"></label>` +
      `<p class="muted">A read token can look at cases; a write token can also decide them. The token is checked once and never kept: the console keeps a session cookie instead.</p>` +
      `<button class="primary" type="submit">Sign in</button></form>`,
    null,
  );
}
