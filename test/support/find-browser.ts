import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Names looked up on PATH, in this order, when CHROMIUM_PATH is not set. */
export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome'] as const;

export interface BrowserLookup {
  env: NodeJS.ProcessEnv;
  /** Whether a path is an executable file; the real file system by default. */
  isExecutable?: (file: string) => boolean;
}

export class BrowserNotFoundError extends Error {
  constructor(readonly tried: string[]) {
    super(`No Chromium-compatible browser found. Tried: ${tried.join(', ')}. Install one (e.g. apt-get install -y chromium) or set CHROMIUM_PATH to its executable.`);
    this.name = 'BrowserNotFoundError';
  }
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser the end-to-end tests drive: CHROMIUM_PATH when set (and then only that:
 * a wrong explicit setting is an error, not a reason to pick another browser), else the
 * first of chromium, chromium-browser, google-chrome found on PATH.
 */
export function findBrowser({ env, isExecutable = isExecutableFile }: BrowserLookup): string {
  const explicit = env['CHROMIUM_PATH'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutable(explicit)) return explicit;
    throw new BrowserNotFoundError([`CHROMIUM_PATH=${explicit} (not an executable file)`]);
  }
  const dirs = (env['PATH'] ?? '').split(path.delimiter).filter((dir) => dir !== '');
  const tried = ['CHROMIUM_PATH (not set)'];
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
    tried.push(`${name} on PATH (${dirs.length === 0 ? 'PATH is empty' : dirs.join(path.delimiter)})`);
  }
  throw new BrowserNotFoundError(tried);
}
