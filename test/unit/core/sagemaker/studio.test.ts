import {
  appAgeHours,
  decideStudioDomain,
  enforcedIdleSettings,
  isGpuApp,
  type StudioDomainFacts,
} from '../../../../lambda/core/sagemaker';
import { hoursAgo, NOW } from './fixtures';

const TAGS = { optOut: 'cost-guard:opt-out', keepUntil: 'cost-guard:keep-until' };

function domain(over: Partial<StudioDomainFacts> = {}): StudioDomainFacts {
  return {
    domainId: 'd-abc123',
    name: 'research',
    region: 'us-east-1',
    status: 'InService',
    tags: {},
    appSettings: {
      JupyterLab: { DefaultResourceSpec: { InstanceType: 'ml.t3.medium' }, CustomImages: [{ ImageName: 'torch' }] },
    },
    ...over,
  };
}

describe('Function: enforcedIdleSettings', () => {
  it('enables idle shutdown with the configured minutes where it is off or unset', () => {
    expect(enforcedIdleSettings(undefined, 120)).toEqual({
      LifecycleManagement: 'ENABLED',
      IdleTimeoutInMinutes: 120,
      MaxIdleTimeoutInMinutes: 120,
    });
    expect(enforcedIdleSettings({ LifecycleManagement: 'DISABLED', IdleTimeoutInMinutes: 30 }, 120)).toMatchObject({
      LifecycleManagement: 'ENABLED',
      IdleTimeoutInMinutes: 120,
    });
  });

  it('leaves a stricter setting alone', () => {
    expect(
      enforcedIdleSettings(
        { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60, MaxIdleTimeoutInMinutes: 90 },
        120,
      ),
    ).toBeUndefined();
  });

  it('lowers a looser timeout and bound, keeping a shorter default', () => {
    expect(
      enforcedIdleSettings(
        {
          LifecycleManagement: 'ENABLED',
          IdleTimeoutInMinutes: 60,
          MinIdleTimeoutInMinutes: 60,
          MaxIdleTimeoutInMinutes: 1440,
        },
        120,
      ),
    ).toEqual({
      LifecycleManagement: 'ENABLED',
      IdleTimeoutInMinutes: 60,
      MinIdleTimeoutInMinutes: 60,
      MaxIdleTimeoutInMinutes: 120,
    });
    expect(enforcedIdleSettings({ LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 480 }, 120)).toMatchObject({
      IdleTimeoutInMinutes: 120,
      MaxIdleTimeoutInMinutes: 120,
    });
  });
});

describe('Function: decideStudioDomain', () => {
  it('reports a domain without idle shutdown when no minutes are configured', () => {
    const d = decideStudioDomain(domain(), undefined, NOW, TAGS);
    expect(d).toMatchObject({ kind: 'report', code: 'no-minutes', withoutIdleShutdown: true });
    expect(d.reason).toContain('JupyterLab and CodeEditor');
    expect(d.update).toBeUndefined();
  });

  it('updates both app types, sending back every other field of the settings as read', () => {
    // Act
    const d = decideStudioDomain(domain(), 120, NOW, TAGS);
    // Assess
    expect(d.kind).toBe('update');
    expect(d.update).toEqual({
      JupyterLabAppSettings: {
        DefaultResourceSpec: { InstanceType: 'ml.t3.medium' },
        CustomImages: [{ ImageName: 'torch' }],
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 },
        },
      },
      CodeEditorAppSettings: {
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 },
        },
      },
    });
  });

  it('changes nothing on a domain already as strict', () => {
    const strict = {
      AppLifecycleManagement: {
        IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60, MaxIdleTimeoutInMinutes: 60 },
      },
    };
    const d = decideStudioDomain(domain({ appSettings: { JupyterLab: strict, CodeEditor: strict } }), 120, NOW, TAGS);
    expect(d).toMatchObject({ kind: 'ok', code: 'already-strict', withoutIdleShutdown: false });
  });

  it.each<[string, Partial<StudioDomainFacts>, string | undefined, string]>([
    ['opted out', { tags: { 'cost-guard:opt-out': 'true' } }, undefined, 'opt-out'],
    ['kept', { tags: { 'cost-guard:keep-until': '2027-01-01' } }, undefined, 'keep-until'],
    ['kept by a tag that is no date', { tags: { 'cost-guard:keep-until': 'soon' } }, undefined, 'keep-until-invalid'],
    [
      'managed by CloudFormation',
      { tags: { 'aws:cloudformation:stack-name': 'studio' } },
      undefined,
      'cloudformation-managed',
    ],
    ['whose tags could not be read', { tagsUnknown: true }, undefined, 'tags-unknown'],
    ['not InService', { status: 'Updating' }, undefined, 'not-in-service'],
    ['in a run that cannot deliver a message', {}, 'no Slack token', 'report-only'],
  ])('describes the update but holds it for a domain %s', (_, over, reportOnly, code) => {
    const d = decideStudioDomain(domain(over), 120, NOW, TAGS, reportOnly);
    expect(d.code).toBe(code);
    expect(d.kind).not.toBe('update');
    expect(d.update).toBeDefined();
  });
});

describe('Function: isGpuApp / appAgeHours', () => {
  const app = {
    domainId: 'd-1',
    region: 'us-east-1',
    appType: 'JupyterLab',
    appName: 'default',
    status: 'InService',
    instanceType: 'ml.g5.xlarge',
    creationTime: hoursAgo(30),
  };
  it('finds running apps on GPU instances only', () => {
    expect(isGpuApp(app)).toBe(true);
    expect(isGpuApp({ ...app, instanceType: 'ml.t3.medium' })).toBe(false);
    expect(isGpuApp({ ...app, status: 'Deleted' })).toBe(false);
  });
  it('gives an app its age in hours', () => {
    expect(appAgeHours(app, NOW)).toBeCloseTo(30, 6);
    expect(appAgeHours({ ...app, creationTime: undefined }, NOW)).toBeUndefined();
  });
});
