import { ConfigError, configKeysAt, configWarnings, parseConfig } from '../../../lambda/core/config';
import { DEFAULT_LIFECYCLE_RULES } from '../../../lambda/core/lifecycle/rules';

/** Parses and returns the ConfigError's message (fails the test when the config is accepted). */
function rejection(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe('Function: parseConfig', () => {
  it('fills every default when the object is empty', () => {
    // Act
    const config = parseConfig({});
    // Assess
    expect(config.dryRun).toBe(true);
    expect(config.regions).toEqual([]);
    expect(config.slack).toEqual({
      channel: '#ml-finops',
      apiUrl: 'https://slack.com/api/',
      interactivity: false,
      keepHours: [4, 24, 168],
      maxKeepHours: 168,
      approvers: [],
      teamChannels: {},
      accountChannels: {},
    });
    expect(config.tags).toEqual({
      optOut: 'cost-guard:opt-out',
      keepUntil: 'cost-guard:keep-until',
      essential: 'cost-guard:essential',
      owner: 'Owner',
      team: 'team',
    });
    expect(config.rightsizing).toEqual({
      enabled: true,
      schedule: 'cron(0 8 ? * MON *)',
      lookbackDays: 14,
      headroomPercent: 30,
      topN: 10,
    });
    expect(config.idleGpu).toMatchObject({
      schedule: 'rate(1 hour)',
      action: 'stop',
      lookbackMinutes: 60,
      gpuUtilizationPercent: 5,
      cpuUtilizationPercent: 10,
      warnMinutesBeforeAction: 60,
    });
    expect(config.storage.bucketTag).toEqual({ key: 'cost-guard:lifecycle', value: 'managed' });
    expect(config.storage.excludeBuckets).toEqual([]);
    expect(config.storage.rules).toEqual(DEFAULT_LIFECYCLE_RULES);
    expect(config.budgets).toMatchObject({
      alertPercent: 80,
      actionPercent: 95,
      action: 'notify',
      maxStopsPerRun: 50,
      items: [],
    });
    expect(config.pricing.hoursPerMonth).toBe(730);
  });

  it('treats undefined like an empty object', () => {
    expect(parseConfig(undefined)).toEqual(parseConfig({}));
  });

  it('keeps given values and defaults the rest of a section', () => {
    const config = parseConfig({ idleGpu: { action: 'terminate', warnMinutesBeforeAction: 0 } });
    expect(config.idleGpu.action).toBe('terminate');
    expect(config.idleGpu.warnMinutesBeforeAction).toBe(0);
    expect(config.idleGpu.lookbackMinutes).toBe(60);
  });

  it('gives each default rule list its own copy', () => {
    const a = parseConfig({});
    const b = parseConfig({});
    (a.storage.rules[0]!.transitions as { days: number }[])[0]!.days = 99;
    expect(b.storage.rules[0]!.transitions[0]!.days).toBe(30);
  });

  it.each([
    [
      { budgets: { alertPercent: 96 } },
      'costGuard.budgets.alertPercent: alertPercent (96) must be below actionPercent (95)',
    ],
    [{ budgets: { alertPercent: 90, actionPercent: 90 } }, 'alertPercent (90) must be below actionPercent (90)'],
    [
      { budgets: { actionPercent: 120 } },
      'costGuard.budgets.actionPercent: actionPercent must be from 0 to 100 (got 120)',
    ],
    [
      { idleGpu: { gpuUtilizationPercent: -1 } },
      'costGuard.idleGpu.gpuUtilizationPercent: gpuUtilizationPercent must be from 0 to 100 (got -1)',
    ],
    [
      { idleGpu: { action: 'destroy' } },
      'costGuard.idleGpu.action: must be one of terminate, stop, notify (got "destroy")',
    ],
    [{ idleGpu: { lookbackMinutes: 5 } }, 'costGuard.idleGpu.lookbackMinutes: must be from 15 to 1440 minutes (got 5)'],
    [
      { idleGpu: { schedule: 'every hour' } },
      "costGuard.idleGpu.schedule: invalid schedule 'every hour': expected 'rate(N unit)'",
    ],
    [{ idleGpu: { schedule: 'rate(1 hours)' } }, 'use the singular for 1: rate(1 hour)'],
    [
      { storage: { schedule: 'cron(0 3 * * * *)' } },
      "exactly one of day-of-month ('*') and day-of-week ('*') must be ?",
    ],
    [
      { idleGpu: { schedule: 'cron(0 25 * * ? *)' } },
      "costGuard.idleGpu.schedule: invalid schedule 'cron(0 25 * * ? *)': hours field '25' must be 0-23",
    ],
    [
      { observability: { logRetentionDays: 31 } },
      'costGuard.observability.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 31)',
    ],
    [{ budgets: { stopScope: 'any' } }, 'costGuard.budgets.stopScope: must be one of gpu, all (got "any")'],
    [{ budgets: { schedule: 'cron(0 3 * * ?)' } }, 'a cron expression has 6 fields'],
    [{ regions: ['us-east'] }, 'costGuard.regions[0]: must be an AWS region code such as us-east-1 (got "us-east")'],
    [{ slack: { apiUrl: 'not a url' } }, 'costGuard.slack.apiUrl: must be an http(s) URL'],
    [
      { budgets: { maxStopsPerRun: 0 } },
      'costGuard.budgets.maxStopsPerRun: maxStopsPerRun must be from 1 to 1000 (got 0)',
    ],
    [
      { budgets: { maxStopsPerRun: 1001 } },
      'costGuard.budgets.maxStopsPerRun: maxStopsPerRun must be from 1 to 1000 (got 1001)',
    ],
    [
      { budgets: { maxStopsPerRun: 2.5 } },
      'costGuard.budgets.maxStopsPerRun: maxStopsPerRun must be a whole number from 1 to 1000 (got 2.5)',
    ],
    [
      { budgets: { items: [{ name: 'ml', limitUsd: 0 }] } },
      'costGuard.budgets.items[0].limitUsd: limitUsd must be greater than 0 (got 0)',
    ],
    [
      { budgets: { items: [{ name: 'ml' }, { name: 'ml' }] } },
      "costGuard.budgets.items[1].name: duplicate budget name 'ml'",
    ],
    [
      { storage: { buckets: ['Bad_Bucket'] } },
      'costGuard.storage.buckets[0]: is not a valid S3 bucket name (got "Bad_Bucket")',
    ],
    [
      { rightsizing: { lookbackDays: 31 } },
      'costGuard.rightsizing.lookbackDays: lookbackDays must be from 1 to 30 (got 31)',
    ],
    [
      { rightsizing: { headroomPercent: 250 } },
      'costGuard.rightsizing.headroomPercent: headroomPercent must be from 0 to 200 (got 250)',
    ],
    [
      { unknownKey: true },
      // Every top-level key the schema has, in its order (the list grows with the schema).
      `costGuard.unknownKey: unknown key; known keys here: ${configKeysAt([])!.join(', ')}`,
    ],
    [{ idelGpu: {} }, 'costGuard.idelGpu: unknown key; did you mean idleGpu?'],
    [{ idleGpu: { schedul: 'rate(1 hour)' } }, 'costGuard.idleGpu.schedul: unknown key; did you mean schedule?'],
    [
      { storage: { rules: [{ id: 'x', transitons: [], expirationDays: 30 }] } },
      'costGuard.storage.rules[0].transitons: unknown key; did you mean transitions?',
    ],
    [{ slack: { chanel: '#x' } }, 'costGuard.slack.chanel: unknown key; did you mean channel?'],
    [{ dryRun: 'yes' }, 'costGuard.dryRun: Invalid input: expected boolean, received string (got "yes")'],
    [{ pricing: { hoursPerMonth: 100 } }, 'costGuard.pricing.hoursPerMonth'],
    [
      { storage: { selectByTag: false } },
      'costGuard.storage.buckets: list at least one bucket when selectByTag is false',
    ],
    [
      { storage: { buckets: ['ml-a', 'ml-both'], excludeBuckets: ['ml-x', 'ml-both'] } },
      "costGuard.storage.excludeBuckets[1]: bucket 'ml-both' is in both storage.buckets and storage.excludeBuckets",
    ],
  ])('rejects %j naming the field, value and what is allowed', (raw, expected) => {
    expect(rejection(raw)).toContain(expected);
  });

  it("rejects the seed's 14-day checkpoints rule: STANDARD_IA needs at least 30 days", () => {
    // Prepare: the seed's model-checkpoints-lifecycle rule as written
    const seedRule = {
      id: 'model-checkpoints-lifecycle',
      prefix: 'checkpoints/',
      transitions: [{ days: 14, storageClass: 'STANDARD_IA' }],
      noncurrentVersionExpirationDays: 30,
    };
    // Act
    const message = rejection({ storage: { rules: [seedRule] } });
    // Assess
    expect(message).toContain('costGuard.storage.rules[0].transitions[0].days');
    expect(message).toContain('STANDARD_IA needs at least 30 days after creation (got 14)');
  });

  it('rejects an unknown storage class and lists the allowed ones', () => {
    const message = rejection({
      storage: {
        rules: [{ id: 'x', prefix: 'a/', transitions: [{ days: 40, storageClass: 'GLACIER_INSTANT_RETRIEVAL' }] }],
      },
    });
    expect(message).toContain('unknown storage class "GLACIER_INSTANT_RETRIEVAL"');
    expect(message).toContain('GLACIER_IR');
  });

  it('lists every offending field at once', () => {
    const message = rejection({ idleGpu: { gpuUtilizationPercent: 101, cpuUtilizationPercent: -5 } });
    expect(message).toContain('gpuUtilizationPercent');
    expect(message).toContain('cpuUtilizationPercent');
  });
});

describe('Function: parseConfig (slack.apiUrl)', () => {
  // The bot token is sent with every request: it may cross a network only over TLS.
  it.each([
    'https://slack.com/api/',
    'https://slack-gov.com/api/',
    'http://127.0.0.1:43117/api/',
    'http://127.42.0.9/',
    'http://localhost:8080/api/',
    'http://[::1]:9000/api/',
  ])('accepts %s', (apiUrl) => {
    expect(parseConfig({ slack: { apiUrl } }).slack.apiUrl).toBe(apiUrl);
  });

  it.each([
    'http://slack.com/api/',
    'http://10.0.0.5/api/',
    'http://127.0.0.1.evil.example/',
    'http://localhost.evil.example/',
    'ftp://127.0.0.1/',
  ])('rejects %s, naming the field, the rule and the value', (apiUrl) => {
    expect(rejection({ slack: { apiUrl } })).toContain(
      `costGuard.slack.apiUrl: must be an https URL: the bot token goes with every request (plain http only to a loopback address: 127.0.0.0/8, localhost or [::1]) (got "${apiUrl}")`,
    );
  });
});

describe('Function: configWarnings', () => {
  it('has no warning for the default rules', () => {
    expect(configWarnings(parseConfig({}))).toEqual([]);
  });

  it('warns about early-deletion charges naming the rule and the extra days', () => {
    const config = parseConfig({
      storage: {
        rules: [
          { id: 'short', prefix: 'tmp/', transitions: [{ days: 0, storageClass: 'GLACIER_IR' }], expirationDays: 30 },
        ],
      },
    });
    const [warning] = configWarnings(config);
    expect(warning).toContain("rule 'short'");
    expect(warning).toContain('60 extra days of GLACIER_IR');
    // 60 extra days of Glacier IR at $0.004/GB-month over a 730/24-day month
    expect(warning).toContain(`about $${((0.004 * 60) / (730 / 24)).toFixed(4)} per GB`);
  });
});

describe('Function: configKeysAt', () => {
  it.each([
    [[], 'idleGpu'],
    [['idleGpu'], 'warnMinutesBeforeAction'],
    [['storage', 'rules', 0], 'transitions'],
    [['storage', 'rules', 0, 'transitions', 3], 'storageClass'],
    [['budgets', 'items', 1], 'scopeTags'],
  ])('lists the keys the schema accepts at %j', (path, key) => {
    expect(configKeysAt(path)).toContain(key);
  });

  it('gives undefined where the schema holds no object', () => {
    expect(configKeysAt(['dryRun'])).toBeUndefined();
    expect(configKeysAt(['nothing', 'here'])).toBeUndefined();
  });

  it('reports every unknown key of one object, each with its own suggestion', () => {
    // Act
    const message = rejection({ idleGpu: { schedul: 'rate(1 hour)', actoin: 'stop' } });
    // Assess
    expect(message).toContain('costGuard.idleGpu.schedul: unknown key; did you mean schedule?');
    expect(message).toContain('costGuard.idleGpu.actoin: unknown key; did you mean action?');
  });
});
