import {
  checkBeforeDelete,
  decideEndpoint,
  decideNotebook,
  deferSageMakerDecision,
  isAcceleratedType,
  isEndpointOfInterest,
  type SageMakerWarning,
  totalInvocations,
} from '../../../../lambda/core/sagemaker';
import { endpoint, guardConfig, hoursAgo, minutesAfter, NOW, notebook, silent } from './fixtures';

const config = guardConfig();

/** A warning Slack accepted `minutesAgo` minutes before NOW. */
function delivered(over: Partial<SageMakerWarning> = {}, minutesAgo = 120): SageMakerWarning {
  const at = new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
  return {
    key: 'endpoint/llm-demo',
    region: 'us-east-1',
    status: 'delivered',
    idleSince: at,
    action: 'delete',
    identity: endpoint().creationTime!,
    warnedAt: at,
    slackChannel: 'C1',
    slackTs: '1.2',
    actionDue: new Date(Date.parse(at) + 60 * 60_000).toISOString(),
    ...over,
  };
}

describe('Function: isAcceleratedType', () => {
  it.each([
    ['ml.g4dn.xlarge', true],
    ['ml.g5.48xlarge', true],
    ['ml.g6e.2xlarge', true],
    ['ml.p4d.24xlarge', true],
    ['ml.p5.48xlarge', true],
    ['ml.inf2.xlarge', true],
    ['ml.trn1.32xlarge', true],
    ['ml.m5.xlarge', false],
    ['ml.c6i.large', false],
    ['ml.t3.medium', false],
    // Starts with ml.g but is no GPU family: a digit must follow the letters.
    ['ml.geospatial.interactive', false],
    ['g5.xlarge', false],
  ])('%s is %s', (type, expected) => {
    expect(isAcceleratedType(type)).toBe(expected);
  });
});

describe('Function: decideEndpoint (guard rules)', () => {
  it.each<[string, Parameters<typeof endpoint>[0], string]>([
    ['an endpoint not InService', { status: 'Updating' }, 'not-in-service'],
    [
      'a serverless endpoint',
      { variants: [{ variantName: 'AllTraffic', serverless: true, instanceType: 'ml.g5.xlarge' }] },
      'serverless',
    ],
    ['an asynchronous endpoint', { async: true }, 'async-endpoint'],
    [
      'an endpoint hosting inference components with instances',
      { inferenceComponents: { count: 2, names: ['a', 'b'] } },
      'inference-components',
    ],
    [
      'inference components scaled to zero instances',
      {
        inferenceComponents: { count: 1, names: ['a'] },
        variants: [
          { variantName: 'AllTraffic', instanceType: 'ml.g5.xlarge', serverless: false, currentInstanceCount: 0 },
        ],
      },
      'scaled-to-zero',
    ],
    [
      'every GPU variant at zero instances',
      {
        variants: [
          { variantName: 'AllTraffic', instanceType: 'ml.g5.xlarge', serverless: false, currentInstanceCount: 0 },
        ],
      },
      'scaled-to-zero',
    ],
    ['an opted-out endpoint', { tags: { 'cost-guard:opt-out': ' True ' } }, 'opt-out'],
    ['a kept endpoint', { tags: { 'cost-guard:keep-until': '2026-12-01' } }, 'keep-until'],
    ['a keep-until that is no date', { tags: { 'cost-guard:keep-until': 'forever' } }, 'keep-until-invalid'],
    ['an endpoint whose tags could not be read', { tagsUnknown: true }, 'tags-unknown'],
    ['an endpoint without a creation time', { creationTime: undefined }, 'age-unknown'],
    [
      'an endpoint younger than the window',
      { creationTime: hoursAgo(23), lastModifiedTime: hoursAgo(23) },
      'too-young',
    ],
    [
      'an old endpoint updated within the window',
      { creationTime: hoursAgo(24 * 90), lastModifiedTime: hoursAgo(3) },
      'too-young',
    ],
  ])('skips %s whatever its Invocations', (_, over, code) => {
    // Prepare
    const e = endpoint(over);
    // Act
    const d = decideEndpoint(e, silent(e), NOW, config);
    // Assess
    expect(d).toMatchObject({ kind: 'skip', code });
    expect(d.warning).toBeUndefined();
  });

  it('lets a keep-until in the past lapse', () => {
    const e = endpoint({ tags: { 'cost-guard:keep-until': '2026-11-01' } });
    expect(decideEndpoint(e, silent(e), NOW, config).kind).toBe('warn');
  });

  it('clears the warning of an endpoint opted out since it was warned', () => {
    const e = endpoint({ tags: { 'cost-guard:opt-out': 'true' } });
    expect(decideEndpoint(e, silent(e), NOW, config, { warning: delivered() })).toMatchObject({
      kind: 'skip',
      clearWarning: true,
    });
  });

  it('leaves endpoints on CPU instances only out of the report altogether', () => {
    const cpu = endpoint({ variants: [{ variantName: 'v', instanceType: 'ml.m5.xlarge', serverless: false }] });
    expect(isEndpointOfInterest(cpu)).toBe(false);
    expect(isEndpointOfInterest(endpoint())).toBe(true);
    // Serverless: reported as skipped.
    expect(isEndpointOfInterest(endpoint({ variants: [{ variantName: 'v', serverless: true }] }))).toBe(true);
  });
});

