import { startLocalDynamo, type LocalDynamo } from '../../functions/adapters/local/dynalite.js';

let counter = 0;

/** A fresh in-memory dynalite over real HTTP, with the product's table, for one test file. */
export async function startTestDynamo(): Promise<LocalDynamo & { tableName: string }> {
  counter += 1;
  const tableName = `kallisti-test-${process.pid}-${counter}`;
  const dynamo = await startLocalDynamo({ tableName });
  return { ...dynamo, tableName };
}
