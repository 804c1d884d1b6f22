import fc from 'fast-check';
import {
  checkBeforeAct,
  decideInstance,
  deferDecision,
  guardDecision,
  orderForAction,
  parseTagTime,
} from '../../../../lambda/core/reaper/decide';
import { type Decision, IDLE_SINCE_TAG, type InstanceMetrics } from '../../../../lambda/core/reaper/types';
import { CPU_TYPE, GPU_TYPE, instance, metrics, NEURON_TYPE, NOW, reaperConfig } from './fixtures';

const config = reaperConfig();
const idle = metrics();
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const ahead = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

describe('Function: parseTagTime', () => {
  it.each([
    ['2026-11-15T12:00:00Z', Date.parse('2026-11-15T12:00:00Z')],
    ['2026-11-15T12:00:00.000Z', Date.parse('2026-11-15T12:00:00Z')],
    ['2026-11-15T12:00', Date.parse('2026-11-15T12:00:00Z')],
    ['2026-11-15T14:00:00+02:00', Date.parse('2026-11-15T12:00:00Z')],
    [' 2026-11-15T12:00:00Z ', Date.parse('2026-11-15T12:00:00Z')],
    ['2026-11-15', Date.parse('2026-11-15T00:00:00Z')],
    ['2026-02-30', undefined],
    ['2026-02-30T10:00:00Z', undefined],
    ['tomorrow', undefined],
    ['15/11/2026', undefined],
    ['', undefined],
    ['1700000000', undefined],
  ])('parses %j as %s', (value, expected) => {
    expect(parseTagTime(value)).toBe(expected);
  });

  it('reads a date alone as the end of that day when asked', () => {
    expect(parseTagTime('2026-11-15', true)).toBe(Date.parse('2026-11-16T00:00:00Z'));
  });
});

describe('Function: guardDecision', () => {
  it.each<[string, Parameters<typeof instance>[0], typeof GPU_TYPE | undefined, string | undefined]>([
    ['an unknown type', {}, undefined, 'unknown-type'],
    ['a non-GPU type', { instanceType: 'm5.large' }, CPU_TYPE, 'not-gpu'],
    ['a Neuron type (includeNeuron off)', { instanceType: 'inf2.xlarge' }, NEURON_TYPE, 'neuron-excluded'],
    ['an opted-out instance', { tags: { 'cost-guard:opt-out': 'TRUE' } }, GPU_TYPE, 'opt-out'],
    ['keep-until in the future', { tags: { 'cost-guard:keep-until': '2026-12-01' } }, GPU_TYPE, 'keep-until'],
    [
      'keep-until today (date = end of day)',
      { tags: { 'cost-guard:keep-until': '2026-11-15' } },
      GPU_TYPE,
      'keep-until',
    ],
    ['keep-until in the past', { tags: { 'cost-guard:keep-until': '2026-11-14T00:00:00Z' } }, GPU_TYPE, undefined],
    ['an unparseable keep-until', { tags: { 'cost-guard:keep-until': 'next friday' } }, GPU_TYPE, 'keep-until-invalid'],
    ['an ASG member', { tags: { 'aws:autoscaling:groupName': 'trainers' } }, GPU_TYPE, 'auto-scaling-group'],
    ['a Spot Fleet member', { tags: { 'aws:ec2spot:fleet-request-id': 'sfr-1' } }, GPU_TYPE, 'fleet-member'],
    ['an EKS node', { tags: { 'eks:cluster-name': 'ml' } }, GPU_TYPE, 'kubernetes-node'],
    ['an EKS managed node', { tags: { 'eks:eks-cluster-name': 'ml' } }, GPU_TYPE, 'kubernetes-node'],
    ['a Karpenter node', { tags: { 'karpenter.sh/nodepool': 'gpu' } }, GPU_TYPE, 'kubernetes-node'],
    ['a self-managed k8s node', { tags: { 'kubernetes.io/cluster/ml': 'owned' } }, GPU_TYPE, 'kubernetes-node'],
    ['a too-young instance', { launchTime: ago(119) }, GPU_TYPE, 'too-young'],
    ['an instance of exactly the minimum age', { launchTime: ago(120) }, GPU_TYPE, undefined],
    ['an instance without a launch time', { launchTime: undefined }, GPU_TYPE, 'age-unknown'],
    ['an ordinary GPU instance', {}, GPU_TYPE, undefined],
  ])('handles %s', (_, over, type, code) => {
    // Act
    const decision = guardDecision(instance(over), type, NOW, config);
    // Assess
    expect(decision?.code).toBe(code);
    if (code) expect(decision?.kind).toBe('skip');
  });

  it('lets Neuron types through when includeNeuron is on', () => {
    const decision = guardDecision(instance(), NEURON_TYPE, NOW, reaperConfig({ includeNeuron: true }));
    expect(decision).toBeUndefined();
  });

  it.each([
    ['one-time', 'spot-cannot-stop'],
    [undefined, 'spot-cannot-stop'],
    ['persistent', undefined],
  ] as const)('with action stop, a Spot instance of request type %s -> %s', (spotRequestType, code) => {
    const i = instance({ lifecycle: 'spot', ...(spotRequestType ? { spotRequestType } : {}) });
    expect(guardDecision(i, GPU_TYPE, NOW, reaperConfig({ action: 'stop' }))?.code).toBe(code);
  });

  it('lets a one-time Spot instance be terminated', () => {
    const i = instance({ lifecycle: 'spot', spotRequestType: 'one-time' });
    expect(guardDecision(i, GPU_TYPE, NOW, reaperConfig({ action: 'terminate' }))).toBeUndefined();
  });

  it('uses the configured tag keys', () => {
    const cfg = reaperConfig({}, { optOut: 'team:keep', keepUntil: 'team:until' });
    expect(guardDecision(instance({ tags: { 'team:keep': 'true' } }), GPU_TYPE, NOW, cfg)?.code).toBe('opt-out');
    expect(guardDecision(instance({ tags: { 'cost-guard:opt-out': 'true' } }), GPU_TYPE, NOW, cfg)).toBeUndefined();
  });

  it('asks to remove an idle-since tag from a newly protected instance, and reports why', () => {
    const i = instance({ tags: { 'cost-guard:opt-out': 'true', [IDLE_SINCE_TAG]: ago(30) } });
    const decision = guardDecision(i, GPU_TYPE, NOW, config);
    expect(decision).toMatchObject({ kind: 'skip', code: 'opt-out', untagIdleSince: true });
  });
});

