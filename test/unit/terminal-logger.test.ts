import { createTerminalLogger, parseLevel } from '../../functions/local/terminal-logger.js';

const at = new Date('2026-12-02T05:40:01.234Z');

function capture(level: Parameters<typeof parseLevel>[0]) {
  const lines: [string, string][] = [];
  const log = createTerminalLogger({ level: parseLevel(level), now: () => at, write: (line, lvl) => lines.push([lvl, line]) });
  return { log, lines };
}

describe('terminal logger', () => {
  it('prints one readable line per event: time, level, message, then key=value fields', () => {
    const { log, lines } = capture('INFO');
    log.info('Trial finished', { trialId: 't-1', status: 'Succeeded', durationMs: 1200, skipped: undefined });
    log.warn('Something odd', { detail: 'two words', nested: { a: 1 } });
    log.error('Broken', { error: new Error('boom') });
    expect(lines).toEqual([
      ['INFO', '05:40:01.234 INFO  Trial finished trialId=t-1 status=Succeeded durationMs=1200'],
      ['WARN', '05:40:01.234 WARN  Something odd detail="two words" nested={"a":1}'],
      ['ERROR', '05:40:01.234 ERROR Broken error="boom"'],
    ]);
  });

  it('LOG_LEVEL=WARN keeps warnings and errors only; SILENT prints nothing', () => {
    const warn = capture('warn');
    warn.log.info('request');
    warn.log.warn('careful');
    warn.log.error('failed');
    expect(warn.lines.map(([level]) => level)).toEqual(['WARN', 'ERROR']);
    const silent = capture('SILENT');
    silent.log.error('failed');
    expect(silent.lines).toEqual([]);
  });

  it('refuses an unknown level, naming the accepted ones', () => {
    expect(() => parseLevel('LOUD')).toThrow('LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, got "LOUD"');
  });
});
