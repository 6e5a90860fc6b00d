/**
 * Times as people read them in reports and the console: `2 Nov 2026, 05:00 UTC`, always in UTC
 * (a report is read by staff in many zones; one zone, named, is less confusing than local time
 * guessed from a server), and durations such as `3 hours ago`.
 */

const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
});

/** `2 Nov 2026, 05:00 UTC`; an invalid date reads `unknown time`. */
export function formatTime(at: Date): string {
  if (Number.isNaN(at.getTime())) return 'unknown time';
  return `${DATE_TIME.format(at)} UTC`;
}

/** `5 minutes ago`, `3 hours ago`, `2 days ago`, `just now`; `in 4 hours` for a time after `now`. */
export function formatAge(at: Date, now: Date): string {
  const ms = now.getTime() - at.getTime();
  const ahead = ms < 0;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 1) return 'just now';
  const [count, unit] = minutes < 60 ? [minutes, 'minute'] : minutes < 2_880 ? [Math.floor(minutes / 60), 'hour'] : [Math.floor(minutes / 1_440), 'day'];
  const text = `${count} ${unit}${count === 1 ? '' : 's'}`;
  return ahead ? `in ${text}` : `${text} ago`;
}