describe('Function: decideInstance (warn then act)', () => {
  const decide = (tags: Record<string, string>, m: InstanceMetrics | undefined = idle, cfg = config) =>
    decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg);

  it('warns and tags on first detection, acting after warnMinutesBeforeAction', () => {
    const d = decide({});
    expect(d).toMatchObject({
      kind: 'warn',
      code: 'first-detection',
      tagIdleSince: NOW.toISOString(),
      actAt: ahead(60),
      confidence: 'high',
      untagIdleSince: false,
    });
  });

  it.each([
    [ago(59), 'wait'],
    [ago(60), 'act'],
    [ago(600), 'act'],
  ])('with idle-since %s decides %s', (since, kind) => {
    const d = decide({ [IDLE_SINCE_TAG]: since });
    expect(d.kind).toBe(kind);
    expect(d.tagIdleSince).toBeUndefined();
    expect(d.idleSince).toBe(since);
  });

  it.each([
    ['not a time', 'idle-since-invalid'],
    [ahead(5), 'idle-since-in-future'],
  ])('re-tags and does not act when idle-since is %s', (value, code) => {
    const d = decide({ [IDLE_SINCE_TAG]: value });
    expect(d).toMatchObject({ kind: 'warn', code, tagIdleSince: NOW.toISOString() });
  });

  it('warns again when the idle-since tag predates the last start', () => {
    const i = instance({ launchTime: ago(180), tags: { [IDLE_SINCE_TAG]: ago(600) } });
    expect(decideInstance(i, GPU_TYPE, idle, NOW, config)).toMatchObject({ kind: 'warn', code: 'idle-since-stale' });
  });

  it('acts on first detection when warnMinutesBeforeAction is 0', () => {
    const d = decide({}, idle, reaperConfig({ warnMinutesBeforeAction: 0 }));
    expect(d).toMatchObject({ kind: 'act' });
    expect(d.tagIdleSince).toBeUndefined();
  });

  it('removes the idle-since tag when the instance became busy', () => {
    const d = decide({ [IDLE_SINCE_TAG]: ago(30) }, metrics({ gpu: 70 }));
    expect(d).toMatchObject({ kind: 'busy', code: 'gpu-busy', untagIdleSince: true });
  });

  it('does nothing to a busy instance without the tag', () => {
    expect(decide({}, metrics({ cpu: 50 }))).toMatchObject({ kind: 'busy', untagIdleSince: false });
  });

  it('keeps the tag and does not act when datapoints are missing', () => {
    const d = decide({ [IDLE_SINCE_TAG]: ago(600) }, metrics({ points: 3 }));
    expect(d).toMatchObject({ kind: 'unknown', untagIdleSince: false });
  });

  it('marks a CPU-only decision low confidence', () => {
    const d = decide({ [IDLE_SINCE_TAG]: ago(600) }, metrics({ gpu: null }));
    expect(d).toMatchObject({ kind: 'act', confidence: 'low' });
    expect(d.reason).toContain('low confidence');
  });

  it('with action notify reports idle and neither tags nor untags', () => {
    const cfg = reaperConfig({ action: 'notify' });
    expect(decide({}, idle, cfg)).toMatchObject({ kind: 'notify', untagIdleSince: false });
    expect(decide({}, idle, cfg).tagIdleSince).toBeUndefined();
    expect(decide({ [IDLE_SINCE_TAG]: ago(10) }, metrics({ gpu: 90 }), cfg).untagIdleSince).toBe(false);
    expect(decide({ [IDLE_SINCE_TAG]: ago(10), 'cost-guard:opt-out': 'true' }, idle, cfg).untagIdleSince).toBe(false);
  });
});