describe('Function: decideEndpoint (evidence)', () => {
  it('reads an endpoint older than the window with no datapoint as idle, and warns first', () => {
    // Prepare: SageMaker publishes no Invocations datapoint for an hour without requests.
    const e = endpoint();
    // Act
    const d = decideEndpoint(e, { AllTraffic: [] }, NOW, config);
    // Assess
    expect(d).toMatchObject({ kind: 'warn', code: 'first-detection', invocations: 0 });
    expect(d.warning).toEqual({ idleSince: NOW.toISOString(), action: 'delete', identity: e.creationTime });
    expect(d.actAt).toBe(minutesAfter(60).toISOString());
  });

  it('never calls an endpoint idle when its metrics could not be read', () => {
    expect(decideEndpoint(endpoint(), undefined, NOW, config)).toMatchObject({
      kind: 'unknown',
      code: 'metrics-unavailable',
      clearWarning: false,
    });
  });

  it('treats a variant missing from a successful read as unknown, not as silent', () => {
    const e = endpoint({
      variants: [
        { variantName: 'A', instanceType: 'ml.g5.xlarge', serverless: false, currentInstanceCount: 1 },
        { variantName: 'B', instanceType: 'ml.g5.xlarge', serverless: false, currentInstanceCount: 1 },
      ],
    });
    expect(totalInvocations(e, { A: [] })).toBeUndefined();
    expect(decideEndpoint(e, { A: [] }, NOW, config).kind).toBe('unknown');
  });

  it('keeps a multi-variant endpoint when one variant is busy, even a CPU one', () => {
    // Prepare: two GPU variants silent, a CPU shadow variant with traffic.
    const e = endpoint({
      variants: [
        { variantName: 'gpu-a', instanceType: 'ml.g5.2xlarge', serverless: false, currentInstanceCount: 2 },
        { variantName: 'gpu-b', instanceType: 'ml.p4d.24xlarge', serverless: false, currentInstanceCount: 1 },
        { variantName: 'cpu', instanceType: 'ml.m5.xlarge', serverless: false, currentInstanceCount: 1 },
      ],
    });
    // Act
    const d = decideEndpoint(e, { 'gpu-a': [], 'gpu-b': [0, 0], cpu: [3, 4] }, NOW, config, { warning: delivered() });
    // Assess: busy, and the warning on record is cancelled
    expect(d).toMatchObject({ kind: 'busy', code: 'invoked', invocations: 7, clearWarning: true });
    expect(d.reason).toContain('cpu 7');
  });

  it('only reports an idle endpoint a CloudFormation stack manages', () => {
    const e = endpoint({ tags: { 'aws:cloudformation:stack-name': 'serving-prod' } });
    const d = decideEndpoint(e, silent(e), NOW, config, { warning: delivered({}, 600) });
    expect(d).toMatchObject({ kind: 'notify', code: 'cloudformation-managed' });
    expect(d.reason).toContain('serving-prod');
  });

  it('only reports with action notify, and keeps the warning on record', () => {
    const e = endpoint();
    const d = decideEndpoint(e, silent(e), NOW, guardConfig({ action: 'notify' }), { warning: delivered({}, 600) });
    expect(d).toMatchObject({ kind: 'notify', code: 'idle', clearWarning: false });
  });

  it('only reports when the run cannot deliver a warning (no Slack token, no table)', () => {
    const e = endpoint();
    const d = decideEndpoint(e, silent(e), NOW, config, { warning: delivered({}, 600), reportOnly: 'no Slack token' });
    expect(d).toMatchObject({ kind: 'notify', code: 'report-only' });
    expect(d.reason).toContain('no Slack token');
  });
});

