import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ClockSkewError, captureServerDate, MAX_CLOCK_SKEW_MS, runClock } from '../../../lambda/cli/aws-clock';
import { TEST_NOW } from '../../helpers/context';
import { type StsTestServer, startStsServer } from '../../helpers/sts-server';

const plus = (ms: number) => new Date(TEST_NOW.getTime() + ms);

describe('Function: runClock', () => {
  it("takes AWS's time when the laptop is within 5 minutes of it", () => {
    // Act
    const clock = runClock(TEST_NOW, plus(4 * 60_000));
    // Assess
    expect(clock).toEqual({ now: plus(4 * 60_000), source: 'aws' });
  });

  it.each([
    [7 * 60_000, '7 minutes behind'],
    [-(2 * 60 + 5) * 60_000, '125 minutes ahead of'],
  ])('refuses a laptop %d ms off, saying how far and how to fix it', (skew, words) => {
    // Act / Assess
    expect(() => runClock(TEST_NOW, plus(skew))).toThrow(ClockSkewError);
    expect(() => runClock(TEST_NOW, plus(skew))).toThrow(
      `your clock is ${words} AWS's; fix it (timedatectl/ntp) — the guard's grace periods depend on it`,
    );
  });

  it('allows the second the Date header rounds away, and no more', () => {
    expect(runClock(TEST_NOW, plus(MAX_CLOCK_SKEW_MS + 1000)).source).toBe('aws');
    expect(() => runClock(TEST_NOW, plus(MAX_CLOCK_SKEW_MS + 1001))).toThrow(ClockSkewError);
  });

  it('uses the local clock when no response carried a Date', () => {
    expect(runClock(TEST_NOW, undefined)).toEqual({ now: TEST_NOW, source: 'local' });
  });
});

describe('Function: captureServerDate', () => {
  let server: StsTestServer;
  afterEach(async () => server.close());

  it('reads the Date header of a real STS response through the SDK middleware stack', async () => {
    // Prepare
    server = await startStsServer(new Date('2026-11-15T12:07:30.000Z'));
    const client = new STSClient({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
    const read = captureServerDate(client);
    // Act
    const before = read();
    const id = await client.send(new GetCallerIdentityCommand({}));
    // Assess
    expect(before).toBeUndefined();
    expect(id.Account).toBe('123456789012');
    expect(read()).toEqual(new Date('2026-11-15T12:07:30.000Z'));
    client.destroy();
  });

  it('reads nothing from a response without a Date header', async () => {
    // Prepare
    server = await startStsServer(undefined);
    const client = new STSClient({ region: 'us-east-1', endpoint: server.url, maxAttempts: 1 });
    const read = captureServerDate(client);
    // Act
    await client.send(new GetCallerIdentityCommand({}));
    // Assess
    expect(read()).toBeUndefined();
    client.destroy();
  });
});
