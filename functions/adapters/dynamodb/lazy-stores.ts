import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SafetyStore, ScheduleStore } from '../../ports.js';
import { onDemand } from '../../use-cases/on-demand.js';

/*
 * Stores whose code loads with their first call: only schedule writes, firings and
 * safety rules use them, so a Lambda cold start serving anything else does not parse
 * them. Same table, same client; the first call waits for the import once.
 */

export function lazyScheduleStore(client: DynamoDBDocumentClient, tableName: string): ScheduleStore {
  return onDemand<ScheduleStore>(async () => new (await import('./schedule-store.js')).DynamoScheduleStore(client, tableName), {
    create: true,
    get: true,
    update: true,
    markDeleted: true,
    listByExperiment: true,
    listAll: true,
    recordFiring: true,
    listFirings: true,
    settleFiring: true,
    applyFiring: true,
  });
}

export function lazySafetyStore(client: DynamoDBDocumentClient, tableName: string): SafetyStore {
  return onDemand<SafetyStore>(async () => new (await import('./safety-store.js')).DynamoSafetyStore(client, tableName), {
    createHalt: true,
    getHalt: true,
    liftHalt: true,
    recordStoppedTrials: true,
    listHalts: true,
    createFreeze: true,
    deleteFreeze: true,
    listFreezes: true,
    standingRules: true,
  });
}
