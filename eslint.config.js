// @ts-check
/**
 * Lint rules: typed linting for the whole project (no explicit any, no floating promises),
 * plus the purity rules for the pure modules of lib/ (no clock, no environment, no Math.random:
 * time and configuration are passed in). Imports are checked by dependency-cruiser.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PURE_LIB = ['lib/**/*.ts'];
// lib/client/ is the client SDK: it talks to the server and caches a token on disk.
const IO_EDGE = ['lib/store/**', 'lib/service/**', 'lib/client/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tools/**', 'coverage/**', '.keyward/**', '*.cjs', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      // bin/ holds small JS launchers outside the TypeScript project; lint them with default options.
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: PURE_LIB,
    ignores: IO_EDGE,
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pure modules take `now` as an argument.' },
        { object: 'Math', property: 'random', message: 'Use the platform CSPRNG, or take randomness as an argument.' },
        { object: 'process', property: 'env', message: 'Configuration is passed in; only composition roots read the environment.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pure modules take `now` as an argument.' },
        { selector: "CallExpression[callee.name='Date']", message: 'Pure modules take `now` as an argument.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
