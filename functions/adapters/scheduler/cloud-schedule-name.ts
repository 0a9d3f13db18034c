/**
 * Cloud schedule names: 1–64 of [0-9a-zA-Z-_.]. Generation g ≥ 1 of schedule
 * <id> is `<id>-g<g>-<index>` (a UUID, the generation and the index: at most 50
 * characters); `<id>-<index>` is what schedules armed before generations
 * existed are called, read as generation 0.
 */
export function cloudScheduleName(scheduleId: string, generation: number, index: number): string {
  return generation === 0 ? `${scheduleId}-${index}` : `${scheduleId}-g${generation}-${index}`;
}

const CURRENT = /^(.+)-g(\d{1,10})-(\d)$/;
const LEGACY = /^(.+)-(\d)$/;

/** The schedule id and generation a cloud schedule name stands for; empty for a name Kallisti did not make. */
export function parseCloudScheduleName(name: string): { scheduleId?: string; generation?: number } {
  const current = CURRENT.exec(name);
  if (current) return { scheduleId: current[1] as string, generation: Number(current[2]) };
  const legacy = LEGACY.exec(name);
  if (legacy) return { scheduleId: legacy[1] as string, generation: 0 };
  return {};
}

/**
 * The name in a schedule ARN (`arn:…:schedule/<group>/<name>`) when it is in
 * `groupName`; a plain name is returned as is; an ARN of another group gives
 * undefined, so nothing outside Kallisti's group is ever touched.
 */
export function nameFromArn(nameOrArn: string, groupName: string): string | undefined {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const match = /:schedule\/([^/]+)\/([^/]+)$/.exec(nameOrArn);
  if (!match || match[1] !== groupName) return undefined;
  return match[2];
}
