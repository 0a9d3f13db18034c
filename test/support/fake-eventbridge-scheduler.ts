import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { ScheduleFiring } from '../../functions/ports.js';

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

interface Stored {
  definition: CreateScheduleCommandInput;
  groupName: string;
  arn: string;
  creationDate: Date;
  lastModificationDate: Date;
}

type CommandName = 'CreateSchedule' | 'UpdateSchedule' | 'DeleteSchedule' | 'GetSchedule' | 'ListSchedules';

interface Fault {
  command: CommandName;
  error: Error;
  /** The service did the work but the caller never heard (a lost response, a Lambda killed mid-call). */
  applied: boolean;
  /** Calls of the command to let through first. */
  skip: number;
}

const meta = { $metadata: {} };

/**
 * EventBridge Scheduler in memory, following its API reference:
 *
 * - CreateSchedule: ConflictException when the name exists in the group;
 *   ValidationException for a name or group outside 1–64 of [0-9a-zA-Z-_.].
 * - UpdateSchedule: ResourceNotFoundException when missing; replaces every field.
 * - DeleteSchedule, GetSchedule: ResourceNotFoundException when missing.
 * - ListSchedules: filtered by GroupName, NamePrefix and State; MaxResults 1–100
 *   (ValidationException otherwise); an opaque NextToken while more remain;
 *   summaries only (Arn, Name, GroupName, State, CreationDate,
 *   LastModificationDate, Target.Arn), never the definition.
 * - ActionAfterCompletion DELETE with an EndDate: the schedule is deleted once the
 *   EndDate has passed (`advanceTo`); without an EndDate it stays.
 *
 * Every call is counted by command. Faults can be queued per command, before or
 * after the work is done. Firings are made from a schedule's Input with the
 * schedule ARN and scheduled time substituted, as the service does.
 */
export class FakeEventBridgeScheduler {
  readonly schedules = new Map<string, Stored>();
  readonly calls: Record<CommandName, number> = { CreateSchedule: 0, UpdateSchedule: 0, DeleteSchedule: 0, GetSchedule: 0, ListSchedules: 0 };
  private readonly faults: Fault[] = [];
  /** Sorted listings by filter, dropped on every change (paging 100,000 schedules stays linear). */
  private readonly listings = new Map<string, Stored[]>();
  /** Called with each command before it is handled (tests interleave other work here). */
  onCall: ((command: CommandName, input: Record<string, unknown>) => Promise<void> | void) | undefined;

  constructor(private readonly now: () => Date) {}

  /** A client whose `send` this fake answers, for the real adapter. */
  client(): SchedulerClient {
    // The adapter only calls `send`; a whole SchedulerClient (credentials, endpoints, middleware) is not needed.
    return { send: (command: unknown) => this.handle(command) } as unknown as SchedulerClient;
  }

  /**
   * A coming call of `command` fails with `error` (the next one, or the one after
   * `skip` calls that succeed), after doing its work when `applied`.
   */
  failNext(command: CommandName, error: Error = throttled(), options: { applied?: boolean; skip?: number } = {}): void {
    this.faults.push({ command, error, applied: options.applied ?? false, skip: options.skip ?? 0 });
  }

  /** Drops faults not yet triggered. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Names in a group, sorted. */
  names(groupName: string): string[] {
    return [...this.schedules.values()].filter((s) => s.groupName === groupName).map((s) => s.definition.Name as string).sort();
  }

  get(groupName: string, name: string): CreateScheduleCommandInput | undefined {
    return this.schedules.get(`${groupName}/${name}`)?.definition;
  }

