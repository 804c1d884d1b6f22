import fc from 'fast-check';
import {
  type CandidateOptions,
  listSkipped,
  selectStopCandidates,
  skipReason,
} from '../../../../lambda/core/budgets/candidates';
import type { InstanceFacts, InstanceTypeFacts } from '../../../../lambda/core/instances';
import { isTagTrue } from '../../../../lambda/core/tags';

const GPU_TYPES = new Set(['g5.xlarge', 'p4d.24xlarge']);
const KNOWN_TYPES = new Set([...GPU_TYPES, 'm5.large']);

const typeFacts = (instanceType: string): InstanceTypeFacts | undefined =>
  KNOWN_TYPES.has(instanceType)
    ? {
        instanceType,
        accelerator: GPU_TYPES.has(instanceType) ? 'gpu' : 'none',
        acceleratorCount: GPU_TYPES.has(instanceType) ? 1 : 0,
        instanceStorage: instanceType !== 'm5.large',
      }
    : undefined;

const options = (overrides: Partial<CandidateOptions> = {}): CandidateOptions => ({
  scopeTags: { team: 'ml' },
  tags: { essential: 'cost-guard:essential', optOut: 'cost-guard:opt-out' },
  stopScope: 'gpu',
  typeFacts: (_region, type) => typeFacts(type),
  ...overrides,
});

const instance = (id: string, overrides: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceId: id,
  region: 'us-east-1',
  instanceType: 'g5.xlarge',
  state: 'running',
  tags: { team: 'ml' },
  lifecycle: 'on-demand',
  ...overrides,
});

