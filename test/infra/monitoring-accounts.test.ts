/**
 * The dashboard's savings by account: in organization mode a widget graphs RealizedMonthlySavingsUsd of every account
 * (a SEARCH over the namespace with the Account dimension); a single-account stack's dashboard has no such widget and
 * its body does not change.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from '../../lambda/core/names';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';

/** The dashboard body as text: the literal parts of its Fn::Join, tokens replaced by `token` (inside JSON strings). */
function dashboardBody(raw: CostGuardConfigInput, token = '"<token>"'): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(raw),
    env: { account: '111122223333', region: 'us-east-1' },
  });
  const dashboards = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as {
    Properties: { DashboardBody: unknown };
  }[];
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody;
  const parts = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [body];
  return parts.map((p) => (typeof p === 'string' ? p : token)).join('');
}

const SEARCH = `SEARCH('{${METRICS_NAMESPACE},${DIMENSION.Account},Capability,service} MetricName="${METRIC.RealizedMonthlySavingsUsd}"', 'Sum', 86400)`;
const BUDGETS = { items: [{ name: 'ml-platform', limitUsd: 1000 }] };

describe('Construct: Monitoring, savings by account', () => {
  it('graphs realized savings by account with a SEARCH over the Account dimension in organization mode', () => {
    // Act: the tokens of the body sit inside JSON strings (region, function names), so a bare word keeps it JSON.
    const body = dashboardBody(
      {
        accounts: { mode: 'organization', organizationId: 'o-abcdef1234', organizationalUnitIds: ['ou-ab12-cdef3456'] },
        budgets: BUDGETS,
      },
      'TOKEN',
    );
    // Assess
    const widgets = (JSON.parse(body) as { widgets: { properties: { title?: string; metrics?: unknown[] } }[] })
      .widgets;
    const byAccount = widgets.filter((w) => w.properties.title?.startsWith('Realized savings by account'));
    expect(byAccount).toHaveLength(1);
    expect(byAccount[0]!.properties.metrics).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch's dynamic label syntax, not a template
      [{ expression: SEARCH, label: "${PROP('Dim.Account')} ${PROP('Dim.Capability')}", period: 86400 }],
    ]);
  });

  it('has no by-account widget in single-account mode (accounts omitted or mode single: the same dashboard)', () => {
    // Act
    const single = dashboardBody({ budgets: BUDGETS });
    const explicit = dashboardBody({ accounts: { mode: 'single' }, budgets: BUDGETS });
    // Assess
    expect(single).not.toContain(DIMENSION.Account);
    expect(single).not.toContain('SEARCH(');
    expect(explicit).toBe(single);
  });
});