  /** The firing the service sends for this schedule at `scheduledTime`, from its Input template. */
  firing(groupName: string, name: string, scheduledTime: Date): ScheduleFiring {
    const stored = this.schedules.get(`${groupName}/${name}`);
    if (!stored) throw new Error(`no schedule ${groupName}/${name}`);
    const input = String(stored.definition.Target?.Input)
      .replaceAll('<aws.scheduler.schedule-arn>', stored.arn)
      .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime.toISOString().replace('.000Z', 'Z'));
    return JSON.parse(input) as ScheduleFiring;
  }

  /** Lets time pass: schedules with ActionAfterCompletion DELETE whose EndDate has passed are deleted. */
  advanceTo(at: Date): void {
    for (const [key, stored] of this.schedules) {
      const { EndDate, ActionAfterCompletion } = stored.definition;
      if (ActionAfterCompletion === 'DELETE' && EndDate && EndDate.getTime() <= at.getTime()) this.schedules.delete(key);
    }
    this.listings.clear();
  }

  private async handle(command: unknown): Promise<unknown> {
    const name = commandName(command);
    this.calls[name] += 1;
    const input = (command as { input: Record<string, unknown> }).input;
    await this.onCall?.(name, input);
    const index = this.faults.findIndex((f) => f.command === name);
    let fault: Fault | undefined;
    if (index >= 0) {
      const candidate = this.faults[index] as Fault;
      if (candidate.skip > 0) candidate.skip -= 1;
      else fault = this.faults.splice(index, 1)[0];
    }
    if (fault && !fault.applied) throw fault.error;
    const result = this.apply(name, input);
    if (name !== 'ListSchedules' && name !== 'GetSchedule') this.listings.clear();
    if (fault) throw fault.error;
    return result;
  }

  private apply(name: CommandName, input: Record<string, unknown>): unknown {
    const group = String(input['GroupName'] ?? 'default');
    if (!NAME.test(group)) throw new ValidationException({ message: 'GroupName is invalid', Message: 'GroupName is invalid', ...meta });
    if (name === 'ListSchedules') return this.list(group, input);
    const scheduleName = String(input['Name']);
    if (!NAME.test(scheduleName)) throw new ValidationException({ message: 'Name is invalid', Message: 'Name is invalid', ...meta });
    const key = `${group}/${scheduleName}`;
    const existing = this.schedules.get(key);
    const notFound = () => new ResourceNotFoundException({ message: `Schedule ${scheduleName} does not exist.`, Message: `Schedule ${scheduleName} does not exist.`, ...meta });
    switch (name) {
      case 'CreateSchedule': {
        if (existing) throw new ConflictException({ message: `Schedule ${scheduleName} already exists.`, Message: `Schedule ${scheduleName} already exists.`, ...meta });
        const arn = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${scheduleName}`;
        this.schedules.set(key, { definition: structuredClone(input) as unknown as CreateScheduleCommandInput, groupName: group, arn, creationDate: this.now(), lastModificationDate: this.now() });
        return { ScheduleArn: arn, ...meta };
      }
      case 'UpdateSchedule':
        if (!existing) throw notFound();
        this.schedules.set(key, { ...existing, definition: structuredClone(input) as unknown as CreateScheduleCommandInput, lastModificationDate: this.now() });
        return { ScheduleArn: existing.arn, ...meta };
      case 'DeleteSchedule':
        if (!existing) throw notFound();
        this.schedules.delete(key);
        return meta;
      case 'GetSchedule':
        if (!existing) throw notFound();
        return { ...structuredClone(existing.definition), Arn: existing.arn, CreationDate: existing.creationDate, LastModificationDate: existing.lastModificationDate, ...meta };
    }
  }

  private list(group: string, input: Record<string, unknown>): unknown {
    const max = input['MaxResults'] === undefined ? 100 : Number(input['MaxResults']);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new ValidationException({ message: 'MaxResults must be 1-100', Message: 'MaxResults must be 1-100', ...meta });
    const prefix = input['NamePrefix'] as string | undefined;
    const state = input['State'] as string | undefined;
    const filter = JSON.stringify([group, prefix, state]);
    let all = this.listings.get(filter);
    if (!all) {
      all = [...this.schedules.values()]
        .filter((s) => s.groupName === group && (prefix === undefined || String(s.definition.Name).startsWith(prefix)) && (state === undefined || (s.definition.State ?? 'ENABLED') === state))
        .sort((a, b) => (String(a.definition.Name) < String(b.definition.Name) ? -1 : 1));
      this.listings.set(filter, all);
    }
    const start = input['NextToken'] === undefined ? 0 : Number(Buffer.from(String(input['NextToken']), 'base64url').toString());
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return {
      Schedules: page.map((s) => ({
        Arn: s.arn,
        Name: s.definition.Name,
        GroupName: s.groupName,
        State: s.definition.State ?? 'ENABLED',
        CreationDate: s.creationDate,
        LastModificationDate: s.lastModificationDate,
        Target: { Arn: s.definition.Target?.Arn },
      })),
      ...(next && { NextToken: next }),
      ...meta,
    };
  }
}

/** What Scheduler answers when calls come too fast. */
export function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
}

function commandName(command: unknown): CommandName {
  if (command instanceof CreateScheduleCommand) return 'CreateSchedule';
  if (command instanceof UpdateScheduleCommand) return 'UpdateSchedule';
  if (command instanceof DeleteScheduleCommand) return 'DeleteSchedule';
  if (command instanceof GetScheduleCommand) return 'GetSchedule';
  if (command instanceof ListSchedulesCommand) return 'ListSchedules';
  throw new Error(`FakeEventBridgeScheduler: unsupported command ${String((command as object)?.constructor?.name)}`);
}
