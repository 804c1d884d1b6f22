import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { FAN_OUT_CAPABILITIES } from '../../lambda/core/organization/fan-out';
import { fanOutTimeout, LAMBDA_SERVICE_ERRORS } from '../../lib/constructs/organization-fan-out';
import { spokeTemplate, TEMPLATE_BODY_MAX_BYTES } from '../../lib/constructs/organization-hub';
import { MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARS } from '../../lib/constructs/spoke-role';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';
import { MlCostGuardSpokeStack } from '../../lib/spoke-stack';

const HUB = '111122223333';
const ORG_ID = 'o-abcdef1234';
const OU = 'ou-ab12-cdef3456';
const EXCLUDED = '444455556666';
const LINKED = ['555566667777', '777788889999'];

type Json = unknown;
type Resources = Record<string, { Type: string; Properties: Record<string, Json> }>;

/** An organization hub config; `extra` is merged over it (accounts merged key by key). */
function orgConfig(extra: CostGuardConfigInput = {}): CostGuardConfigInput {
  const { accounts, ...rest } = extra;
  return {
    accounts: { mode: 'organization', organizationId: ORG_ID, organizationalUnitIds: [OU], ...accounts },
    ...rest,
  };
}

/** Every capability on and acting, two regions, live prices, budget items with linked accounts. */
function actingConfig(overrides: CostGuardConfigInput = {}): CostGuardConfigInput {
  return orgConfig({
    dryRun: false,
    regions: ['us-east-1', 'eu-west-1'],
    idleGpu: { action: 'terminate', includeNeuron: true },
    sagemaker: { enabled: true, action: 'delete', notebookMaxHours: 12, studioIdleShutdownMinutes: 60 },
    rightsizing: { enabled: true },
    budgets: {
      action: 'stop-non-essential',
      items: [
        { name: 'research', limitUsd: 5000, accounts: LINKED },
        { name: 'hub-only', limitUsd: 100 },
      ],
    },
    pricing: { live: true },
    ...overrides,
  });
}

function synthHub(raw: CostGuardConfigInput) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(raw),
    env: { account: HUB, region: 'us-east-1' },
  });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Resources };
}

