/** The reconciler function's name, so `npm run reconcile -- --stage <stage>` can invoke it without looking anything up. */
export function reconcilerFunctionName(stage: string): string {
  return `kallisti-${stage}-reconcile-schedules`;
}
