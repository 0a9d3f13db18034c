import vm from 'node:vm';

export const DEFAULT_REGEX_TIMEOUT_MS = 100;

export type RegexTestResult = { ok: true; matched: boolean } | { ok: false; error: string };

/**
 * Tests `subject` against a user-supplied pattern with a time bound. Patterns
 * like `^(a+)+$` backtrack catastrophically; V8 cannot interrupt a plain
 * `RegExp.test`, but a `vm` script with `timeout` is terminated by a watchdog,
 * so a hostile pattern costs at most `timeoutMs` instead of hanging the worker.
 */
export function testRegex(pattern: string, subject: string, timeoutMs: number = DEFAULT_REGEX_TIMEOUT_MS): RegexTestResult {
  try {
    const matched: unknown = vm.runInNewContext('new RegExp(p).test(s)', { p: pattern, s: subject }, { timeout: timeoutMs });
    return { ok: true, matched: matched === true };
  } catch (error) {
    // Errors thrown inside the context come from another realm: `instanceof Error` is false there.
    const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
    if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      return { ok: false, error: `regex /${pattern}/ took longer than ${timeoutMs} ms and was abandoned` };
    }
    if (name === 'SyntaxError') return { ok: false, error: `invalid regex: ${String(message)}` };
    return { ok: false, error: `regex /${pattern}/ could not run: ${String(message ?? error)}` };
  }
}
