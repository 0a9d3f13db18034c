import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../../functions/adapters/dynamodb/client.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import type { Trial } from '../../functions/domain/trial.js';
import type { TrialProgress } from '../../functions/ports.js';

/**
 * A prototype of the proposed store change, to measure it: a progress write asks
 * for nothing back (ReturnValues NONE) instead of the whole item (ALL_NEW), whose
 * only use is the status. It is conditional on `In Progress`, so success proves the
 * status; when it fails (a stop request landed, or the trial ended) it falls back to
 * the current write, which answers the stored trial. The proposed fix changes the
 * port to return just the status; here the trial is rebuilt from the last full
 * answer so the executor runs unchanged.
 */
export class LeanProgressTrialStore extends DynamoTrialStore {
  private readonly known = new Map<string, Trial>();

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    super(documentClient, table);
  }

  override async saveProgress(id: string, progress: TrialProgress): Promise<Trial | undefined> {
    const known = this.known.get(id);
    if (known) {
      try {
        await this.documentClient.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `TRIAL#${id}`, sk: 'TRIAL' },
            UpdateExpression: 'SET trial_record = :record',
            ConditionExpression: 'attribute_exists(pk) AND #status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':record': progress.trial_record, ':running': 'In Progress' },
            ReturnValues: 'NONE',
          }),
        );
        return { ...known, trial_record: progress.trial_record, status: 'In Progress' };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    const stored = await super.saveProgress(id, progress);
    if (stored?.status === 'In Progress') this.known.set(id, stored);
    else this.known.delete(id);
    return stored;
  }

  override async transition(...args: Parameters<DynamoTrialStore['transition']>): Promise<Trial | undefined> {
    this.known.delete(args[0]);
    return super.transition(...args);
  }
}
