import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.kallisti/', 'coverage/', 'bench/out/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'Focused tests must not be committed.' },
        { object: 'describe', property: 'only', message: 'Focused tests must not be committed.' },
        { object: 'test', property: 'only', message: 'Focused tests must not be committed.' },
        { object: 'it', property: 'skip', message: 'Skipped tests must not be committed.' },
        { object: 'describe', property: 'skip', message: 'Skipped tests must not be committed.' },
        { object: 'test', property: 'skip', message: 'Skipped tests must not be committed.' },
      ],
      'no-restricted-globals': ['error', { name: 'xit', message: 'Skipped tests must not be committed.' }, { name: 'xdescribe', message: 'Skipped tests must not be committed.' }, { name: 'fit', message: 'Focused tests must not be committed.' }, { name: 'fdescribe', message: 'Focused tests must not be committed.' }],
    },
  },
  {
    files: ['functions/domain/**/*.ts', 'functions/use-cases/**/*.ts', 'functions/executor/**/*.ts', 'functions/api/**/*.ts', 'functions/modules/**/*.ts'],
    ignores: ['functions/modules/aws/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*'], message: 'AWS SDK imports belong in functions/adapters/ only.' }] }],
    },
  },
  {
    // AWS step commands load their SDK client with `await import()` when a step runs, so the
    // worker's cold start does not grow with the number of commands; static imports are types only.
    files: ['functions/modules/aws/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@aws-sdk/*'], allowTypeImports: true, message: 'Load the SDK with `await import()` inside the command (lazy); static imports may only be `import type`.' }] },
      ],
    },
  },
);
