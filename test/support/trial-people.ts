/**
 * People who start trials, for trial-cycling tests: distinct mailbox names, the ways one Gmail
 * mailbox is written (dots, +tags, googlemail.com, upper case, all delivered to one inbox), and
 * a seeded shuffle so that a failing order replays.
 */
import fc from 'fast-check';

/** Eleven distinct lower-case names, each the start of a mailbox. */
export const personNames = fc.uniqueArray(fc.stringMatching(/^[a-z]{3,10}$/), { minLength: 11, maxLength: 11 });

/** How one Gmail address is varied: dots after some letters, a +tag, either domain, any case. */
export const gmailVariation = fc.record({
  dots: fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 3 }),
  tag: fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined }),
  domain: fc.constantFrom('gmail.com', 'googlemail.com', 'GMail.com'),
  upper: fc.boolean(),
});

/** One {@link gmailVariation}. */
export type GmailVariation = typeof gmailVariation extends fc.Arbitrary<infer T> ? T : never;

/** A variant that Gmail delivers to `name@gmail.com`. */
export function gmailVariant(name: string, { dots, tag, domain, upper }: GmailVariation): string {
  let local = '';
  for (const [i, char] of [...name].entries()) local += (dots.includes(i) ? '.' : '') + char;
  const address = `${local}${tag === undefined ? '' : `+${tag}`}@${domain}`;
  return upper ? address.toUpperCase() : address;
}

/** Where students' own mailboxes are. */
export const STUDENT_DOMAINS = ['student.uni-example.edu', 'gmail.com', 'outlook.com', 'proton.me'] as const;

/** A deterministic shuffle (Fisher-Yates with a small LCG), so a failing seed replays. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
