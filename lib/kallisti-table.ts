import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { INDEXES, KEY, SCHEDULE_TRIAL_PROJECTION, TTL_ATTRIBUTE, type IndexDef } from '../functions/adapters/dynamodb/table.js';

export interface KallistiTableProps {
  /** Keep the table, with deletion protection, when the stack is deleted (trials are an audit record). */
  retain: boolean;
}

/**
 * The single table of `functions/adapters/dynamodb/table.ts`: its key and index names
 * come from that module, and a test compares this table with `tableDefinition()`.
 */
export class KallistiTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: KallistiTableProps) {
    super(scope, id);

    const string = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: KEY.pk, type: string },
      sortKey: { name: KEY.sk, type: string },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      // Firing records expire (FIRING_RECORD_TTL_DAYS); nothing else carries the attribute.
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    const index = (def: IndexDef, projection: Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'>) =>
      this.table.addGlobalSecondaryIndex({
        indexName: def.name,
        partitionKey: { name: def.pk, type: string },
        sortKey: { name: def.sk, type: string },
        ...projection,
      });
    index(INDEXES.byType, { projectionType: dynamodb.ProjectionType.ALL });
    index(INDEXES.byExperiment, { projectionType: dynamodb.ProjectionType.ALL });
    index(INDEXES.bySchedule, { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: SCHEDULE_TRIAL_PROJECTION });
    index(INDEXES.unfinished, { projectionType: dynamodb.ProjectionType.KEYS_ONLY });
  }
}
