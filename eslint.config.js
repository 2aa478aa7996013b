// ESLint for the whole repository (flat config, typescript-eslint). Why these rules: the
// recommended sets catch real mistakes, and the type-aware ones below catch the two this code
// base cares most about: a promise nobody awaits (a lost answer or an unhandled rejection) and
// `any` leaking into the batching core, whose outcomes must stay typed values. Formatting is
// Prettier's job (.prettierrc), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-sim/**',
      'node_modules/**',
      'results/**',
      'coverage/**',
      'reports/**',
      '.stryker-tmp/**',
      'examples/node/node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // tsconfig.check.json covers src, sim, test and bench in one program (strict, no emit).
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The core: no `any` at all, explicit or slipped in through an unchecked value.
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
    },
  },
);
