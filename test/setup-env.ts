// Tests never reach AWS: fixed fake credentials and region, and no SDK warning noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-key';
process.env.AWS_REGION = 'us-east-1';
delete process.env.AWS_PROFILE;
// Safety net: a client a test forgot to mock fails fast on a closed local port instead of reaching AWS.
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
delete process.env.SLACK_BOT_TOKEN;
// Schema validation of every synthesized template costs ~4 s; one infra test turns it back on.
process.env.CDK_VALIDATION ??= 'false';
