import { budgetNameFromMessage, triggerOf } from '../../../../lambda/core/budgets/event';

const BUDGETS_TEXT = `AWS Budget Notification November 15, 2026
AWS Account 123456789012

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your ml-platform budget is greater than $800.00 for the current month.

Budget Name: ml-platform
Budget Type: Cost
Budgeted Amount: $1,000.00
Alert Type: ACTUAL
Alert Threshold: GREATER_THAN 80.0%
ACTUAL Amount: $850.00`;

describe('Function: triggerOf', () => {
  it('reads the budget names of the SNS records', () => {
    const event = { Records: [{ EventSource: 'aws:sns', Sns: { Message: BUDGETS_TEXT } }] };
    expect(triggerOf(event)).toEqual({ trigger: 'sns', budgetNames: ['ml-platform'] });
  });

  it('recognises the schedule and the CLI', () => {
    expect(triggerOf({ source: 'ml-cost-guard.schedule' }).trigger).toBe('schedule');
    expect(triggerOf({ source: 'cost-guard.cli' }).trigger).toBe('cli');
    expect(triggerOf(undefined).trigger).toBe('schedule');
    expect(triggerOf({ hello: 1 }).trigger).toBe('unknown');
  });
});

describe('Function: budgetNameFromMessage', () => {
  it('finds the name in text and JSON messages, and nothing in others', () => {
    expect(budgetNameFromMessage(BUDGETS_TEXT)).toBe('ml-platform');
    expect(budgetNameFromMessage('{"budgetName":"team-a"}')).toBe('team-a');
    expect(budgetNameFromMessage('hello')).toBeUndefined();
  });
});
