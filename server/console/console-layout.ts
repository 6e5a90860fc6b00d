/**
 * The console's page frame and style sheet. Pages are server-rendered HTML with no script at all
 * (forms and links do everything), so the content security policy forbids scripts outright; the
 * style sheet is served from `/console/console.css` (`style-src 'self'`), never inline.
 */
import { escapeHtml } from '../../lib/abuse/escape-html.js';
import { REPORT_STYLE } from '../../lib/abuse/report-html.js';
import type { ConsoleUser } from './console-auth.js';

/** Escapes text for HTML. */
export const h = (value: string | number): string => escapeHtml(String(value));

/** The policy of every console answer. */
export const CONSOLE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The console's style sheet: readable at 390 px (tables turn into stacked rows) and at 1280 px. */
export const CONSOLE_CSS = `*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
a{color:#0b57a4}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f2b600;outline-offset:1px}
header.top{background:#16324f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header.top a{color:#fff}header.top nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0;flex-wrap:wrap}
header.top .who{margin-left:auto;display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}
header.top button{background:transparent;color:#fff;border:1px solid #fff;border-radius:4px;padding:.2rem .6rem;font:inherit;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.45rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #d0d0d0}h3{font-size:1rem;margin:1rem 0 .25rem}
table{border-collapse:collapse;width:100%;background:#fff;table-layout:fixed}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5}
.muted{color:#555}.num{text-align:right}
.notice{background:#e6f4ea;border:1px solid #2e7d32;padding:.6rem .8rem;border-radius:4px}
.error{background:#fdecea;border:1px solid #b3261e;padding:.6rem .8rem;border-radius:4px}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;background:#e8eaed;font-size:.85rem}
.badge.open{background:#fff4d6}.badge.actioned{background:#fde2e1}.badge.dismissed{background:#e6f4ea}
.badge.active{background:#e6f4ea}.badge.suspended{background:#fff4d6}.badge.revoked{background:#fde2e1}
.badge.enabled{background:#e6f4ea}.badge.disabled{background:#fde2e1}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:1rem}
form.filters label,form.decide label,form.signin label{display:flex;flex-direction:column;font-size:.9rem;gap:.2rem}
input,select,textarea,button{font:inherit}input,select,textarea{padding:.35rem .45rem;border:1px solid #767676;border-radius:4px;background:#fff;max-width:100%}
button.primary{background:#0b57a4;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;cursor:pointer}
button.danger{background:#b3261e;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;cursor:pointer}
form.decide{display:grid;gap:.6rem;max-width:640px;background:#fff;border:1px solid #ddd;padding:.8rem;border-radius:6px}
form.decide textarea{width:100%;min-height:4rem}
form.signin{display:grid;gap:.8rem;max-width:480px;background:#fff;border:1px solid #ddd;padding:1rem;border-radius:6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;background:#fff;border:1px solid #ddd;padding:.8rem;border-radius:6px;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.reasons{margin:.25rem 0;padding-left:1.2rem}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere;font-size:.88rem}
svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}
table.queue th:nth-child(1){width:7%}table.queue th:nth-child(2){width:33%}table.queue th:nth-child(3){width:20%}
table.queue th:nth-child(4){width:12%}table.queue th:nth-child(5){width:14%}table.queue th:nth-child(6){width:14%}
table.webhooks th:nth-child(1){width:30%}table.webhooks th:nth-child(2){width:20%}table.webhooks th:nth-child(3){width:28%}
table.webhooks th:nth-child(4){width:12%}table.webhooks th:nth-child(5){width:10%}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.3rem;z-index:2}
@media (max-width:700px){
 table.stack,table.stack thead,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
 table.stack thead{position:absolute;left:-9999px}
 table.stack tr{border:1px solid #ddd;margin-bottom:.6rem;background:#fff}
 table.stack td{border:0;padding:.2rem .5rem}
 table.stack td::before{content:attr(data-label);font-weight:600;display:block;font-size:.8rem;color:#555}
 dl.facts{grid-template-columns:1fr}
 .report table,.report thead,.report tbody,.report tr,.report td{display:block;width:100%}
 .report thead{position:absolute;left:-9999px}
}
${REPORT_STYLE}
.report{padding:0}`;

/** A table whose rows stack into labelled blocks on narrow screens. */
export function stackTable(headers: readonly string[], rows: readonly (readonly string[])[], empty: string, caption?: string, className = ''): string {
  if (rows.length === 0) return `<p class="muted">${h(empty)}</p>`;
  const head = headers.map((header) => `<th scope="col">${h(header)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell, i) => `<td data-label="${h(headers[i] ?? '')}">${cell}</td>`).join('')}</tr>`).join('');
  return `<table class="stack${className === '' ? '' : ` ${h(className)}`}">${caption === undefined ? '' : `<caption class="skip">${h(caption)}</caption>`}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A complete console page. */
export function consolePage(title: string, body: string, user: ConsoleUser | null): string {
  const nav =
    user === null
      ? ''
      : `<nav aria-label="Console"><ul><li><a href="/console">Queue</a></li><li><a href="/console/reports">Reports</a></li><li><a href="/console/webhooks">Webhooks</a></li></ul></nav>` +
        `<div class="who"><span>Signed in as <b>${h(user.tokenName)}</b> (${user.canDecide ? 'can decide' : 'read only'})</span>` +
        `<form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${h(user.csrfToken)}"><button type="submit">Sign out</button></form></div>`;
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${h(title)} · Keyward review console</title><link rel="stylesheet" href="/console/console.css"><link rel="icon" href="data:,"></head>` +
    `<body><a class="skip" href="#main">Skip to content</a><header class="top"><b>Keyward review</b>${nav}</header>` +
    `<main id="main">${body}</main></body></html>\n`
  );
}

/** A badge for a status word. */
export const badge = (word: string): string => `<span class="badge ${h(word)}">${h(word)}</span>`;
