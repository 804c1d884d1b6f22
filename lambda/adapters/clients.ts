/**
 * One factory for every AWS SDK client a run uses: one client per service and region, created on first use,
 * with the run's API-call counter attached and the standard SDK retry strategy (throttling and 5xx are retried by
 * the SDK before an error reaches us). The standard credential and endpoint chain applies (AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL…), so the CLI on a laptop and the Lambda use the same code.
 *
 * SDK packages are required on first use, not at import: a function loads only the clients it calls (the EC2
 * client alone takes ~200 ms to load), which keeps every Lambda's cold start short.
 *
 * The SDK clients themselves outlive a run: a warm Lambda's next invocation, and the CLI's next report section, reuse
 * them with their open connections, as AWS recommends (a client is costly to build and holds its own connection
 * pool). A factory hands each run a view of the shared client (`Object.create`): the view has the run's counter and
 * error naming on its own `send`, and everything else (config, middleware, connections) is the shared client's. Clients
 * with a factory's own credentials (another account's, which expire) are not shared, nor STS (the CLI adds a
 * middleware to its STS client to read AWS's clock).
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

/**
 * SDK clients shared by every factory of the process (without credentials of their own), by service, region, max
 * attempts and endpoint: a handful of entries, kept for the life of the process.
 */
const SHARED_CLIENTS = new Map<string, object>();

/**
 * A run's view of a shared client: the prototype is the client, so config, middleware and connections are the
 * shared client's, and `send` defined on the view (the run's counter) is the view's alone. Never `destroy()` a view:
 * that would close the shared client's connections.
 */
function viewOf<T extends object>(client: T): T {
  return Object.create(client) as T;
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

  private make<T extends object>(
    service: string,
    region: string,
    create: () => T,
    o: { readonly wrap?: (client: T) => T; readonly share?: boolean } = {},
  ): T {
    const key = `${service}@${region}`;
    let client = this.cache.get(key) as T | undefined;
    if (!client) {
      const share = o.share !== false && !this.options.credentials;
      client = this.counter.attach(share ? viewOf(this.shared(key, create)) : create(), service, region);
      if (o.wrap) client = o.wrap(client);
      this.cache.set(key, client);
    }
    return client;
  }

  /** The process's client for `key` and this factory's settings (attempts, endpoint), created on first use. */
  private shared<T extends object>(key: string, create: () => T): T {
    const sharedKey = `${key}|${this.options.maxAttempts ?? 5}|${this.options.endpoint ?? ''}`;
    let client = SHARED_CLIENTS.get(sharedKey) as T | undefined;
    if (!client) {
      client = create();
      SHARED_CLIENTS.set(sharedKey, client);
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
      {
        wrap: (client) =>
          namingMissingTables(client, region, this.options.stateTableRemedy ?? STATE_TABLE_REMEDY.lambda),
      },
    );
  }

  sts(region = this.defaultRegion): STSClient {
    return this.make(
      'STS',
      region,
      () => new (require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts')).STSClient(this.base(region)),
      // The CLI adds its clock-reading middleware to this client: a shared one would keep it for every later run.
      { share: false },
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
