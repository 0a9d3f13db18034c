import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = process.cwd();
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const VALIDATOR = path.join(ROOT, 'node_modules', '.bin', 'action-validator');
const TIMEOUT_MS = 60_000;

/** Runs @action-validator/cli (GitHub's workflow schema) on one file: exit code and output. */
async function validate(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(VALIDATOR, [file], { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === 'number' ? code : 1, output: `${stdout ?? ''}${stderr ?? ''}` };
  }
}

const files = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));
const text = (name: string) => readFileSync(path.join(WORKFLOWS, name), 'utf8');

describe('GitHub workflows', () => {
  it('exist: checks, pull request, deploy', () => {
    expect(files.sort()).toEqual(['checks.yml', 'deploy.yml', 'pull-request.yml']);
  });

  it.each(files)('%s passes action-validator', async (name) => {
    const result = await validate(path.join(WORKFLOWS, name));
    expect(result).toEqual({ code: 0, output: '' });
  }, TIMEOUT_MS);

  it('the validator rejects a broken workflow (so the checks above can fail)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kallisti-workflow-'));
    try {
      const broken = path.join(dir, 'broken.yml');
      writeFileSync(broken, text('pull-request.yml').replace('uses: ./.github/workflows/checks.yml', 'runs-on: ubuntu-latest\n    uses: ./.github/workflows/checks.yml\n    steps: 3'));
      const result = await validate(broken);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('/jobs/checks');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, TIMEOUT_MS);

  it('the shared checks provide a browser to the tests and synthesize the app', () => {
    const checks = text('checks.yml');
    expect(checks).toMatch(/on:\n\s+workflow_call:/);
    expect(checks).toContain('uses: browser-actions/setup-chrome@v1');
    expect(checks).toContain('CHROMIUM_PATH: ${{ steps.chrome.outputs.chrome-path }}');
    expect(checks).toContain('- run: npm test');
    expect(checks).toContain('npx cdk synth');
  });

  it('pull requests run the checks and never deploy or ask for AWS credentials', () => {
    const pr = text('pull-request.yml');
    expect(pr).toMatch(/on:\n\s+pull_request:/);
    expect(pr).toContain('uses: ./.github/workflows/checks.yml');
    expect(pr).not.toMatch(/cdk deploy|id-token|configure-aws-credentials/);
  });

  it('a deploy waits for the same checks', () => {
    const deploy = text('deploy.yml');
    expect(deploy).toContain('uses: ./.github/workflows/checks.yml');
    expect(deploy).toMatch(/deploy:\n(?:.*\n)*?\s+needs: checks\n/);
  });
});
