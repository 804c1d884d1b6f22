import fc from 'fast-check';
import {
  checkBeforeAct,
  decideInstance,
  deferDecision,
  guardDecision,
  orderForAction,
  parseTagTime,
} from '../../../../lambda/core/reaper/decide';
import {
  type Decision,
  IDLE_SINCE_TAG,
  type InstanceMetrics,
  type KeepState,
  type WarningState,
} from '../../../../lambda/core/reaper/types';
import { CPU_TYPE, GPU_TYPE, instance, metrics, NEURON_TYPE, NOW, reaperConfig } from './fixtures';

const config = reaperConfig();
const idle = metrics();
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const ahead = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

/** A warning of a stop that Slack accepted `minutes` ago (idle five minutes before), for the fixture instance. */
function delivered(minutes: number, over: Partial<WarningState> = {}): WarningState {
  const base: WarningState = {
    instanceId: instance().instanceId,
    region: 'us-east-1',
    status: 'delivered',
    idleSince: ago(minutes + 5),
    launchTime: instance().launchTime!,
    action: 'stop',
    warnedAt: ago(minutes),
    slackChannel: 'C0TEST',
    slackTs: '1700000000.000100',
    actionDue: ago(minutes - 60),
  };
  const w = { ...base, ...over };
  return Object.fromEntries(Object.entries(w).filter(([, v]) => v !== undefined)) as unknown as WarningState;
}

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

  it('asks to clear the warning (record and mirror tag) of a newly protected instance, and reports why', () => {
    const i = instance({ tags: { 'cost-guard:opt-out': 'true', [IDLE_SINCE_TAG]: ago(30) } });
    expect(guardDecision(i, GPU_TYPE, NOW, config)).toMatchObject({
      kind: 'skip',
      code: 'opt-out',
      clearWarning: true,
    });
    const untagged = instance({ tags: { 'cost-guard:opt-out': 'true' } });
    expect(guardDecision(untagged, GPU_TYPE, NOW, config, delivered(30))?.clearWarning).toBe(true);
    expect(guardDecision(untagged, GPU_TYPE, NOW, config)?.clearWarning).toBe(false);
  });
});

