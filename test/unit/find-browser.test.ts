import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserNotFoundError, findBrowser } from '../support/find-browser.js';

describe('findBrowser', () => {
  let root: string;
  const dir = (name: string) => {
    const d = path.join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const executable = (d: string, name: string, mode = 0o755) => {
    const file = path.join(d, name);
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, mode);
    return file;
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'kallisti-browser-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes CHROMIUM_PATH first, before anything on PATH', () => {
    const bin = dir('bin');
    executable(bin, 'chromium');
    const custom = executable(dir('opt'), 'my-chrome');
    expect(findBrowser({ env: { CHROMIUM_PATH: custom, PATH: bin } })).toBe(custom);
  });

  it('refuses a CHROMIUM_PATH that is not an executable file, naming it, without falling back to PATH', () => {
    const bin = dir('bin');
    executable(bin, 'chromium');
    const notExecutable = executable(dir('opt'), 'chrome', 0o644);
    expect(() => findBrowser({ env: { CHROMIUM_PATH: notExecutable, PATH: bin } })).toThrow(`CHROMIUM_PATH=${notExecutable} (not an executable file)`);
    expect(() => findBrowser({ env: { CHROMIUM_PATH: path.join(root, 'missing'), PATH: bin } })).toThrow(BrowserNotFoundError);
  });

  it('looks for chromium, then chromium-browser, then google-chrome, each across the whole PATH', () => {
    const first = dir('first');
    const second = dir('second');
    const chrome = executable(first, 'google-chrome');
    expect(findBrowser({ env: { PATH: [first, second].join(path.delimiter) } })).toBe(chrome);
    const chromiumBrowser = executable(second, 'chromium-browser');
    expect(findBrowser({ env: { PATH: [first, second].join(path.delimiter) } })).toBe(chromiumBrowser);
    const chromium = executable(second, 'chromium');
    expect(findBrowser({ env: { PATH: [first, second].join(path.delimiter) } })).toBe(chromium);
  });

  it('takes the first PATH directory holding a name', () => {
    const a = dir('a');
    const b = dir('b');
    executable(b, 'chromium');
    const inA = executable(a, 'chromium');
    expect(findBrowser({ env: { PATH: [a, b].join(path.delimiter) } })).toBe(inA);
  });

  it('skips directories and files without the execute bit', () => {
    const bin = dir('bin');
    mkdirSync(path.join(bin, 'chromium'));
    executable(bin, 'chromium-browser', 0o644);
    const chrome = executable(bin, 'google-chrome');
    expect(findBrowser({ env: { PATH: bin } })).toBe(chrome);
  });

  it('names everything it tried when nothing is found', () => {
    const bin = dir('bin');
    let error: unknown;
    try {
      findBrowser({ env: { PATH: bin } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BrowserNotFoundError);
    const { tried, message } = error as BrowserNotFoundError;
    expect(tried).toEqual(['CHROMIUM_PATH (not set)', `chromium on PATH (${bin})`, `chromium-browser on PATH (${bin})`, `google-chrome on PATH (${bin})`]);
    for (const entry of tried) expect(message).toContain(entry);
    expect(() => findBrowser({ env: {} })).toThrow('chromium on PATH (PATH is empty)');
  });
});
