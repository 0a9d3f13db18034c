import type { CreateTableCommandInput, GlobalSecondaryIndex, Projection } from '@aws-sdk/client-dynamodb';

/**
 * Single-table design. Every request path is a GetItem, a Query or a
 * conditional write; nothing scans.
 *
 * | item        | pk                    | sk                          |
 * |-------------|-----------------------|-----------------------------|
 * | experiment  | EXPERIMENT#<id>       | EXPERIMENT                  |
 * | schedule    | EXPERIMENT#<exp id>   | SCHEDULE#<id>               |
 * | firing      | EXPERIMENT#<exp id>   | FIRING#<schedule id>#<time> |
 * | trial       | TRIAL#<id>            | TRIAL                       |
 * | halt        | SAFETY                | HALT#<id>                   |
 * | freeze      | SAFETY                | FREEZE#<id>                 |
 *
 * | index | partition (gsiNpk)            | sort (gsiNsk)   | serves                                        |
 * |-------|-------------------------------|-----------------|-----------------------------------------------|
 * | gsi1  | EXPERIMENT / TRIAL / HALT / FREEZE | created_at#id | GET /experiment (live only: removed on delete), GET /trial, GET /safety/* |
 * | gsi2  | EXPERIMENT#<id> (trials only) | created_at#id   | GET /trial?experiment=<id>                     |
 * | gsi3  | SCHEDULE#<id> (trials only)   | created_at#id   | a schedule's `trials`                          |
 * | gsi4  | UNFINISHED (trials only)      | created_at#id   | the local worker's durable queue (sparse: removed when a trial ends) |
 *
 * Schedules of an experiment: Query pk = EXPERIMENT#<id>, sk begins_with SCHEDULE#.
 * gsi1 holds every trial under one partition key; trials run one at a time, so
 * its write rate stays far below a partition's limit.
 */
export const KEY = { pk: 'pk', sk: 'sk' } as const;

/** Items with this attribute (epoch seconds) expire: DynamoDB TTL on AWS, a periodic purge in local mode. Only firing records have it. */
export const TTL_ATTRIBUTE = 'expires_at';

export const INDEXES = {
  byType: { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  byExperiment: { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  bySchedule: { name: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk' },
  unfinished: { name: 'gsi4', pk: 'gsi4pk', sk: 'gsi4sk' },
} as const;

export type IndexDef = (typeof INDEXES)[keyof typeof INDEXES];

/** Attributes the bySchedule index projects: enough for a schedule's `trials` summary. */
export const SCHEDULE_TRIAL_PROJECTION = ['id', 'status', 'executed_at'];

/** The table as local mode and the tests create it; the CDK stack declares the same keys (a test compares them). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const index = (def: IndexDef, projection: Projection): GlobalSecondaryIndex => ({
    IndexName: def.name,
    KeySchema: [
      { AttributeName: def.pk, KeyType: 'HASH' as const },
      { AttributeName: def.sk, KeyType: 'RANGE' as const },
    ],
    Projection: projection,
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [KEY.pk, KEY.sk, ...Object.values(INDEXES).flatMap((i) => [i.pk, i.sk])].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: KEY.pk, KeyType: 'HASH' },
      { AttributeName: KEY.sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      index(INDEXES.byType, { ProjectionType: 'ALL' }),
      index(INDEXES.byExperiment, { ProjectionType: 'ALL' }),
      index(INDEXES.bySchedule, { ProjectionType: 'INCLUDE', NonKeyAttributes: SCHEDULE_TRIAL_PROJECTION }),
      index(INDEXES.unfinished, { ProjectionType: 'KEYS_ONLY' }),
    ],
  };
}
