import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SLACK_PATH } from '../../../lambda/cli/slack';

const ROOT = path.join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'slack', 'manifest.json'), 'utf8')) as {
  features: { bot_user?: { display_name: string } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string } };
};

describe('Slack app manifest (slack/manifest.json)', () => {
  it('asks for the bot scopes the guard calls need, and no others', () => {
    // chat.postMessage/chat.update, users.info, users.lookupByEmail (e-mail), conversations.open, usergroups.users.list
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'im:write', 'usergroups:read', 'users:read', 'users:read.email'].sort(),
    );
  });

  it('has a bot user and interactivity on, with a placeholder URL to replace', () => {
    expect(manifest.features.bot_user?.display_name).toBeTruthy();
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.interactivity.request_url).toMatch(/^https:\/\/REPLACE/);
  });

  it('is what docs/slack.md walks through (and names the local path slack serve uses)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'slack.md'), 'utf8');
    expect(doc).toContain('slack/manifest.json');
    expect(doc).toContain(SLACK_PATH);
    for (const scope of manifest.oauth_config.scopes.bot) expect(doc).toContain(`\`${scope}\``);
  });
});
