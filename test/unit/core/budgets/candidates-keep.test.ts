import { countSkipped, selectStopCandidates } from '../../../../lambda/core/budgets/candidates';
import type { InstanceFacts } from '../../../../lambda/core/instances';

const instance = (instanceId: string): InstanceFacts => ({
  instanceId,
  region: 'us-east-1',
  instanceType: 'g5.xlarge',
  state: 'running',
  tags: { team: 'ml' },
  lifecycle: 'on-demand',
});

describe('Function: selectStopCandidates (keeps)', () => {
  const options = {
    scopeTags: { team: 'ml' },
    tags: { essential: 'cost-guard:essential', optOut: 'cost-guard:opt-out' },
    stopScope: 'gpu' as const,
    typeFacts: () => ({
      instanceType: 'g5.xlarge',
      accelerator: 'gpu' as const,
      acceleratorCount: 1,
      instanceStorage: true,
    }),
  };

  it('never stops an instance someone kept ("keep this one running"), and counts it', () => {
    // Act
    const selection = selectStopCandidates([instance('i-0aaaaaaaaaaaaaaa1'), instance('i-0bbbbbbbbbbbbbbb2')], {
      ...options,
      isKept: (i) => i.instanceId === 'i-0aaaaaaaaaaaaaaa1',
    });
    // Assess
    expect(selection.candidates.map((i) => i.instanceId)).toEqual(['i-0bbbbbbbbbbbbbbb2']);
    expect(countSkipped(selection.skipped)).toEqual({ 'keep-until': 1 });
  });

  it('stops as before when nothing is kept', () => {
    expect(selectStopCandidates([instance('i-0aaaaaaaaaaaaaaa1')], options).candidates).toHaveLength(1);
  });
});
