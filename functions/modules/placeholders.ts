const PLACEHOLDER = /\{\{\s*[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*\s*\}\}/;

/** Whether a `where` value still holds a `{{ name }}` template (filled in only when a trial runs). */
export function holdsPlaceholder(value: unknown): boolean {
  return typeof value === 'string' && PLACEHOLDER.test(value);
}
