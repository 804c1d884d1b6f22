/**
 * test/setup-matchers.ts registers stand-ins for aws-sdk-client-mock-jest's matchers and loads the package on first
 * use: the stand-ins must name every matcher the package registers, and answer as the package's own matchers do.
 */
import { EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { CLIENT_MOCK_MATCHERS, registeredMatchers } from '../../setup-matchers';

describe('setup-matchers: aws-sdk-client-mock-jest loaded on first use', () => {
  const ec2Mock = mockClient(EC2Client);
  afterAll(() => ec2Mock.restore());

  it('answers the first use as the package does (here a failure), then leaves the package matchers in place', async () => {
    // Prepare
    const before = { ...registeredMatchers() };
    await new EC2Client({}).send(new StopInstancesCommand({ InstanceIds: ['i-1'] }));
    // Act: the first use goes through a stand-in, which loads the package
    const first = () => expect(ec2Mock).not.toHaveReceivedCommandTimes(StopInstancesCommand, 1);
    // Assess
    expect(first).toThrow(/Expected EC2Client to not receive "StopInstancesCommand" 1 times/);
    expect(registeredMatchers().toHaveReceivedCommandTimes).not.toBe(before.toHaveReceivedCommandTimes);
    expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-1'] });
    expect(() => expect(ec2Mock).toHaveReceivedCommand(StartInstancesCommand)).toThrow(
      /Expected EC2Client to receive "StartInstancesCommand"/,
    );
  });

  it('has a stand-in for every matcher the package registers, and the package registers each stand-in', () => {
    // Prepare: the stand-ins as this file's setup registered them (a test above may have loaded the package already)
    const clientMockMatcher = /^to(HaveReceived|Receive)/;
    // Act
    require('aws-sdk-client-mock-jest');
    const registered = Object.keys(registeredMatchers()).filter((name) => clientMockMatcher.test(name));
    // Assess: the same names, and none of them still a stand-in
    expect([...registered].sort()).toEqual([...CLIENT_MOCK_MATCHERS].sort());
    expect(registered.filter((name) => registeredMatchers()[name]!.name === 'standIn')).toEqual([]);
  });
});
