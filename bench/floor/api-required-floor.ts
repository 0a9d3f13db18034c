/**
 * The API's floor plus what the product is required to load at start and nothing of
 * its own: Powertools Logger (writing one line, as the API's start-up does), Powertools
 * Metrics, and middy with @middy/http-router and one route. Bundled with the same
 * options; counted in instructions only, to show how much of the 1.2× margin those
 * libraries take by themselves.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({});
const logger = new Logger({ serviceName: 'kallisti-api', logLevel: 'INFO' });
logger.info('Authentication: bearer JWT from issuer https://issuer.example.com, audience kallisti');
const metrics = new Metrics({ serviceName: 'kallisti', namespace: 'Kallisti' });

const router = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>().handler(
  httpRouterHandler([
    { method: 'GET', path: '/health', handler: async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'ok', clients: [documentClient, sqs, metrics].length }) }) },
  ]) as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
);

export const handler = (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => router(event, context);