describe('Function: orderForAction', () => {
  it('takes the oldest warning first, then the most expensive, then by ID', () => {
    // Prepare
    const d = (instanceId: string, idleSince: string) => ({ instanceId, idleSince });
    const prices: Record<string, number> = { 'i-a': 1, 'i-b': 30, 'i-c': 1, 'i-d': 1 };
    // Act
    const ordered = orderForAction(
      [d('i-a', ago(120)), d('i-b', ago(120)), d('i-c', ago(500)), d('i-d', ago(120))],
      (id) => prices[id],
    );
    // Assess
    expect(ordered.map((x) => x.instanceId)).toEqual(['i-c', 'i-b', 'i-a', 'i-d']);
  });
});

describe('Function: checkBeforeAct', () => {
  const act: Decision = { instanceId: 'i-1', kind: 'act', code: 'idle', reason: 'idle', untagIdleSince: false };

  it.each([
    ['terminate', true, 'skip', 'termination-protected'],
    ['terminate', undefined, 'skip', 'termination-protection-unknown'],
    ['terminate', false, 'act', 'idle'],
    ['stop', true, 'act', 'idle'],
  ] as const)('%s with protection %s -> %s', (action, terminationProtected, kind, code) => {
    expect(checkBeforeAct(act, action, { terminationProtected })).toMatchObject({ kind, code });
  });

  it('defers an action over the cap with the reason', () => {
    expect(deferDecision(act, 25)).toMatchObject({ kind: 'deferred', code: 'max-actions-per-run' });
  });
});

