/**
 * The dashboard and the alarms read only metrics the functions emit: every MlCostGuard metric name in the template is
 * in EMITTED_METRICS (lambda/core/names.ts), and every name there is published by a `metrics.add(METRIC.…)` call in
 * lambda/. A renamed or misspelt metric fails here instead of leaving an empty graph.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lambda/core/config';
import { EMITTED_METRICS, METRIC, METRICS_NAMESPACE } from '../../lambda/core/names';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';

const LAMBDA = path.join(__dirname, '..', '..', 'lambda');

function template(): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig({
      dryRun: false,
      budgets: { items: [{ name: 'ml-platform', limitUsd: 1000 }] },
      observability: { alarmsToSlack: true },
    }),
    env: { account: '111122223333', region: 'us-east-1' },
  });
  return Template.fromStack(stack);
}

/** The dashboard body as text: the literal parts of its Fn::Join (tokens in between do not name metrics). */
function dashboardText(t: Template): string {
  const dashboards = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as {
    Properties: { DashboardBody: unknown };
  }[];
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody;
  const parts = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [body];
  return parts.map((p) => (typeof p === 'string' ? p : '"<token>"')).join('');
}

/** Metric names the dashboard graphs in our namespace: `["MlCostGuard","<name>",…]` in each widget's metrics. */
function dashboardMetricNames(t: Template): string[] {
  const text = dashboardText(t);
  const names = [...text.matchAll(new RegExp(`\\["${METRICS_NAMESPACE}","([^"]+)"`, 'g'))].map((m) => m[1]!);
  return [...new Set(names)].sort();
}

/** Metric names the alarms watch in our namespace (single metrics and metric-math members). */
function alarmMetricNames(t: Template): string[] {
  const names: string[] = [];
  for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as {
    Properties: Record<string, unknown>;
  }[]) {
    const p = alarm.Properties;
    if (p.Namespace === METRICS_NAMESPACE) names.push(String(p.MetricName));
    for (const m of (p.Metrics as { MetricStat?: { Metric: { Namespace: string; MetricName: string } } }[]) ?? []) {
      if (m.MetricStat?.Metric.Namespace === METRICS_NAMESPACE) names.push(m.MetricStat.Metric.MetricName);
    }
  }
  return names;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('Metric names shared by the functions and the dashboard', () => {
  const t = template();

  it('graphs only metrics the functions emit', () => {
    // Act
    const graphed = dashboardMetricNames(t);
    // Assess: the dashboard does graph our metrics (the extraction works), and each one is emitted.
    expect(graphed.length).toBeGreaterThanOrEqual(10);
    expect(graphed.filter((name) => !(EMITTED_METRICS as readonly string[]).includes(name))).toEqual([]);
  });

  it('alarms only on metrics the functions emit', () => {
    const watched = alarmMetricNames(t);
    expect(watched.filter((name) => !(EMITTED_METRICS as readonly string[]).includes(name))).toEqual([]);
  });

  it('would catch a metric the functions do not emit (the check is not vacuous)', () => {
    // Prepare: the same extraction over a body naming an unknown metric.
    const text = `{"metrics":[["${METRICS_NAMESPACE}","InstancesScaned","Capability","reaper"]]}`;
    // Act
    const names = [...text.matchAll(new RegExp(`\\["${METRICS_NAMESPACE}","([^"]+)"`, 'g'))].map((m) => m[1]!);
    // Assess
    expect(names.filter((name) => !(EMITTED_METRICS as readonly string[]).includes(name))).toEqual(['InstancesScaned']);
  });

  it('lists only names some function publishes with metrics.add(METRIC.…)', () => {
    // Act
    const published = new Set<string>();
    for (const file of sourceFiles(LAMBDA)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/metrics\.add\(\s*METRIC\.(\w+)/g)) published.add(m[1]!);
    }
    // Assess
    const keys = Object.keys(METRIC) as (keyof typeof METRIC)[];
    expect(keys.filter((k) => !published.has(k))).toEqual([]);
    expect([...published].filter((k) => !(k in METRIC))).toEqual([]);
    for (const k of keys) expect(METRIC[k]).toBe(k);
  });

  it('leaves no metric name as a string literal in a metrics.add call', () => {
    const literal: string[] = [];
    for (const file of sourceFiles(LAMBDA)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/metrics\.add\(\s*['"`]([^'"`]+)/g)) {
        literal.push(`${path.relative(LAMBDA, file)}: ${m[1]}`);
      }
    }
    expect(literal).toEqual([]);
  });
});
