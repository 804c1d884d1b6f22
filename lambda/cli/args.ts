/**
 * Flag parsing shared by every cost-guard command: node:util parseArgs (strict), with its errors turned into
 * sentences that name the flag and, for a mistyped one, the closest valid flag ("unknown option --dryrun; did you
 * mean --dry-run?"). A renamed flag says what it is called now.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../core/suggest';
import { UsageError } from './io';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags that were renamed: the old name (without dashes) and the new one. */
export const RENAMED_FLAGS: Readonly<Record<string, string>> = { 'seed-prices': 'chapter-prices' };

/** The quoted option of a parseArgs message, e.g. `--dryrun` from "Unknown option '--dryrun'". */
function quotedOption(message: string): string | undefined {
  return /'(-{1,2}[^' =]+)/.exec(message)?.[1];
}

/** The message of a parseArgs error, as a sentence naming the flag (and the closest valid one when mistyped). */
export function argsErrorMessage(error: unknown, options: Options): string {
  const { code, message } = error as { code?: string; message: string };
  const option = quotedOption(message);
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const given = option ?? '?';
      const bare = given.replace(/^-+/, '');
      const renamed = RENAMED_FLAGS[bare];
      if (renamed && renamed in options) return `unknown option ${given}; it is now --${renamed}`;
      const near = given.startsWith('--') ? closestName(bare, Object.keys(options)) : undefined;
      return `unknown option ${given}${near ? `; did you mean --${near}?` : ''}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? '?';
      return `unexpected argument '${arg}'`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `${option ?? 'this flag'} does not take a value`;
      return message.includes('ambiguous')
        ? `${option ?? 'a flag'} needs a value; write a value that starts with '-' as ${option ?? '--flag'}=-VALUE`
        : `${option ?? 'a flag'} needs a value`;
    default:
      return message;
  }
}

/**
 * parseArgs (strict unless `config` says otherwise); a bad flag throws UsageError with `usage` (the CLI prints both
 * and exits 2).
 * @example const { values } = parseCliArgs({ args: argv, options: { config: { type: 'string' } } }, USAGE);
 */
export function parseCliArgs<T extends ParseArgsConfig & { options: Options }>(config: T, usage: string) {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(argsErrorMessage(error, config.options), usage, { cause: error });
  }
}