describe('Property: guard rules win over any metrics', () => {
  const series = fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 14 });
  const arbMetrics: fc.Arbitrary<InstanceMetrics | undefined> = fc.option(
    fc.record({
      gpu: fc.array(series, { maxLength: 8 }),
      cpu: fc.option(series, { nil: undefined }),
      networkIn: fc.option(fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { maxLength: 14 }), {
        nil: undefined,
      }),
      networkOut: fc.option(fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { maxLength: 14 }), {
        nil: undefined,
      }),
    }),
    { nil: undefined },
  );
  const arbConfig = fc
    .record({
      action: fc.constantFrom('terminate', 'stop', 'notify') as fc.Arbitrary<'terminate' | 'stop' | 'notify'>,
      warnMinutesBeforeAction: fc.constantFrom(0, 60),
      allowCpuOnlyDecision: fc.boolean(),
      minimumDatapointsPercent: fc.integer({ min: 0, max: 100 }),
    })
    .map((o) => reaperConfig(o));
  const arbIdleSince = fc.option(fc.constantFrom(ago(10_000), ago(30), ahead(30), 'garbage'), { nil: undefined });
  const actedOn = (d: Decision) => d.kind === 'act' || d.kind === 'warn' || d.tagIdleSince !== undefined;
  const caseVariants = fc.constantFrom('true', 'TRUE', 'True', 'tRuE', ' true ');

  const protectedCases: [string, fc.Arbitrary<Parameters<typeof instance>[0]>][] = [
    ['opted out (any case of true)', caseVariants.map((v) => ({ tags: { 'cost-guard:opt-out': v } }))],
    [
      'keep-until in the future',
      fc.integer({ min: 1, max: 500_000 }).map((m) => ({ tags: { 'cost-guard:keep-until': ahead(m) } })),
    ],
    [
      'unparseable keep-until',
      fc
        .string()
        .filter((s) => parseTagTime(s, true) === undefined)
        .map((v) => ({ tags: { 'cost-guard:keep-until': v } })),
    ],
    ['too young', fc.integer({ min: 0, max: 119 }).map((m) => ({ launchTime: ago(m) }))],
    ['an ASG member', fc.string({ minLength: 1 }).map((g) => ({ tags: { 'aws:autoscaling:groupName': g } }))],
    [
      'a Kubernetes node',
      fc
        .constantFrom('eks:cluster-name', 'eks:eks-cluster-name', 'karpenter.sh/nodepool', 'kubernetes.io/cluster/x')
        .map((k) => ({ tags: { [k]: 'ml' } })),
    ],
  ];

  it.each(protectedCases)('never acts on, tags or warns an instance that is %s', (_, arbOver) => {
    fc.assert(
      fc.property(arbOver, arbMetrics, arbConfig, arbIdleSince, (over, m, cfg, idleSince) => {
        const base = instance(over);
        const tags = { ...base.tags, ...(idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {}) };
        const d = decideInstance({ ...base, tags }, GPU_TYPE, m, NOW, cfg);
        expect(d.kind).toBe('skip');
        expect(actedOn(d)).toBe(false);
      }),
    );
  });

  it('never acts on an unknown-type instance', () => {
    fc.assert(
      fc.property(arbMetrics, arbConfig, arbIdleSince, (m, cfg, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const d = decideInstance(instance({ tags }), undefined, m, NOW, cfg);
        expect(d).toMatchObject({ kind: 'skip', code: 'unknown-type', untagIdleSince: false });
      }),
    );
  });

  it('never stops a one-time Spot instance', () => {
    fc.assert(
      fc.property(arbMetrics, arbIdleSince, (m, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const i = instance({ lifecycle: 'spot', spotRequestType: 'one-time', tags });
        const d = decideInstance(i, GPU_TYPE, m, NOW, reaperConfig({ action: 'stop', warnMinutesBeforeAction: 0 }));
        expect(d).toMatchObject({ kind: 'skip', code: 'spot-cannot-stop' });
      }),
    );
  });

  it('never terminates a termination-protected instance, whatever the metrics', () => {
    fc.assert(
      fc.property(arbMetrics, arbIdleSince, (m, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const cfg = reaperConfig({ action: 'terminate', warnMinutesBeforeAction: 0 });
        const d = checkBeforeAct(decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg), 'terminate', {
          terminationProtected: true,
        });
        expect(d.kind).not.toBe('act');
      }),
    );
  });

  it('never acts when the metrics are incomplete (unknown is never idle)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), arbIdleSince, (points, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const d = decideInstance(
          instance({ tags }),
          GPU_TYPE,
          metrics({ points }),
          NOW,
          reaperConfig({ warnMinutesBeforeAction: 0 }),
        );
        expect(d.kind).toBe('unknown');
      }),
    );
  });

  it('acts only on instances the idle policy calls idle', () => {
    fc.assert(
      fc.property(arbMetrics, arbConfig, arbIdleSince, (m, cfg, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const d = decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg);
        if (d.kind === 'act' || d.kind === 'warn' || d.kind === 'notify') expect(d.idleness?.state).toBe('idle');
      }),
    );
  });
});