describe('Function: decideInstance (warn then act on the warning record)', () => {
  const decide = (
    warning: WarningState | undefined,
    m: InstanceMetrics | undefined = idle,
    cfg = config,
    tags: Record<string, string> = {},
  ) => decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg, warning ? { warning } : {});

  it('warns on first detection, announcing the action after warnMinutesBeforeAction', () => {
    expect(decide(undefined)).toMatchObject({
      kind: 'warn',
      code: 'first-detection',
      idleSince: NOW.toISOString(),
      actAt: ahead(60),
      warning: { idleSince: NOW.toISOString(), action: 'stop' },
      confidence: 'high',
      clearWarning: false,
    });
  });

  it.each([
    [59, 'wait'],
    [60, 'act'],
    [600, 'act'],
  ])('with a warning Slack accepted %s minutes ago decides %s', (minutes, kind) => {
    const d = decide(delivered(minutes));
    expect(d.kind).toBe(kind);
    expect(d.warning).toBeUndefined();
    expect(d.idleSince).toBe(ago(minutes + 5));
    if (kind === 'act') expect(d).toMatchObject({ warnedAt: ago(minutes) });
  });

  it('never acts before the due time the warning announced, even when the grace period was shortened', () => {
    const w = { ...delivered(30), actionDue: ahead(30) };
    const d = decide(w, idle, reaperConfig({ warnMinutesBeforeAction: 10 }));
    expect(d).toMatchObject({ kind: 'wait', actAt: ahead(30) });
  });

  it('waits for a longer grace period configured after the warning', () => {
    expect(decide(delivered(90), idle, reaperConfig({ warnMinutesBeforeAction: 120 }))).toMatchObject({
      kind: 'wait',
      actAt: ahead(30),
    });
  });

  it.each([
    ['never reached Slack', { ...delivered(600), status: 'pending' as const }, 'warning-undelivered'],
    ['was written before the last start', delivered(600, { launchTime: ago(3000) }), 'restarted'],
    ['announced another action', delivered(600, { action: 'terminate' }), 'action-changed'],
    ['announced no action', delivered(600, { action: undefined }), 'action-changed'],
  ])('warns again, never acts, when the warning on record %s', (_, w, code) => {
    const d = decideInstance(instance(), GPU_TYPE, idle, NOW, config, { warning: w });
    expect(d).toMatchObject({ kind: 'warn', code, warning: { action: 'stop' } });
  });

  it('acts on a warning due up to a day ago, and warns again (never acts) once it is staler than that', () => {
    // Prepare: an instance running for ten days, warned 25 h and 25 h + 1 min ago (due 1 h later, grace 60 min)
    const old = instance({ launchTime: ago(10 * 24 * 60) });
    const warned = (minutes: number) => delivered(minutes, { launchTime: old.launchTime! });
    const run = (w: WarningState) => decideInstance(old, GPU_TYPE, idle, NOW, config, { warning: w });
    // Act + Assess
    expect(run(warned(60 + 24 * 60)).kind).toBe('act');
    expect(run(warned(60 + 24 * 60 + 1))).toMatchObject({
      kind: 'warn',
      code: 'warning-stale',
      warning: { action: 'stop' },
    });
  });

  it('keeps the idle-since of a warning of the same launch when it warns again', () => {
    expect(decide({ ...delivered(600), status: 'pending' }).idleSince).toBe(ago(605));
  });

  it('never reads the idle-since tag: a back-dated or forged one changes nothing', () => {
    expect(decide(undefined, idle, config, { [IDLE_SINCE_TAG]: ago(6000) })).toMatchObject({
      kind: 'warn',
      code: 'first-detection',
    });
    expect(decide(delivered(90), idle, config, { [IDLE_SINCE_TAG]: ahead(600) }).kind).toBe('act');
  });

  it('with warnMinutesBeforeAction 0, acts on the run after Slack accepted the warning, never before', () => {
    const cfg = reaperConfig({ warnMinutesBeforeAction: 0 });
    expect(decide(undefined, idle, cfg)).toMatchObject({ kind: 'warn', actAt: NOW.toISOString() });
    expect(decide(delivered(0, { actionDue: NOW.toISOString() }), idle, cfg).kind).toBe('act');
  });

  it('clears the warning when the instance became busy', () => {
    expect(decide(delivered(30), metrics({ gpu: 70 }))).toMatchObject({
      kind: 'busy',
      code: 'gpu-busy',
      clearWarning: true,
    });
    // A mirror tag alone (say, written by hand) is removed too.
    expect(decide(undefined, metrics({ gpu: 70 }), config, { [IDLE_SINCE_TAG]: ago(30) }).clearWarning).toBe(true);
  });

  it('does nothing to a busy instance without a warning', () => {
    expect(decide(undefined, metrics({ cpu: 50 }))).toMatchObject({ kind: 'busy', clearWarning: false });
  });

  it('keeps the warning and does not act when datapoints are missing', () => {
    expect(decide(delivered(600), metrics({ points: 3 }))).toMatchObject({ kind: 'unknown', clearWarning: false });
  });

  describe('without per-instance GPU series (low confidence)', () => {
    const cpuOnly = metrics({ gpu: null });

    it('warns once with a warning that announces no action, then waits, by default', () => {
      const first = decide(undefined, cpuOnly);
      expect(first).toMatchObject({ kind: 'warn', code: 'low-confidence', confidence: 'low', warning: {} });
      expect(first.warning?.action).toBeUndefined();
      expect(first.actAt).toBeUndefined();
      expect(first.reason).toContain('idleGpu.actOnCpuOnlyEvidence is off');
      const reported = delivered(600, { action: undefined, actionDue: undefined });
      expect(decide(reported, cpuOnly)).toMatchObject({ kind: 'wait', code: 'low-confidence' });
      // A delivered warning of a stop (say, before the agent stopped publishing) is not acted on either.
      expect(decide(delivered(600), cpuOnly)).toMatchObject({ kind: 'wait', code: 'low-confidence' });
    });

    it('stops with actOnCpuOnlyEvidence, after a warning of the stop', () => {
      const cfg = reaperConfig({ actOnCpuOnlyEvidence: true });
      expect(decide(undefined, cpuOnly, cfg)).toMatchObject({ kind: 'warn', warning: { action: 'stop' } });
      expect(decide(delivered(600), cpuOnly, cfg)).toMatchObject({ kind: 'act', confidence: 'low' });
      expect(decide(delivered(600), cpuOnly, cfg).reason).toContain('low confidence');
    });

    it('never terminates, whatever the config says', () => {
      const cfg = reaperConfig({ action: 'terminate', actOnCpuOnlyEvidence: true });
      const d = decide(delivered(600, { action: 'terminate' }), cpuOnly, cfg);
      expect(d).toMatchObject({ kind: 'wait', code: 'low-confidence' });
      expect(d.reason).toContain('never terminated on CPU and network alone');
    });
  });

  it('reports only, changing nothing, when the run cannot deliver a warning', () => {
    const i = instance();
    const d = decideInstance(i, GPU_TYPE, idle, NOW, config, { warning: delivered(600), reportOnly: 'no Slack token' });
    expect(d).toMatchObject({ kind: 'notify', code: 'report-only', clearWarning: false });
    expect(d.reason).toContain('no Slack token');
    expect(d.warning).toBeUndefined();
  });

  it('with action notify reports idle and neither records nor clears anything', () => {
    const cfg = reaperConfig({ action: 'notify' });
    expect(decide(undefined, idle, cfg)).toMatchObject({ kind: 'notify', clearWarning: false });
    expect(decide(undefined, idle, cfg).warning).toBeUndefined();
    expect(decide(delivered(10), metrics({ gpu: 90 }), cfg).clearWarning).toBe(false);
    expect(decide(delivered(10), idle, cfg, { 'cost-guard:opt-out': 'true' }).clearWarning).toBe(false);
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
  const act: Decision = { instanceId: 'i-1', kind: 'act', code: 'idle', reason: 'idle', clearWarning: false };

  it.each([
    ['terminate', true, 'skip', 'termination-protected'],
    ['terminate', undefined, 'skip', 'termination-protection-unknown'],
    ['terminate', false, 'act', 'idle'],
    ['stop', true, 'act', 'idle'],
  ] as const)('%s with protection %s -> %s', (action, terminationProtected, kind, code) => {
    expect(checkBeforeAct(act, action, { terminationProtected })).toMatchObject({ kind, code });
  });

  it('defers an action over the limit of the period with the reason', () => {
    const d = deferDecision(act, 25);
    expect(d).toMatchObject({ kind: 'deferred', code: 'max-actions-per-run' });
    expect(d.reason).toContain('action limit for this period reached');
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
      actOnCpuOnlyEvidence: fc.boolean(),
      minimumDatapointsPercent: fc.integer({ min: 0, max: 100 }),
    })
    .map((o) => reaperConfig(o));
  const arbIdleSince = fc.option(fc.constantFrom(ago(10_000), ago(30), ahead(30), 'garbage'), { nil: undefined });
  const actedOn = (d: Decision) => d.kind === 'act' || d.kind === 'warn' || d.warning !== undefined;
  /** A stop warning Slack accepted long ago: without a guard rule, an idle instance would be acted on. */
  const due = { warning: delivered(600) };
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
        const d = decideInstance({ ...base, tags }, GPU_TYPE, m, NOW, cfg, due);
        expect(d.kind).toBe('skip');
        expect(actedOn(d)).toBe(false);
      }),
    );
  });

  it('never acts on an unknown-type instance', () => {
    fc.assert(
      fc.property(arbMetrics, arbConfig, arbIdleSince, (m, cfg, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const d = decideInstance(instance({ tags }), undefined, m, NOW, cfg, due);
        expect(d).toMatchObject({ kind: 'skip', code: 'unknown-type', clearWarning: false });
      }),
    );
  });

  it('never stops a one-time Spot instance', () => {
    fc.assert(
      fc.property(arbMetrics, arbIdleSince, (m, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const i = instance({ lifecycle: 'spot', spotRequestType: 'one-time', tags });
        const d = decideInstance(
          i,
          GPU_TYPE,
          m,
          NOW,
          reaperConfig({ action: 'stop', warnMinutesBeforeAction: 0 }),
          due,
        );
        expect(d).toMatchObject({ kind: 'skip', code: 'spot-cannot-stop' });
      }),
    );
  });

  it('never terminates a termination-protected instance, whatever the metrics', () => {
    fc.assert(
      fc.property(arbMetrics, arbIdleSince, (m, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const cfg = reaperConfig({ action: 'terminate', warnMinutesBeforeAction: 0 });
        const d = checkBeforeAct(decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg, due), 'terminate', {
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
          due,
        );
        expect(d.kind).toBe('unknown');
      }),
    );
  });

  it('acts only on instances the idle policy calls idle', () => {
    fc.assert(
      fc.property(arbMetrics, arbConfig, arbIdleSince, (m, cfg, idleSince) => {
        const tags: Record<string, string> = idleSince ? { [IDLE_SINCE_TAG]: idleSince } : {};
        const d = decideInstance(instance({ tags }), GPU_TYPE, m, NOW, cfg, due);
        if (d.kind === 'act' || d.kind === 'warn' || d.kind === 'notify') expect(d.idleness?.state).toBe('idle');
      }),
    );
  });
});

