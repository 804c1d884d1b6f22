import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { STATE_TABLE_NAME } from '../../lambda/core/names';

/** Placeholder the created secret starts with; the Lambdas treat it as "no token yet" and log messages instead. */
export const SLACK_TOKEN_PLACEHOLDER = 'REPLACE_WITH_SLACK_BOT_TOKEN';

export interface SharedResourcesProps {
  readonly config: CostGuardConfig;
}

/**
 * What every capability shares: the DynamoDB state table (alert de-duplication and the savings ledger) and the
 * Slack bot token secret (referenced by `slack.tokenSecretName`, or created with a placeholder to fill in).
 */
export class SharedResources extends Construct {
  readonly stateTable: dynamodb.Table;
  readonly slackSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SharedResourcesProps) {
    super(scope, id);
    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      tableName: STATE_TABLE_NAME,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const name = props.config.slack.tokenSecretName;
    if (name) {
      this.slackSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SlackToken', name);
      // A secret referenced by name has an ARN ending in a random suffix; grants use `<name>-??????`.
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????]`,
        reason: 'A secret referenced by name is matched by its name and the six-character suffix Secrets Manager adds.',
      });
    } else {
      const secret = new secretsmanager.Secret(this, 'SlackToken', {
        description: 'ml-cost-guard Slack bot token (xoxb-...). Replace the placeholder after deploying.',
        secretStringValue: SecretValue.unsafePlainText(SLACK_TOKEN_PLACEHOLDER),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A Slack bot token is issued by Slack and cannot be rotated by a Secrets Manager rotation function; ' +
          'rotate it in the Slack app settings and update the secret.',
      });
      this.slackSecret = secret;
    }
  }
}
