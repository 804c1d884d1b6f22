import {
  buildSageMakerDigest,
  countSageMaker,
  planEndpointRestore,
  type RecordedEndpointDeletion,
  restorableTags,
  type SageMakerDigestInput,
  type SageMakerResourceReport,
  sageMakerCost,
} from '../../../../lambda/core/sagemaker';
import { createPricing } from '../../../../lambda/core/savings';
import { escapeMrkdwn } from '../../../../lambda/core/slack-blocks';

const HOSTILE = '<!channel> <https://evil.example|click> *bold* `tick`\nnext';

function report(over: Partial<SageMakerResourceReport> = {}): SageMakerResourceReport {
  return {
    kind: 'endpoint',
    name: 'llm-demo',
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-demo',
    region: 'us-east-1',
    instances: [{ instanceType: 'ml.g5.xlarge', count: 2 }],
    endpointConfigName: 'llm-demo-config',
    decision: 'warn',
    code: 'first-detection',
    reason: 'no invocation in the last 24 h',
    actAt: '2026-11-15T13:00:00.000Z',
    hourlyUsd: 2.8168,
    monthlySavingsUsd: 2056.26,
    ...over,
  };
}

function input(over: Partial<SageMakerDigestInput> = {}): SageMakerDigestInput {
  return {
    resources: [report()],
    domains: [],
    gpuApps: [],
    dryRun: false,
    action: 'delete',
    optOutKey: 'cost-guard:opt-out',
    endpointIdleHours: 24,
    maxActionsPerRun: 10,
    skippedByReason: {},
    notes: [],
    ...over,
  };
}

const text = (plan: ReturnType<typeof buildSageMakerDigest>) => JSON.stringify(plan.messages);

describe('Function: sageMakerCost', () => {
  const pricing = createPricing();
  it('prices every instance of an endpoint from the catalog, over the configured month', () => {
    const cost = sageMakerCost([{ instanceType: 'ml.g5.xlarge', count: 2 }], pricing, 'us-east-1')!;
    expect(cost.hourlyUsd).toBeCloseTo(2 * pricing.instanceHourly('ml.g5.xlarge', 'us-east-1')!.usd, 9);
    expect(cost.monthlyUsd).toBeCloseTo(cost.hourlyUsd * 730, 9);
    expect(cost.fallback).toBe(false);
  });
  it("says when a figure is the catalog's us-east-1 one", () => {
    expect(sageMakerCost([{ instanceType: 'ml.g5.xlarge', count: 1 }], pricing, 'eu-west-1')!.fallback).toBe(true);
  });
  it('gives no figure at all when one type has no price (never a partial sum)', () => {
    expect(
      sageMakerCost(
        [
          { instanceType: 'ml.g5.xlarge', count: 1 },
          { instanceType: 'ml.zz9.huge', count: 1 },
        ],
        pricing,
        'us-east-1',
      ),
    ).toBeUndefined();
  });
  it('takes the config override over the catalog', () => {
    const p = createPricing({ instanceHourlyUsd: { 'ml.g5.xlarge': 1 } });
    expect(sageMakerCost([{ instanceType: 'ml.g5.xlarge', count: 3 }], p, 'us-east-1')!.hourlyUsd).toBe(3);
  });
});