describe('Keep records (set from Slack or `cost-guard keep`)', () => {
  const keep = (until: string, over: Partial<KeepState> = {}): KeepState => ({
    instanceId: instance().instanceId,
    region: 'us-east-1',
    until,
    by: 'U0ALICE01',
    byName: 'alice',
    reason: 'eval run resumes at 3',
    setAt: ago(30),
    ...over,
  });

  it('skips an instance while its keep lasts, whatever the metrics and the warning on record, naming who and why', () => {
    // Act
    const d = decideInstance(instance(), GPU_TYPE, idle, NOW, config, {
      warning: delivered(120),
      keep: keep(ahead(1)),
    });
    // Assess
    expect(d).toMatchObject({ kind: 'skip', code: 'keep-until', clearWarning: true });
    expect(d.reason).toBe(`kept until ${ahead(1)} by alice (U0ALICE01): eval run resumes at 3`);
  });

  it('skips before any metric is fetched (guardDecision), and a keep with an end that does not parse protects', () => {
    expect(guardDecision(instance(), GPU_TYPE, NOW, config, undefined, keep(ahead(60)))?.code).toBe('keep-until');
    expect(guardDecision(instance(), GPU_TYPE, NOW, config, undefined, keep('soon'))?.code).toBe('keep-until');
    expect(guardDecision(instance(), GPU_TYPE, NOW, config, undefined, keep(ago(1)))).toBeUndefined();
  });

  it('protects when either the tag or the record keeps the instance', () => {
    // Prepare
    const taggedOnly = instance({ tags: { 'cost-guard:keep-until': ahead(60) } });
    const taggedPast = instance({ tags: { 'cost-guard:keep-until': ago(60) } });
    // Act / Assess
    expect(decideInstance(taggedOnly, GPU_TYPE, idle, NOW, config, { keep: keep(ago(5)) }).code).toBe('keep-until');
    expect(decideInstance(taggedPast, GPU_TYPE, idle, NOW, config, { keep: keep(ahead(5)) }).code).toBe('keep-until');
  });

  it('after the keep ended, warns again before any action: a warning given before the keep ended is spent', () => {
    // Prepare: warned 5 hours ago (due 4 hours ago), kept for 4 hours from then, the keep ended 10 minutes ago
    const d = decideInstance(instance(), GPU_TYPE, idle, NOW, config, {
      warning: delivered(300),
      keep: keep(ago(10), { setAt: ago(250) }),
    });
    // Assess
    expect(d).toMatchObject({ kind: 'warn', code: 'keep-expired', warning: { action: 'stop' } });
    expect(d.actAt).toBe(ahead(60));
  });

  it('acts on a warning given after the keep ended, once its grace period has passed', () => {
    // Act: keep ended 3 hours ago, warned (again) 2 hours ago
    const d = decideInstance(instance(), GPU_TYPE, idle, NOW, config, {
      warning: delivered(120),
      keep: keep(ago(180)),
    });
    // Assess
    expect(d.kind).toBe('act');
  });

  it('never acts while a keep lasts (property over keep ends, warnings and metrics)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 * 24 * 30 }),
        fc.integer({ min: 0, max: 60 * 24 * 3 }),
        fc.constantFrom(0, 3, 90),
        (keptFor, warnedAgo, gpu) => {
          const d = decideInstance(instance(), GPU_TYPE, metrics({ gpu }), NOW, config, {
            warning: delivered(warnedAgo),
            keep: keep(ahead(keptFor)),
          });
          expect(d.kind).toBe('skip');
        },
      ),
    );
  });
});