/** The spoke stack as the StackSet deploys it: environment-agnostic, in an app of its own. */
function synthSpoke(raw: CostGuardConfigInput) {
  const app = new App();
  const stack = new MlCostGuardSpokeStack(app, 'MlCostGuardSpoke', { config: parseConfig(raw) });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Resources };
}

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function nagFindings(app: App): string[] {
  const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
  return reports.flatMap((r) =>
    r.violations.flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} ${res.resourceLogicalId}`)),
  );
}

/**
 * Plain strings for the intrinsics of a policy: the partition is `aws`, the account either stack runs in is
 * ACCOUNT (the hub's literal ID or the spoke's AWS::AccountId), the spoke's region is the StackSet's (us-east-1).
 * Other resources of the template become `<logical ID>` (they are the hub's own and are filtered out anyway).
 */
function resolve(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value === 'string') return value.split(HUB).join('ACCOUNT');
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, Json>;
  if ('Ref' in o) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': 'ACCOUNT',
      'AWS::Region': 'us-east-1',
    };
    return pseudo[String(o.Ref)] ?? `<${String(o.Ref)}>`;
  }
  if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in o) {
    const [separator, parts] = o['Fn::Join'] as [string, Json[]];
    return parts.map((p) => String(resolve(p))).join(separator);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Json;
  Sid?: string;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** One line per (effect, action, resource, condition): insensitive to how statements were merged or split. */
function atoms(statements: readonly Statement[]): string[] {
  return [
    ...new Set(
      statements.flatMap((s) =>
        list(s.Action).flatMap((action) =>
          list(s.Resource).map((resource) => `${s.Effect} ${action} ${resource} ${JSON.stringify(s.Condition ?? {})}`),
        ),
      ),
    ),
  ].sort();
}

/** A role's statements: its policies and any managed policy attached to it (CDK moves a large policy's overflow there). */
function roleStatements(resources: Resources, roleId: string): Statement[] {
  return [...ofType(resources, 'AWS::IAM::Policy'), ...ofType(resources, 'AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap(([, p]) => (resolve(p.Properties.PolicyDocument) as { Statement: Statement[] }).Statement);
}

function roleIdNamed(resources: Resources, name: string): string {
  const found = ofType(resources, 'AWS::IAM::Role').filter(([, r]) => r.Properties.RoleName === name);
  if (found.length !== 1) throw new Error(`expected one role named ${name}, found ${found.length}`);
  return found[0]![0];
}

/** The services only the hub's side of a function uses: logs, traces, the Slack secret, the state table, budgets… */
const HUB_ONLY_SERVICES = [
  'logs',
  'xray',
  'secretsmanager',
  'kms',
  'sqs',
  'dynamodb',
  'sts',
  'organizations',
  'budgets',
  'iam',
];
const inAccount = (s: Statement) => list(s.Action).some((a) => !HUB_ONLY_SERVICES.includes(a.split(':')[0]!));

/** A definition string with the function ARNs replaced by `<function logical ID>`, parsed. */
function definitionOf(stateMachine: { Properties: Record<string, Json> }): Record<string, Json> {
  const join = (stateMachine.Properties.DefinitionString as { 'Fn::Join': [string, Json[]] })['Fn::Join'][1];
  return JSON.parse(join.map((p) => (typeof p === 'string' ? p : String(resolve(p)))).join(''));
}

const DESTRUCTIVE = [
  'ec2:TerminateInstances',
  'ec2:StopInstances',
  'ec2:StartInstances',
  'ec2:CreateTags',
  'ec2:DeleteTags',
  's3:PutLifecycleConfiguration',
  'sagemaker:DeleteEndpoint',
  'sagemaker:StopNotebookInstance',
  'sagemaker:UpdateDomain',
  'sagemaker:UpdateUserProfile',
  'sagemaker:UpdateSpace',
];

// ---------------------------------------------------------------------------------------------------------------

describe('Organization mode: single-account mode is untouched', () => {
  it('ignores every accounts setting but mode: the template equals the default one', () => {
    // Prepare
    const settings = { organizationId: ORG_ID, organizationalUnitIds: [OU], exclude: [EXCLUDED], concurrency: 7 };
    // Act
    const plain = synthHub({}).template.toJSON();
    const single = synthHub({ accounts: { mode: 'single', ...settings } }).template.toJSON();
    // Assess
    expect(single).toEqual(plain);
  });

  it('adds no state machine, StackSet, fixed role name, AssumeRole or Organizations grant', () => {
    const { resources } = synthHub({ sagemaker: { enabled: true }, rightsizing: { enabled: true } });
    const types = new Set(Object.values(resources).map((r) => r.Type));
    expect(types).not.toContain('AWS::StepFunctions::StateMachine');
    expect(types).not.toContain('AWS::CloudFormation::StackSet');
    expect(ofType(resources, 'AWS::IAM::Role').filter(([, r]) => r.Properties.RoleName !== undefined)).toEqual([]);
    const actions = ofType(resources, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap((s) => list(s.Action)),
    );
    expect(actions.filter((a) => a.startsWith('sts:') || a.startsWith('organizations:'))).toEqual([]);
    // Every scheduled function keeps its direct schedule.
    expect(ofType(resources, 'AWS::Scheduler::Schedule').map(([, s]) => JSON.stringify(s.Properties.Target))).toEqual(
      expect.arrayContaining([expect.stringContaining('IdleGpuReaperFunction')]),
    );
  });
});

describe('Organization mode: the hub', () => {
  const hub = synthHub(actingConfig({ accounts: { concurrency: 7, exclude: [EXCLUDED] } }));
  const stateMachines = ofType(hub.resources, 'AWS::StepFunctions::StateMachine');
  const machineOf = (capabilityPrefix: string) => {
    const found = stateMachines.filter(([id]) => id.startsWith(capabilityPrefix));
    if (found.length !== 1) throw new Error(`expected one state machine for ${capabilityPrefix}`);
    return found[0]!;
  };
  const PREFIX: Record<(typeof FAN_OUT_CAPABILITIES)[number], string> = {
    reaper: 'IdleGpuReaperFunction',
    sagemaker: 'SageMakerGuardFunction',
    rightsizing: 'RightsizingAdviceFunction',
    lifecycle: 'StorageLifecycleFunction',
  };

  it('has zero unacknowledged cdk-nag findings, with tracing off and on', () => {
    expect(nagFindings(hub.app)).toEqual([]);
    expect(nagFindings(synthHub(actingConfig({ observability: { tracing: true } })).app)).toEqual([]);
  });

  it('has one state machine per fan-out capability, and none for the budget guard', () => {
    expect(stateMachines.map(([id]) => Object.values(PREFIX).find((p) => id.startsWith(p))).sort()).toEqual(
      Object.values(PREFIX).sort(),
    );
  });

  it.each(FAN_OUT_CAPABILITIES)(
    '%s: targets -> Map of units of the same function -> digest -> choice',
    (capability) => {
      // Prepare
      const [, machine] = machineOf(PREFIX[capability]);
      const fn = `<${ofType(hub.resources, 'AWS::Lambda::Function').find(([id]) => id.startsWith(PREFIX[capability]))![0]}.Arn>`;
      // Act
      const definition = definitionOf(machine) as {
        StartAt: string;
        TimeoutSeconds: number;
        States: Record<string, Record<string, Json>>;
      };
      const { Targets, Units, Digest, AnyUnitFailed, UnitsFailed, AllUnitsReported } = definition.States;
      // Assess
      const retry = [
        {
          ErrorEquals: [...LAMBDA_SERVICE_ERRORS],
          IntervalSeconds: 2,
          MaxAttempts: 6,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ];
      expect(definition.StartAt).toBe('Targets');
      expect(Targets).toEqual({
        Type: 'Task',
        Resource: fn,
        Parameters: {
          costGuardFanOut: 'targets',
          'runId.$': '$$.Execution.Name',
          'scheduledTime.$': '$$.Execution.StartTime',
        },
        Retry: retry,
        Next: 'Units',
      });
      expect(Units).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.units',
        MaxConcurrency: 7,
        ResultPath: null,
        ItemSelector: {
          costGuardFanOut: 'unit',
          'runId.$': '$.runId',
          'scheduledTime.$': '$$.Execution.StartTime',
          'accountId.$': '$$.Map.Item.Value.accountId',
          'accountName.$': '$$.Map.Item.Value.accountName',
          'region.$': '$$.Map.Item.Value.region',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Unit',
          States: {
            // No Parameters: the function gets the item as the ItemSelector built it.
            Unit: {
              Type: 'Task',
              Resource: fn,
              Retry: retry,
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'UnitFailed' }],
              End: true,
            },
            UnitFailed: { Type: 'Pass', End: true },
          },
        },
        Next: 'Digest',
      });
      expect((Units!.ItemProcessor as { States: { Unit: object } }).States.Unit).not.toHaveProperty('Parameters');
      expect(Digest).toEqual({
        Type: 'Task',
        Resource: fn,
        Parameters: {
          costGuardFanOut: 'digest',
          'runId.$': '$.runId',
          'scheduledTime.$': '$$.Execution.StartTime',
          'units.$': '$.units',
          'skippedAccounts.$': '$.skippedAccounts',
        },
        Retry: retry,
        Next: 'AnyUnitFailed',
      });
      expect(AnyUnitFailed).toEqual({
        Type: 'Choice',
        Choices: [
          {
            Or: [
              { Variable: '$.failedUnits', NumericGreaterThan: 0 },
              { Variable: '$.missingUnits', NumericGreaterThan: 0 },
            ],
            Next: 'UnitsFailed',
          },
        ],
        Default: 'AllUnitsReported',
      });
      expect(UnitsFailed).toMatchObject({ Type: 'Fail', Error: 'UnitsFailed' });
      expect(AllUnitsReported).toEqual({ Type: 'Succeed' });
      expect(definition.TimeoutSeconds).toBeGreaterThan(0);
      expect(definition.TimeoutSeconds).toBeLessThanOrEqual(24 * 3600);
    },
  );

  it('logs every execution event to its own log group', () => {
    for (const [, machine] of stateMachines) {
      expect(machine.Properties.LoggingConfiguration).toEqual({
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }],
        IncludeExecutionData: true,
        Level: 'ALL',
      });
    }
  });

  it('schedules the state machines, never the fan-out functions directly', () => {
    const targets = ofType(hub.resources, 'AWS::Scheduler::Schedule').map(
      ([, s]) => (s.Properties.Target as { Arn: Json }).Arn,
    );
    for (const [id] of stateMachines) expect(targets).toContainEqual({ Ref: id });
    for (const prefix of Object.values(PREFIX)) {
      expect(JSON.stringify(targets)).not.toMatch(new RegExp(`"${prefix}[0-9A-F]{8}"`));
    }
    // The budget guard is not fanned out: its schedule still invokes it.
    expect(JSON.stringify(targets)).toMatch(/"BudgetGuardFunction[0-9A-F]{8}"/);
  });

  it('alarms on failed and timed-out executions of each state machine, to the alarm topic', () => {
    const topic = ofType(hub.resources, 'AWS::SNS::Topic').find(([id]) => id.startsWith('MonitoringAlarmTopic'))![0];
    for (const [id] of stateMachines) {
      for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        hub.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/States',
          MetricName: metricName,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id } }],
          Threshold: 1,
          AlarmActions: [{ Ref: topic }],
        });
      }
    }
  });

  it('lets every fan-out function store its unit reports and read them for the digest (PutItem, Query)', () => {
    for (const capability of FAN_OUT_CAPABILITIES) {
      const actions = roleStatements(hub.resources, roleIdNamed(hub.resources, `MlCostGuard-${capability}`))
        .filter((st) => st.Effect === 'Allow')
        .flatMap((st) => list(st.Action));
      expect({
        capability,
        put: actions.includes('dynamodb:PutItem'),
        query: actions.includes('dynamodb:Query'),
      }).toEqual({ capability, put: true, query: true });
    }
  });

  it('lets a fan-out function run accounts.concurrency units at once (plus one step)', () => {
    for (const prefix of Object.values(PREFIX)) {
      const [, fn] = ofType(hub.resources, 'AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))!;
      expect(fn.Properties.ReservedConcurrentExecutions).toBe(8);
    }
  });

  it('names the roles that reach into member accounts <stack>-<capability>, and no other', () => {
    const named = ofType(hub.resources, 'AWS::IAM::Role')
      .map(([, r]) => r.Properties.RoleName)
      .filter((n) => n !== undefined)
      .sort();
    expect(named).toEqual([
      'MlCostGuard-budgets',
      'MlCostGuard-lifecycle',
      'MlCostGuard-reaper',
      'MlCostGuard-rightsizing',
      'MlCostGuard-sagemaker',
    ]);
    const withoutLinked = synthHub(orgConfig({ budgets: { items: [{ name: 'hub-only', limitUsd: 10 }] } }));
    expect(ofType(withoutLinked.resources, 'AWS::IAM::Role').map(([, r]) => r.Properties.RoleName)).not.toContain(
      'MlCostGuard-budgets',
    );
  });

  it.each(['reaper', 'sagemaker', 'rightsizing', 'lifecycle'])(
    '%s role: AssumeRole on the spoke role of any account of the organization, and the Organizations reads',
    (capability) => {
      const statements = roleStatements(hub.resources, roleIdNamed(hub.resources, `MlCostGuard-${capability}`));
      expect(statements).toContainEqual({
        Sid: 'AssumeSpokeRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: 'arn:aws:iam::*:role/ml-cost-guard-spoke',
        Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } },
      });
      expect(statements).toContainEqual({
        Sid: 'ListTargetAccounts',
        Effect: 'Allow',
        Action: [
          'organizations:DescribeAccount',
          'organizations:ListAccounts',
          'organizations:ListAccountsForParent',
          'organizations:ListOrganizationalUnitsForParent',
        ],
        Resource: '*',
      });
    },
  );

  it('budgets role: AssumeRole only into the linked accounts of its budget items, no Organizations reads', () => {
    const statements = roleStatements(hub.resources, roleIdNamed(hub.resources, 'MlCostGuard-budgets'));
    expect(statements.filter((s) => list(s.Action).some((a) => a.startsWith('sts:')))).toEqual([
      {
        Sid: 'AssumeSpokeRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: LINKED.map((a) => `arn:aws:iam::${a}:role/ml-cost-guard-spoke`),
        Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } },
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('organizations:');
  });

  it("gives every function the accounts settings in its config (single-account functions don't get them)", () => {
    const accountsOf = (resources: Resources) =>
      ofType(resources, 'AWS::Lambda::Function').map(([, f]) => {
        const env = (f.Properties.Environment as { Variables: Record<string, string> }).Variables;
        return (JSON.parse(env.COST_GUARD_CONFIG!) as { accounts?: { mode: string; roleName: string } }).accounts;
      });
    const org = accountsOf(hub.resources);
    expect(org.length).toBeGreaterThan(5);
    for (const accounts of org)
      expect(accounts).toMatchObject({ mode: 'organization', roleName: 'ml-cost-guard-spoke' });
    expect(accountsOf(synthHub({}).resources).filter((a) => a !== undefined)).toEqual([]);
  });

  it('bounds each execution: twice the schedule gap, at least three function timeouts, at most a day', () => {
    expect(fanOutTimeout('rate(1 hour)', Duration.minutes(10)).toMinutes()).toBe(120);
    expect(fanOutTimeout('rate(5 minutes)', Duration.minutes(10)).toMinutes()).toBe(30);
    expect(fanOutTimeout('rate(1 day)', Duration.minutes(5)).toMinutes()).toBe(24 * 60);
    expect(fanOutTimeout('cron(0 8 ? * MON *)', Duration.minutes(5)).toMinutes()).toBe(24 * 60);
  });
});

describe('Organization mode: the StackSet', () => {
  it('deploys the spoke template to the OUs, service-managed, auto-deployed, minus the excluded accounts', () => {
    // Prepare
    const raw = actingConfig({ accounts: { exclude: [EXCLUDED] } });
    // Act
    const { template, resources } = synthHub(raw);
    // Assess
    template.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'MlCostGuard-spoke',
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'DELEGATED_ADMIN',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      OperationPreferences: { MaxConcurrentPercentage: 25, FailureTolerancePercentage: 10 },
      Parameters: [
        { ParameterKey: 'HubAccountId', ParameterValue: HUB },
        { ParameterKey: 'HubStackName', ParameterValue: 'MlCostGuard' },
        { ParameterKey: 'OrganizationId', ParameterValue: ORG_ID },
      ],
      StackInstancesGroup: [
        {
          Regions: ['us-east-1'],
          DeploymentTargets: { OrganizationalUnitIds: [OU], AccountFilterType: 'DIFFERENCE', Accounts: [EXCLUDED] },
        },
      ],
    });
    const [, stackSet] = ofType(resources, 'AWS::CloudFormation::StackSet')[0]!;
    const body = String(stackSet.Properties.TemplateBody);
    expect(Buffer.byteLength(body)).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
    // The very template of the standalone spoke stack for the same config.
    expect(JSON.parse(body)).toEqual(synthSpoke(raw).template.toJSON());
    expect(JSON.parse(body)).toEqual(spokeTemplate(parseConfig(raw), 'MlCostGuard'));
  });

  it('filters no account without exclusions, and is created as the management account when it is one', () => {
    const { template } = synthHub(orgConfig({ accounts: { hubAccountRole: 'management' } }));
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      CallAs: 'SELF',
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: [OU],
            AccountFilterType: Match.absent(),
            Accounts: Match.absent(),
          },
        },
      ],
    });
  });

  it('is not created when only listed accounts are guarded (they deploy MlCostGuardSpoke themselves)', () => {
    const { template } = synthHub(orgConfig({ accounts: { organizationalUnitIds: [], accountIds: [EXCLUDED] } }));
    template.resourceCountIs('AWS::CloudFormation::StackSet', 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', FAN_OUT_CAPABILITIES.length);
  });
});

describe('Organization mode: the spoke role', () => {
  const raw = actingConfig();
  const spoke = synthSpoke(raw);
  const hub = synthHub(raw);
  const [roleId, role] = ofType(spoke.resources, 'AWS::IAM::Role')[0]!;
  const policies = ofType(spoke.resources, 'AWS::IAM::ManagedPolicy');
  const policyStatements = (prefix: string) =>
    policies
      .filter(([id]) => id.startsWith(prefix))
      .flatMap(([, p]) => (resolve(p.Properties.PolicyDocument) as { Statement: Statement[] }).Statement);

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(nagFindings(spoke.app)).toEqual([]);
  });

  it('is the only resource type besides its managed policies, named accounts.roleName', () => {
    expect(new Set(Object.values(spoke.resources).map((r) => r.Type))).toEqual(
      new Set(['AWS::IAM::Role', 'AWS::IAM::ManagedPolicy']),
    );
    expect(role.Properties.RoleName).toBe('ml-cost-guard-spoke');
    expect(synthSpoke(orgConfig({ accounts: { roleName: 'guard-spoke' } })).resources).toMatchObject({
      [roleId]: { Properties: { RoleName: 'guard-spoke' } },
    });
  });

  it('trusts the hub account only as the hub roles that reach in, and only from inside the organization', () => {
    expect(resolve(role.Properties.AssumeRolePolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: 'arn:aws:iam::<HubAccountId>:root' },
          Condition: {
            ArnEquals: {
              'aws:PrincipalArn': ['reaper', 'sagemaker', 'rightsizing', 'lifecycle', 'budgets'].map(
                (c) => `arn:aws:iam::<HubAccountId>:role/<HubStackName>-${c}`,
              ),
            },
            StringEquals: { 'aws:PrincipalOrgID': '<OrganizationId>' },
          },
        },
      ],
    });
  });

  it('takes its parameters from the config for a standalone deploy (hub account only when configured)', () => {
    const params = spoke.template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(params.HubAccountId?.Default).toBeUndefined();
    expect(params.HubStackName?.Default).toBe('MlCostGuard');
    expect(params.OrganizationId?.Default).toBe(ORG_ID);
    const withHub = synthSpoke(actingConfig({ accounts: { hubAccountId: HUB } })).template.toJSON();
    expect((withHub.Parameters as Record<string, { Default?: string }>).HubAccountId?.Default).toBe(HUB);
  });

  it.each([
    ['reaper', 'SpokeReaper'],
    ['sagemaker', 'SpokeSagemaker'],
    ['rightsizing', 'SpokeRightsizing'],
    ['lifecycle', 'SpokeLifecycle'],
    ['budgets', 'SpokeBudgets'],
  ])("%s: holds exactly what the hub function role holds for the account's resources", (capability, prefix) => {
    // Prepare: the hub role's statements, without the hub's own resources and the price reads (their own policy).
    const home = roleStatements(hub.resources, roleIdNamed(hub.resources, `MlCostGuard-${capability}`))
      .filter(inAccount)
      .filter((s) => !list(s.Action).includes('pricing:GetProducts'));
    // Act
    const there = policyStatements(prefix);
    // Assess
    expect(atoms(there)).toEqual(atoms(home));
    expect(atoms(there).length).toBeGreaterThan(0);
  });

  it('reads prices as the functions do with pricing.live, and not without', () => {
    expect(atoms(policyStatements('SpokePricing'))).toEqual(['Allow pricing:GetProducts * {}']);
    const noLive = synthSpoke(actingConfig({ pricing: { live: false } }));
    expect(JSON.stringify(noLive.resources)).not.toContain('pricing:');
  });

  it('holds nothing destructive in dry-run, while the acting config does (control)', () => {
    const allows = (resources: Resources) =>
      ofType(resources, 'AWS::IAM::ManagedPolicy')
        .flatMap(([, p]) => (resolve(p.Properties.PolicyDocument) as { Statement: Statement[] }).Statement)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => list(s.Action));
    const dry = synthSpoke(actingConfig({ dryRun: true }));
    expect(allows(dry.resources).filter((a) => DESTRUCTIVE.includes(a))).toEqual([]);
    expect(allows(spoke.resources).filter((a) => DESTRUCTIVE.includes(a)).length).toBeGreaterThan(5);
    // The explicit Denies stay in dry-run, as on the function roles.
    expect(JSON.stringify(dry.resources)).toContain('NeverActOnOptedOut');
  });

  it('never needs the state table, the Slack secret, logs or Organizations', () => {
    const actions = JSON.stringify(policies);
    for (const service of ['dynamodb:', 'secretsmanager:', 'logs:', 'organizations:', 'sts:', 'iam:'])
      expect(actions).not.toContain(`"${service}`);
  });

  it('keeps each managed policy under IAM limits, with four regions and every option on', () => {
    const wide = synthSpoke(actingConfig({ regions: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1'] }));
    const all = ofType(wide.resources, 'AWS::IAM::ManagedPolicy');
    expect(all.length).toBeLessThanOrEqual(MANAGED_POLICIES_PER_ROLE);
    for (const [, p] of all) {
      expect(JSON.stringify(resolve(p.Properties.PolicyDocument)).length).toBeLessThan(MANAGED_POLICY_MAX_CHARS);
    }
    expect(Buffer.byteLength(JSON.stringify(wide.template.toJSON()))).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
  });

  it('refuses a hub whose enabled capabilities never reach into member accounts', () => {
    const none = orgConfig({
      idleGpu: { enabled: false },
      storage: { enabled: false },
      sagemaker: { enabled: false },
      rightsizing: { enabled: false },
      budgets: { items: [{ name: 'hub-only', limitUsd: 10 }] },
    });
    expect(() => synthSpoke(none)).toThrow(ConfigError);
  });
});
