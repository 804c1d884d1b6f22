/**
 * One factory for every AWS SDK client a run uses: one client per service and region, created on first use,
 * with the run's API-call counter attached and the standard SDK retry strategy (throttling and 5xx are retried by
 * the SDK before an error reaches us). The standard credential and endpoint chain applies (AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL…), so the CLI on a laptop and the Lambda use the same code.
 *
 * SDK packages are required on first use, not at import: a function loads only the clients it calls (the EC2
 * client alone takes ~200 ms to load), which keeps every Lambda's cold start short.
 */
import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { PricingClient } from '@aws-sdk/client-pricing';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { STSClient } from '@aws-sdk/client-sts';
import { ApiCallCounter } from '../shared/api-calls';
import { errorCode, STATE_TABLE_REMEDY, StateTableNotFoundError } from '../shared/errors';

export interface ClientFactoryOptions {
  /** Region for global services and the default region of the run. */
  readonly defaultRegion: string;
  readonly counter?: ApiCallCounter;
  /** SDK max attempts per call (first try + retries). @default 5 */
  readonly maxAttempts?: number;
  /** Custom endpoint (e.g. a local emulator); S3 then uses path-style addressing. */
  readonly endpoint?: string;
  /** What a StateTableNotFoundError tells the reader to do. @default STATE_TABLE_REMEDY.lambda */
  readonly stateTableRemedy?: string;
  /**
   * Credentials of another account (a spoke role's, organization mode); absent: the standard credential chain.
   * The shape every SDK client's `credentials` option takes.
   */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
    readonly expiration?: Date;
  };
  /**
   * Where DynamoDB calls go for a factory of another account: the hub's factory, since the state table lives in the
   * hub (keyed by the account). Set by `forAccount`.
   */
  readonly stateTableClients?: ClientFactory;
}

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => Promise<unknown> | undefined;

/** The table a DynamoDB command names: its TableName, or the first table of a batch. */
function tableOf(command: unknown): string {
  const input = (command as { input?: { TableName?: unknown; RequestItems?: Record<string, unknown> } }).input;
  if (typeof input?.TableName === 'string') return input.TableName;
  return Object.keys(input?.RequestItems ?? {})[0] ?? 'unknown';
}

/**
 * DynamoDB answers ResourceNotFoundException for a missing table without naming it: through this client the call
 * throws StateTableNotFoundError instead, naming the table, the region and what to do.
 */
function namingMissingTables<T extends object>(client: T, region: string, remedy: string): T {
  const send = (client as unknown as { send: Send }).send;
  Object.defineProperty(client, 'send', {
    configurable: true,
    value(this: T, command: unknown, ...rest: unknown[]) {
      const result = send.call(this, command, ...rest);
      return result?.catch((error: unknown) => {
        if (errorCode(error) !== 'ResourceNotFoundException') throw error;
        throw new StateTableNotFoundError(tableOf(command), region, remedy, { cause: error });
      });
    },
  });
  return client;
}

export class ClientFactory {
  readonly counter: ApiCallCounter;
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly options: ClientFactoryOptions) {
    this.counter = options.counter ?? new ApiCallCounter();
  }

  /** A factory with the same settings and a fresh call counter (one per report section). */
  fresh(): ClientFactory {
    return new ClientFactory({ ...this.options, counter: this.counter.fresh() });
  }

  /**
   * A factory for another account: the same settings with that account's credentials. Its calls count on a counter
   * of its own (each unit of an organization run counts its own calls), or on this one with `shareCounter`. Its
   * DynamoDB client stays this account's: the state table is the hub's, whichever account a run works in.
   */
  forAccount(
    credentials: NonNullable<ClientFactoryOptions['credentials']>,
    o: { readonly shareCounter?: boolean } = {},
  ): ClientFactory {
    return new ClientFactory({
      ...this.options,
      credentials,
      counter: o.shareCounter ? this.counter : this.counter.fresh(),
      stateTableClients: this.options.stateTableClients ?? this,
    });
  }

  get defaultRegion(): string {
    return this.options.defaultRegion;
  }

  private make<T extends object>(service: string, region: string, create: () => T, wrap?: (client: T) => T): T {
    const key = `${service}@${region}`;
    let client = this.cache.get(key) as T | undefined;
    if (!client) {
      client = this.counter.attach(create(), service, region);
      if (wrap) client = wrap(client);
      this.cache.set(key, client);
    }
    return client;
  }

  private base(region: string) {
    return {
      region,
      maxAttempts: this.options.maxAttempts ?? 5,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
    };
  }

  ec2(region = this.defaultRegion): EC2Client {
    return this.make(
      'EC2',
      region,
      () => new (require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2')).EC2Client(this.base(region)),
    );
  }

  cloudwatch(region = this.defaultRegion): CloudWatchClient {
    return this.make(
      'CloudWatch',
      region,
      () =>
        new (require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient(
          this.base(region),
        ),
    );
  }

  s3(region = this.defaultRegion): S3Client {
    return this.make(
      'S3',
      region,
      () =>
        new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({
          ...this.base(region),
          // A custom endpoint (LocalStack, MinIO) rarely serves virtual-hosted bucket names.
          forcePathStyle: this.options.endpoint !== undefined,
          followRegionRedirects: true,
        }),
    );
  }

  sagemaker(region = this.defaultRegion): SageMakerClient {
    return this.make(
      'SageMaker',
      region,
      () =>
        new (require('@aws-sdk/client-sagemaker') as typeof import('@aws-sdk/client-sagemaker')).SageMakerClient(
          this.base(region),
        ),
    );
  }

  /** AWS Budgets is a global service served from us-east-1. */
  budgets(): BudgetsClient {
    return this.make(
      'Budgets',
      'us-east-1',
      () =>
        new (require('@aws-sdk/client-budgets') as typeof import('@aws-sdk/client-budgets')).BudgetsClient(
          this.base('us-east-1'),
        ),
    );
  }

  dynamodb(region = this.defaultRegion): DynamoDBClient {
    if (this.options.stateTableClients) return this.options.stateTableClients.dynamodb(region);
    return this.make(
      'DynamoDB',
      region,
      () =>
        new (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient(
          this.base(region),
        ),
      (client) => namingMissingTables(client, region, this.options.stateTableRemedy ?? STATE_TABLE_REMEDY.lambda),
    );
  }

  sts(region = this.defaultRegion): STSClient {
    return this.make(
      'STS',
      region,
      () => new (require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts')).STSClient(this.base(region)),
    );
  }

  /** IAM is global: the SDK sends every region's calls to the partition's one IAM endpoint. */
  iam(): IAMClient {
    return this.make(
      'IAM',
      this.defaultRegion,
      () =>
        new (require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam')).IAMClient(
          this.base(this.defaultRegion),
        ),
    );
  }

  /**
   * AWS Organizations has one endpoint per partition (us-east-1 in the commercial partition); the SDK resolves it
   * from any region of the partition.
   */
  organizations(): OrganizationsClient {
    return this.make(
      'Organizations',
      this.defaultRegion,
      () =>
        new (
          require('@aws-sdk/client-organizations') as typeof import('@aws-sdk/client-organizations')
        ).OrganizationsClient(this.base(this.defaultRegion)),
    );
  }

  /** The Price List API has endpoints in us-east-1, eu-central-1 and ap-south-1 only. */
  pricing(): PricingClient {
    return this.make(
      'Pricing',
      'us-east-1',
      () =>
        new (require('@aws-sdk/client-pricing') as typeof import('@aws-sdk/client-pricing')).PricingClient(
          this.base('us-east-1'),
        ),
    );
  }
}