describe('Function: decideEndpoint (warn then act)', () => {
  const e = endpoint();

  it('waits while the grace period since Slack accepted the warning runs', () => {
    const d = decideEndpoint(e, silent(e), NOW, config, { warning: delivered({}, 30) });
    expect(d).toMatchObject({ kind: 'wait', code: 'warned' });
    expect(d.actAt).toBe(minutesAfter(30).toISOString());
  });

  it('acts once the grace period has passed since Slack accepted the warning', () => {
    const d = decideEndpoint(e, silent(e), NOW, config, { warning: delivered({}, 61) });
    expect(d).toMatchObject({ kind: 'act', code: 'idle' });
    expect(d.warnedAt).toBe(new Date(NOW.getTime() - 61 * 60_000).toISOString());
  });

  it('never acts on a warning Slack did not accept: it warns again', () => {
    const pending = delivered({ status: 'pending', warnedAt: undefined, slackTs: undefined }, 600);
    expect(decideEndpoint(e, silent(e), NOW, config, { warning: pending })).toMatchObject({
      kind: 'warn',
      code: 'warning-undelivered',
    });
  });

  it('warns again for an endpoint recreated under the same name since the warning', () => {
    const old = delivered({ identity: hoursAgo(24 * 400) }, 600);
    expect(decideEndpoint(e, silent(e), NOW, config, { warning: old })).toMatchObject({
      kind: 'warn',
      code: 'recreated',
    });
  });

  it('never acts before the time the message announced, even with a shorter grace now', () => {
    const w = delivered({ actionDue: minutesAfter(10).toISOString() }, 200);
    expect(decideEndpoint(e, silent(e), NOW, guardConfig({ warnMinutesBeforeAction: 0 }), { warning: w }).kind).toBe(
      'wait',
    );
  });

  it('ignores a warning dated in the future (a clock or a record nobody should trust)', () => {
    const w = delivered({ warnedAt: minutesAfter(60).toISOString(), idleSince: minutesAfter(60).toISOString() });
    expect(decideEndpoint(e, silent(e), NOW, config, { warning: w })).toMatchObject({ kind: 'warn' });
  });

  it('defers an act over the period limit, keeping why it would act', () => {
    const act = decideEndpoint(e, silent(e), NOW, config, { warning: delivered({}, 61) });
    const d = deferSageMakerDecision(act, 3);
    expect(d).toMatchObject({ kind: 'deferred', code: 'max-actions-per-run' });
    expect(d.reason).toContain('maxActionsPerRun 3');
  });
});

describe('Function: checkBeforeDelete', () => {
  const act = decideEndpoint(endpoint(), silent(endpoint()), NOW, config, { warning: delivered({}, 61) });

  it.each([
    ['already Deleting', { status: 'Deleting', endpointConfigName: 'llm-demo-config' }, /Deleting now/],
    ['Updating', { status: 'Updating', endpointConfigName: 'llm-demo-config' }, /Updating now/],
    ['gone', undefined, /could not be described/],
    ['on another config now', { status: 'InService', endpointConfigName: 'v2' }, /config changed/],
  ])('does not delete an endpoint %s', (_, seen, reason) => {
    const d = checkBeforeDelete(act, seen, 'llm-demo-config');
    expect(d.kind).toBe('skip');
    expect(d.reason).toMatch(reason);
  });

  it('deletes an endpoint still InService on the same config', () => {
    expect(
      checkBeforeDelete(act, { status: 'InService', endpointConfigName: 'llm-demo-config' }, 'llm-demo-config'),
    ).toBe(act);
  });
});

describe('Function: decideNotebook', () => {
  it('reports a GPU notebook with its lifecycle configuration when notebookMaxHours is not set', () => {
    const d = decideNotebook(notebook({ lifecycleConfigName: 'auto-stop' }), NOW, config);
    expect(d).toMatchObject({ kind: 'report', code: 'gpu-notebook' });
    expect(d.reason).toContain("lifecycle configuration 'auto-stop' attached");
  });

  it('reports one under its hours', () => {
    const d = decideNotebook(notebook(), NOW, guardConfig({ notebookMaxHours: 200 }));
    expect(d).toMatchObject({ kind: 'report', code: 'under-max-hours' });
    expect(d.reason).toContain('no lifecycle configuration');
  });

  it('warns about one over its hours, dating it from when it crossed the limit', () => {
    const d = decideNotebook(notebook(), NOW, guardConfig({ notebookMaxHours: 72 }));
    expect(d).toMatchObject({ kind: 'warn', code: 'first-detection' });
    expect(d.warning).toMatchObject({ action: 'stop', identity: hoursAgo(100), idleSince: hoursAgo(28) });
  });

  it('stops it once Slack accepted the warning and the grace period passed', () => {
    const w: SageMakerWarning = {
      ...delivered({}, 90),
      key: 'notebook/alice-nb',
      action: 'stop',
      identity: hoursAgo(100),
    };
    expect(decideNotebook(notebook(), NOW, guardConfig({ notebookMaxHours: 72 }), { warning: w }).kind).toBe('act');
  });

  it('warns again about a notebook stopped and started since the warning', () => {
    const w: SageMakerWarning = {
      ...delivered({}, 90),
      key: 'notebook/alice-nb',
      action: 'stop',
      identity: hoursAgo(500),
    };
    expect(decideNotebook(notebook(), NOW, guardConfig({ notebookMaxHours: 72 }), { warning: w })).toMatchObject({
      kind: 'warn',
      code: 'recreated',
    });
  });

  it.each<[string, Parameters<typeof notebook>[0], string]>([
    ['opted out', { tags: { 'cost-guard:opt-out': 'TRUE' } }, 'opt-out'],
    ['kept', { tags: { 'cost-guard:keep-until': '2027-01-01' } }, 'keep-until'],
    ['whose tags could not be read', { tagsUnknown: true }, 'tags-unknown'],
    ['whose in-service time is unknown', { lastModifiedTime: undefined, creationTime: undefined }, 'age-unknown'],
  ])('never stops a notebook %s', (_, over, code) => {
    expect(decideNotebook(notebook(over), NOW, guardConfig({ notebookMaxHours: 1 }))).toMatchObject({
      kind: 'skip',
      code,
    });
  });
});
