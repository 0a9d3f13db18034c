/**
 * Bundles one Lambda entry into a directory: `tsx scripts/bundle-lambda.ts <api|worker> <outdir>`.
 * The CDK stack runs it as its local bundling step (lib/kallisti-function.ts).
 */
import { bundleLambda, LAMBDA_ENTRIES, type LambdaName } from '../lib/bundling.js';

const [name, outdir] = process.argv.slice(2);
if (name === undefined || !(name in LAMBDA_ENTRIES) || outdir === undefined) {
  console.error(`usage: tsx scripts/bundle-lambda.ts <${Object.keys(LAMBDA_ENTRIES).join('|')}> <outdir>`);
  process.exit(2);
}
await bundleLambda(name as LambdaName, outdir);