describe('Function: buildSageMakerDigest', () => {
  it('posts nothing when nothing happened', () => {
    expect(
      buildSageMakerDigest(input({ resources: [report({ decision: 'busy', code: 'invoked' })] })).messages,
    ).toEqual([]);
  });

  it('warns with the $/hour, the monthly figure, how to restore and how to opt out', () => {
    const plan = buildSageMakerDigest(input());
    const t = text(plan);
    expect(t).toContain('will delete');
    expect(t).toContain('$2.8168/h');
    expect(t).toContain('$2,056.26/month would be saved if acted on');
    expect(t).toContain('cost-guard restore --sagemaker');
    expect(t).toContain('aws sagemaker add-tags --region us-east-1 --resource-arn');
    expect(plan.messageOf.get('endpoint/us-east-1/llm-demo')).toBe(0);
  });

  it('escapes every AWS value: names, config names, owners, error messages, reasons and notes', () => {
    // Prepare
    const plan = buildSageMakerDigest(
      input({
        resources: [
          report({ name: HOSTILE, endpointConfigName: HOSTILE, owner: HOSTILE, reason: HOSTILE }),
          report({
            name: 'other',
            decision: 'act',
            action: { kind: 'delete', status: 'failed', errorCode: HOSTILE, errorMessage: HOSTILE },
          }),
        ],
        gpuApps: [
          { domainId: 'd', region: 'us-east-1', appType: 'JupyterLab', appName: HOSTILE, instanceType: 'ml.g5.xlarge' },
        ],
        notes: [HOSTILE],
      }),
    );
    // Act
    const t = text(plan);
    // Assess: nothing a reader would take as a mention, a link or formatting
    expect(t).not.toContain('<!channel>');
    expect(t).not.toContain('<https://evil.example');
    expect(t).toContain(JSON.stringify(escapeMrkdwn('<!channel>')).slice(1, -1));
  });

  it('keeps every section within Slack limits and never splits a character of a 4,000-character emoji value', () => {
    // Prepare
    const emoji = '\u{1F680}'.repeat(2000);
    const plan = buildSageMakerDigest(
      input({ resources: [report({ name: emoji, reason: emoji, owner: emoji, endpointConfigName: emoji })] }),
    );
    // Assess
    for (const m of plan.messages) {
      for (const b of m.blocks) {
        const t = (b as { text?: { text: string } }).text?.text ?? '';
        expect(t.length).toBeLessThanOrEqual(3000);
        expect(t).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }
    }
    // The opt-out command, needed to act on the warning, is never cut.
    expect(JSON.stringify(plan.messages)).toContain('Key=cost-guard:opt-out,Value=true');
  });

  it('adds up the headline from the figures it lists', () => {
    const plan = buildSageMakerDigest(
      input({
        resources: [
          report({ name: 'a', decision: 'act', action: { kind: 'delete', status: 'done' }, monthlySavingsUsd: 100 }),
          report({ name: 'b', decision: 'act', action: { kind: 'delete', status: 'done' }, monthlySavingsUsd: 23.45 }),
          report({ name: 'c', monthlySavingsUsd: undefined }),
        ],
      }),
    );
    expect(plan.messages[0]!.text).toContain('$123.45/month saved');
    expect(plan.messages[0]!.text).toContain('+1 price unknown');
    expect(plan.messages[0]!.text).toContain('2 endpoint(s) deleted');
  });

  it('splits a large digest into messages of at most 50 blocks and says which message shows each resource', () => {
    const resources = Array.from({ length: 120 }, (_, i) => report({ name: `ep-${i}` }));
    const plan = buildSageMakerDigest(input({ resources }));
    expect(plan.messages.length).toBeGreaterThan(2);
    for (const m of plan.messages) expect(m.blocks.length).toBeLessThanOrEqual(50);
    // 100 listed, 20 counted in one line and never marked as shown
    expect(plan.messageOf.size).toBe(100);
    expect(plan.messageOf.has('endpoint/us-east-1/ep-119')).toBe(false);
    expect(plan.messageOf.get('endpoint/us-east-1/ep-99')).toBe(plan.messages.length - 1);
  });

  it('counts a warning only once it was delivered (or would be, in a dry run)', () => {
    const counts = countSageMaker([
      report({ name: 'a', warning: { status: 'delivered' } }),
      report({ name: 'b', warning: { status: 'not-delivered' } }),
      report({ name: 'c', warning: { status: 'dry-run' } }),
    ]);
    expect(counts.warned).toBe(2);
  });
});

describe('Function: planEndpointRestore', () => {
  const deletion = (over: Partial<RecordedEndpointDeletion> = {}): RecordedEndpointDeletion => ({
    endpointName: 'llm-demo',
    region: 'us-east-1',
    endpointConfigName: 'llm-demo-config',
    tags: { team: 'ml', 'aws:cloudformation:stack-name': 'x' },
    deletedAt: '2026-11-15T12:00:00.000Z',
    reason: 'idle',
    ...over,
  });

  it('recreates a recorded endpoint that no longer exists, from its config that still does', () => {
    const plan = planEndpointRestore([deletion()], new Map([['llm-demo', { configExists: true }]]));
    expect(plan.create.map((d) => d.endpointName)).toEqual(['llm-demo']);
    expect(plan.refused).toEqual([]);
  });

  it.each([
    ['an endpoint of the name exists again', { endpointStatus: 'InService', configExists: true }, /exists now/],
    ['the config is gone', { configExists: false }, /no longer exists/],
    ['it could not be checked', undefined, /could not be checked/],
  ])('leaves it alone when %s', (_, facts, reason) => {
    const plan = planEndpointRestore([deletion()], new Map(facts ? [['llm-demo', facts]] : []));
    expect(plan.create).toEqual([]);
    expect(plan.refused[0]!.reason).toMatch(reason);
  });

  it('sets the tags back except the ones AWS owns', () => {
    expect(restorableTags({ team: 'ml', 'aws:cloudformation:stack-name': 'x', 'AWS:x': 'y' })).toEqual([
      { Key: 'team', Value: 'ml' },
    ]);
  });
});