describe('Function: selectStopCandidates', () => {
  it('selects running GPU instances in scope and says why it skips the others', () => {
    // Prepare
    const instances = [
      instance('i-candidate'),
      instance('i-essential', { tags: { team: 'ml', 'cost-guard:essential': 'TRUE' } }),
      instance('i-optout', { tags: { team: 'ml', 'cost-guard:opt-out': ' True ' } }),
      instance('i-other-team', { tags: { team: 'search' } }),
      instance('i-cpu', { instanceType: 'm5.large' }),
      instance('i-unknown-type', { instanceType: 'x9.future' }),
      instance('i-stopped', { state: 'stopped' }),
    ];
    // Act
    const { candidates, skipped } = selectStopCandidates(instances, options());
    // Assess
    expect(candidates.map((c) => c.instanceId)).toEqual(['i-candidate']);
    expect(Object.fromEntries(skipped.map((s) => [s.instance.instanceId, s.reason]))).toEqual({
      'i-essential': 'essential',
      'i-optout': 'opt-out',
      'i-other-team': 'out-of-scope',
      'i-cpu': 'not-gpu',
      'i-unknown-type': 'unknown-type',
      'i-stopped': 'not-running',
    });
  });

  it.each([
    ['aws:autoscaling:groupName', 'training-asg', 'auto-scaling-group'],
    ['aws:ec2spot:fleet-request-id', 'sfr-1', 'fleet-member'],
    ['aws:ec2:fleet-id', 'fleet-1', 'fleet-member'],
    ['eks:cluster-name', 'prod', 'kubernetes-node'],
    ['karpenter.sh/nodepool', 'gpu', 'kubernetes-node'],
    ['kubernetes.io/cluster/prod', 'owned', 'kubernetes-node'],
  ])('never stops an instance whose manager would replace it (%s)', (key, value, reason) => {
    // Act
    const opts = options({ stopScope: 'all' });
    // Assess: skipped with the manager's reason, in any scope; the same instance without the tag is a candidate
    expect(skipReason(instance('i-managed', { tags: { team: 'ml', [key]: value } }), opts)).toBe(reason);
    expect(skipReason(instance('i-plain', { tags: { team: 'ml' } }), opts)).toBeUndefined();
  });

  it('selects non-GPU instances too when stopScope is all', () => {
    const { candidates } = selectStopCandidates(
      [instance('i-cpu', { instanceType: 'm5.large' }), instance('i-unknown', { instanceType: 'x9.future' })],
      options({ stopScope: 'all' }),
    );
    expect(candidates.map((c) => c.instanceId)).toEqual(['i-cpu', 'i-unknown']);
  });

  it('requires every scope tag to match exactly', () => {
    const opts = options({ scopeTags: { team: 'ml', env: 'dev' } });
    expect(skipReason(instance('a', { tags: { team: 'ml' } }), opts)).toBe('out-of-scope');
    expect(skipReason(instance('b', { tags: { team: 'ml', env: 'Dev' } }), opts)).toBe('out-of-scope');
    expect(skipReason(instance('c', { tags: { team: 'ml', env: 'dev' } }), opts)).toBeUndefined();
  });

  it('does not count a Neuron (Inferentia/Trainium) type as GPU under stopScope gpu', () => {
    const neuron: InstanceTypeFacts = {
      instanceType: 'inf2.xlarge',
      accelerator: 'neuron',
      acceleratorCount: 1,
      instanceStorage: false,
    };
    const opts = options({ typeFacts: () => neuron });
    expect(skipReason(instance('n', { instanceType: 'inf2.xlarge' }), opts)).toBe('not-gpu');
    expect(skipReason(instance('n', { instanceType: 'inf2.xlarge' }), { ...opts, stopScope: 'all' })).toBeUndefined();
  });

  it('treats an empty scope as every instance of the account', () => {
    expect(skipReason(instance('a', { tags: {} }), options({ scopeTags: {} }))).toBeUndefined();
  });

  it('does not protect an instance whose essential tag is anything but true', () => {
    expect(
      skipReason(instance('a', { tags: { team: 'ml', 'cost-guard:essential': 'false' } }), options()),
    ).toBeUndefined();
    expect(
      skipReason(instance('b', { tags: { team: 'ml', 'cost-guard:essential': 'yes' } }), options()),
    ).toBeUndefined();
  });

  it('never selects an essential or opted-out instance, whatever its other tags, type or scope', () => {
    const trueSpelling = fc.constantFrom('true', 'TRUE', 'True', ' true', 'tRuE ');
    const protectedKey = fc.constantFrom('cost-guard:essential', 'cost-guard:opt-out', 'Cost-Guard:Essential');
    const arbInstance = fc.record({
      instanceId: fc.string({ minLength: 1 }),
      region: fc.constantFrom('us-east-1', 'eu-west-1'),
      instanceType: fc.constantFrom('g5.xlarge', 'p4d.24xlarge', 'm5.large', 'x9.future'),
      state: fc.constantFrom('running', 'stopped', 'pending'),
      tags: fc.dictionary(fc.string(), fc.string()),
      lifecycle: fc.constantFrom('on-demand' as const, 'spot' as const),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbInstance, fc.boolean(), protectedKey, trueSpelling)),
        fc.constantFrom<'gpu' | 'all'>('gpu', 'all'),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
        (rows, stopScope, scopeTags) => {
          const instances = rows.map(([i, isProtected, key, value]) =>
            isProtected ? { ...i, tags: { ...i.tags, ...scopeTags, [key]: value } } : i,
          );
          const { candidates } = selectStopCandidates(instances, options({ stopScope, scopeTags }));
          return candidates.every(
            (c) => !isTagTrue(c.tags, 'cost-guard:essential') && !isTagTrue(c.tags, 'cost-guard:opt-out'),
          );
        },
      ),
    );
  });
});

describe('Function: listSkipped', () => {
  it('names the skipped instances worth naming by reason, with their Name tag, and leaves out-of-scope ones out', () => {
    // Prepare
    const { skipped } = selectStopCandidates(
      [
        instance('i-essential', { tags: { team: 'ml', 'cost-guard:essential': 'true', Name: 'train-1' } }),
        instance('i-asg', { tags: { team: 'ml', 'aws:autoscaling:groupName': 'web' } }),
        instance('i-other', { tags: { team: 'search' } }),
      ],
      options(),
    );
    // Act + Assess
    expect(listSkipped(skipped)).toEqual({ essential: ['i-essential (train-1)'], 'auto-scaling-group': ['i-asg'] });
  });
});
