import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../dynamodb/client.js';
import { tableDefinition } from '../dynamodb/table.js';

export interface LocalDynamo {
  endpoint: string;
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A new table (and its indexes) answers ResourceNotFound until it is ACTIVE, even in dynalite. */
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Table ${tableName} did not become ACTIVE`);
}

/**
 * Starts an embedded DynamoDB (dynalite) on a free loopback port, persisted under
 * `path` (in memory when omitted), and creates the table if it is missing.
 */
export async function startLocalDynamo(options: { path?: string; tableName: string }): Promise<LocalDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const config = { endpoint, region: 'local', credentials: LOCAL_CREDENTIALS };
  const raw = new DynamoDBClient(config);
  try {
    await raw.send(new DescribeTableCommand({ TableName: options.tableName }));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    await raw.send(new CreateTableCommand(tableDefinition(options.tableName)));
  }
  await waitUntilActive(raw, options.tableName);
  raw.destroy();
  const documentClient = createDocumentClient(config);
  return {
    endpoint,
    documentClient,
    close: async () => {
      documentClient.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
