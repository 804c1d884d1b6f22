// Tests never reach AWS: fixed fake credentials and region, and no SDK warning noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-key';
process.env.AWS_REGION = 'us-east-1';
delete process.env.AWS_PROFILE;
// Safety net: a client a test forgot to mock fails fast on a closed local port instead of reaching AWS.
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
// The SDK's default defaults mode, said explicitly: unset, every client construction first throws and catches two
// "not found" errors (env, then ~/.aws/config), which the property suites pay thousands of times.
process.env.AWS_DEFAULTS_MODE = 'legacy';
delete process.env.SLACK_BOT_TOKEN;
// CDK's built-in CloudFormation schema validation of every synthesized template costs seconds per synthesis; the
// tests assert the templates themselves, and `cdk synth` (the README's setup, and CI) runs it with validation on.
process.env.CDK_VALIDATION ??= 'false';
// No creation stack trace in each construct's metadata (context the CDK CLI would pass the same way): capturing one
// per CloudFormation element through Jest's source-mapped stack traces costs the infra tests seconds. Templates are
// the same; a test that sets CDK_CONTEXT_JSON for a child process (the bin's synth) replaces it.
process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:disable-creation-stack-traces': true });
