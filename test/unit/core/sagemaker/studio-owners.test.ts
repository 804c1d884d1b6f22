import { decideStudioOwner, type StudioOwnerFacts } from '../../../../lambda/core/sagemaker';
import { hoursAgo, NOW } from './fixtures';

const TAGS = { optOut: 'cost-guard:opt-out', keepUntil: 'cost-guard:keep-until' };
const SPEC = { DefaultResourceSpec: { InstanceType: 'ml.g5.xlarge' } };

function owner(
  kind: StudioOwnerFacts['kind'],
  idle: Record<string, unknown> | undefined,
  over: Partial<StudioOwnerFacts> = {},
): StudioOwnerFacts {
  return {
    kind,
    domainId: 'd-abc123',
    name: kind === 'space' ? 'team-space' : 'alice',
    arn: `arn:aws:sagemaker:us-east-1:123456789012:${kind}/d-abc123/x`,
    region: 'us-east-1',
    status: 'InService',
    tags: {},
    appSettings: { JupyterLab: { ...SPEC, ...(idle ? { AppLifecycleManagement: { IdleSettings: idle } } : {}) } },
    ...over,
  };
}

describe('Function: decideStudioOwner', () => {
  it.each([
    ['profile inheriting the domain (no idle settings of its own)', owner('user-profile', undefined), 120, 'ok'],
    [
      'profile stricter than configured',
      owner('user-profile', { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60 }),
      120,
      'ok',
    ],
    [
      'profile equal to configured',
      owner('user-profile', { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120 }),
      120,
      'ok',
    ],
    ['profile with idle shutdown off', owner('user-profile', { LifecycleManagement: 'DISABLED' }), 120, 'update'],
    [
      'profile with a longer timeout',
      owner('user-profile', { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 600 }),
      120,
      'update',
    ],
    ['space with a longer timeout', owner('space', { IdleTimeoutInMinutes: 600 }), 120, 'update'],
    ['space with a shorter timeout', owner('space', { IdleTimeoutInMinutes: 90 }), 120, 'ok'],
    [
      'profile off, no minutes configured',
      owner('user-profile', { LifecycleManagement: 'DISABLED' }),
      undefined,
      'report',
    ],
    [
      'space with a long timeout, no minutes configured',
      owner('space', { IdleTimeoutInMinutes: 600 }),
      undefined,
      'ok',
    ],
  ] as const)('%s: %s', (_name, facts, minutes, kind) => {
    expect(decideStudioOwner(facts, minutes, NOW, TAGS).kind).toBe(kind);
  });

  it('sets a profile ENABLED with the configured minutes, keeping every other field', () => {
    const d = decideStudioOwner(
      owner('user-profile', { LifecycleManagement: 'DISABLED', IdleTimeoutInMinutes: 30 }),
      120,
      NOW,
      TAGS,
    );
    expect(d.code).toBe('enforce');
    expect(d.looser).toEqual(['JupyterLab']);
    expect(d.update).toEqual({
      JupyterLabAppSettings: {
        ...SPEC,
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 },
        },
      },
    });
  });

  it('gives a space only the timeout (spaces have no ENABLED/DISABLED switch)', () => {
    const d = decideStudioOwner(owner('space', { IdleTimeoutInMinutes: 1440 }), 120, NOW, TAGS);
    expect(d.update).toEqual({
      JupyterLabAppSettings: { ...SPEC, AppLifecycleManagement: { IdleSettings: { IdleTimeoutInMinutes: 120 } } },
    });
  });

  it('leaves a stricter app alone while enforcing a looser one', () => {
    const facts = owner('user-profile', { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60 }, {});
    const both: StudioOwnerFacts = {
      ...facts,
      appSettings: {
        ...facts.appSettings,
        CodeEditor: { AppLifecycleManagement: { IdleSettings: { LifecycleManagement: 'DISABLED' } } },
      },
    };
    const d = decideStudioOwner(both, 120, NOW, TAGS);
    expect(d.looser).toEqual(['CodeEditor']);
    expect(Object.keys(d.update ?? {})).toEqual(['CodeEditorAppSettings']);
  });

  it.each([
    ['opt-out', { tags: { 'cost-guard:opt-out': 'true' } }, 'skip'],
    ['keep-until', { tags: { 'cost-guard:keep-until': hoursAgo(-24) } }, 'skip'],
    ['keep-until-invalid', { tags: { 'cost-guard:keep-until': 'someday' } }, 'skip'],
    ['tags-unknown', { tagsUnknown: true }, 'skip'],
    ['not-in-service', { status: 'Updating' }, 'skip'],
    ['cloudformation-managed', { tags: { 'aws:cloudformation:stack-name': 'studio' } }, 'skip'],
  ] as const)('holds the update back: %s', (code, over, kind) => {
    const d = decideStudioOwner(owner('user-profile', { LifecycleManagement: 'DISABLED' }, over), 120, NOW, TAGS);
    expect(d.kind).toBe(kind);
    expect(d.code).toBe(code);
    expect(d.update).toBeDefined();
  });

  it('only reports when the run is report-only (no Slack token)', () => {
    const d = decideStudioOwner(owner('space', { IdleTimeoutInMinutes: 600 }), 120, NOW, TAGS, 'no Slack token');
    expect(d.kind).toBe('report');
    expect(d.code).toBe('report-only');
    expect(d.reason).toContain('no Slack token');
  });
});
