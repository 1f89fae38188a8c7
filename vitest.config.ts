import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const BUILD_HARNESS = resolve('test/e2e/harness/build.ts');

/**
 * With BERTH_BUILD=binary only the tests that start berth as a child process run (again): the test
 * files that import test/e2e/harness/build.ts, directly or through other test modules. In-process
 * tests exercise the same source whichever build is selected.
 */
function childProcessTests(): string[] {
  const files = readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => resolve('test', name));
  const imports = new Map(
    files.map((file) => {
      const specifiers = [...readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
        resolve(dirname(file), `${m[1]}.ts`),
      );
      return [file, specifiers];
    }),
  );
  const reaches = new Map<string, boolean>();
  const usesBuild = (file: string, seen = new Set<string>()): boolean => {
    if (file === BUILD_HARNESS) return true;
    if (reaches.has(file)) return reaches.get(file)!;
    if (seen.has(file)) return false;
    seen.add(file);
    const result = (imports.get(file) ?? []).some((dep) => usesBuild(dep, seen));
    reaches.set(file, result);
    return result;
  };
  return files.filter((file) => file.endsWith('.test.ts') && usesBuild(file)).map((file) => relative('.', file).split('\\').join('/'));
}

export default defineConfig({
  test: {
    include: process.env.BERTH_BUILD === 'binary' ? childProcessTests() : ['test/**/*.test.ts'],
    globalSetup: ['./test/e2e/harness/tmpdir-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/e2e/harness/summary-reporter.ts'],
  },
});
