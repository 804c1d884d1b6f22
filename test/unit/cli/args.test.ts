import { argsErrorMessage, parseCliArgs, RENAMED_FLAGS } from '../../../lambda/cli/args';
import { UsageError } from '../../../lambda/cli/io';

const OPTIONS = {
  config: { type: 'string' },
  'dry-run': { type: 'boolean' },
  region: { type: 'string' },
  'chapter-prices': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The UsageError parseCliArgs throws for `args` (fails the test when they parse). */
function usageError(args: string[]): UsageError {
  try {
    parseCliArgs({ args, options: OPTIONS }, 'Usage: test');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).usage).toBe('Usage: test');
    return error as UsageError;
  }
  throw new Error(`parsed: ${args.join(' ')}`);
}

describe('Function: parseCliArgs', () => {
  it('returns the values of flags it knows', () => {
    const { values } = parseCliArgs({ args: ['--config', 'x.json', '--dry-run'], options: OPTIONS }, 'Usage: test');
    expect(values).toEqual({ config: 'x.json', 'dry-run': true });
  });

  it.each([
    [['--dryrun'], 'unknown option --dryrun; did you mean --dry-run?'],
    [['--regoin', 'us-east-1'], 'unknown option --regoin; did you mean --region?'],
    [['--conifg', 'x'], 'unknown option --conifg; did you mean --config?'],
    [['--colour'], 'unknown option --colour'],
    [['-x'], 'unknown option -x'],
    [['--seed-prices'], 'unknown option --seed-prices; it is now --chapter-prices'],
    [['--config'], '--config needs a value'],
    [['--config', '--dry-run'], "--config needs a value; write a value that starts with '-' as --config=-VALUE"],
    [['--dry-run=yes'], '--dry-run does not take a value'],
    [['extra'], "unexpected argument 'extra'"],
  ])('turns %j into a sentence', (args, message) => {
    expect(usageError(args).message).toBe(message);
  });

  it('keeps the parseArgs error as the cause', () => {
    expect((usageError(['--dryrun']).cause as { code?: string }).code).toBe('ERR_PARSE_ARGS_UNKNOWN_OPTION');
  });
});

describe('Function: argsErrorMessage', () => {
  it('suggests a renamed flag only where the new one exists', () => {
    // Prepare
    const error = Object.assign(new Error("Unknown option '--seed-prices'"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    // Act / Assess
    expect(RENAMED_FLAGS['seed-prices']).toBe('chapter-prices');
    expect(argsErrorMessage(error, { config: { type: 'string' } })).toBe('unknown option --seed-prices');
  });

  it('passes any other error message through', () => {
    expect(argsErrorMessage(new Error('something else'), {})).toBe('something else');
  });
});
