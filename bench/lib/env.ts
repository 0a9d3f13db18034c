import { cpus, loadavg, totalmem } from 'node:os';
import type { AppLogger } from '../../functions/logging.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGB: number;
  node: string;
  platform: string;
  arch: string;
  /** 1-minute load average when the run started: a busy machine makes every absolute figure slower. */
  loadAverageAtStart: number;
  date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    totalMemoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    date: new Date().toISOString(),
  };
}

/**
 * A logger that prints nothing (the benchmarks would otherwise time log output) but
 * keeps warnings and errors, so a run that hit one can say so instead of passing quietly.
 */
export class QuietLogger implements AppLogger {
  readonly problems: string[] = [];
  info(): void {}
  warn(message: string, extra?: object): void {
    this.problems.push(`WARN ${message} ${JSON.stringify(extra ?? {})}`);
  }
  error(message: string, extra?: object): void {
    this.problems.push(`ERROR ${message} ${JSON.stringify(extra ?? {})}`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The SDK warns on Node 20 at the first client; the deployed runtime is Node 22, so the warning is noise here. */
export function quietSdkNodeWarning(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
}
