/**
 * Which AWS SDK commands a source file sends, read from its text: `new XxxCommand(` and `paginateXxx(` for names
 * imported from one of `packages`. The infra tests use it to check that IAM grants what the adapters call.
 */
import { readFileSync } from 'node:fs';

export function sdkCommands(file: string, packages: readonly string[]): string[] {
  const source = readFileSync(file, 'utf8');
  const imported = new Set<string>();
  const from = packages.map((p) => p.replace(/[/.-]/g, (c) => `\\${c}`)).join('|');
  for (const m of source.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'(?:${from})'`, 'g'))) {
    for (const name of m[1]!.split(',')) {
      imported.add(
        name
          .replace(/\btype\b/, '')
          .trim()
          .split(/\s+as\s+/)[0]!,
      );
    }
  }
  const constructed = [...source.matchAll(/new\s+(\w+)Command\s*\(/g)]
    .map((m) => m[1]!)
    .filter((c) => imported.has(`${c}Command`));
  const paginated = [...source.matchAll(/\bpaginate(\w+)\s*\(/g)]
    .map((m) => m[1]!)
    .filter((c) => imported.has(`paginate${c}`));
  return [...new Set([...constructed, ...paginated])].sort();
}
