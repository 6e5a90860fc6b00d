/**
 * The one layout: turns {@link EmailContent} into the plain-text and HTML bodies. Every value is
 * escaped here, and links are rendered only for http(s) URLs, so content from a customer or a
 * request cannot inject markup or a `javascript:` link.
 */
import type { EmailBlock, EmailContent, EmailInput } from './email-content.js';
import { composeEmail } from './email-templates.js';
import { escapeHtml } from './escape-html.js';

/** An e-mail ready for a mail transport. */
export interface RenderedEmail {
  /** Single line: line breaks are replaced by spaces (no header injection). */
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Whether a URL may be rendered as a link: absolute http or https only. */
export function isSafeLinkUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}

function singleLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').trim();
}

function blockText(block: EmailBlock): string {
  switch (block.type) {
    case 'paragraph':
      return block.text;
    case 'key':
      return `    ${block.key}`;
    case 'facts':
      return block.facts.map(([label, value]) => `${label}: ${value}`).join('\n');
    case 'link':
      return isSafeLinkUrl(block.url) ? `${block.label}: ${block.url}` : '';
  }
}

const FONT = 'font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;';

function blockHtml(block: EmailBlock): string {
  switch (block.type) {
    case 'paragraph':
      return `<p style="${FONT}font-size:15px;line-height:1.5;margin:0 0 16px">${escapeHtml(block.text)}</p>`;
    case 'key':
      return `<p style="font-family:Menlo,Consolas,monospace;font-size:20px;letter-spacing:1px;padding:12px 16px;background:#f4f4f5;border-radius:6px;margin:0 0 16px"><strong>${escapeHtml(block.key)}</strong></p>`;
    case 'facts': {
      const rows = block.facts
        .map(([label, value]) => `<tr><td style="${FONT}color:#71717a;padding:2px 16px 2px 0">${escapeHtml(label)}</td><td style="${FONT}padding:2px 0">${escapeHtml(value)}</td></tr>`)
        .join('');
      return `<table role="presentation" style="border-collapse:collapse;margin:0 0 16px">${rows}</table>`;
    }
    case 'link':
      return isSafeLinkUrl(block.url)
        ? `<p style="${FONT}margin:0 0 16px"><a href="${escapeHtml(block.url)}">${escapeHtml(block.label)}</a></p>`
        : '';
  }
}

/** Lays composed content out as text and HTML. */
export function layoutEmail(content: EmailContent): RenderedEmail {
  const subject = singleLine(content.subject);
  const text = `${content.blocks.map(blockText).filter((part) => part !== '').join('\n\n')}\n`;
  const body = content.blocks.map(blockHtml).join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="margin:0;padding:24px">${body}</body></html>`;
  return { subject, text, html };
}

/** Composes and lays out the e-mail for an input (pure). */
export function renderEmail(input: EmailInput): RenderedEmail {
  return layoutEmail(composeEmail(input));
}
