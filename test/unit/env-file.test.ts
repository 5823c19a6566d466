// The .env-style file `loopgate dev` reads (bin/env-file.ts): KEY=VALUE lines, # comments,
// values as written. It holds secrets, so a bad line is named by number, never quoted.

import { describe, expect, it } from 'vitest';
import { EnvFileError, parseEnvFile } from '../../bin/env-file';

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines, skipping blank lines and # comments', () => {
    const text = [
      '# Jira',
      'LOOPGATE_JIRA_BASE_URL=https://example.atlassian.net',
      '',
      '   # indented comment',
      '  LOOPGATE_JIRA_ISSUE_TYPES = Access Request  ',
    ].join('\n');
    expect(parseEnvFile(text, '.env')).toEqual({
      LOOPGATE_JIRA_BASE_URL: 'https://example.atlassian.net',
      LOOPGATE_JIRA_ISSUE_TYPES: 'Access Request',
    });
  });

  it('takes `export`, matching quotes, CRLF line ends, = and # inside values, and the last of a repeated key', () => {
    const text =
      'export LOOPGATE_STAGE=dev\r\nLOOPGATE_OKTA_TOKEN="00ab#cd=ef"\r\nLOOPGATE_SLACK_TOKEN=\'xoxp-1 2\'\r\n' +
      'LOOPGATE_PAGERDUTY_TOKEN=a#b\r\nLOOPGATE_STAGE=prod\r\nLOOPGATE_EMPTY=\r\nLOOPGATE_HALF="open\r\n';
    expect(parseEnvFile(text, '.env')).toEqual({
      LOOPGATE_STAGE: 'prod',
      LOOPGATE_OKTA_TOKEN: '00ab#cd=ef',
      LOOPGATE_SLACK_TOKEN: 'xoxp-1 2',
      LOOPGATE_PAGERDUTY_TOKEN: 'a#b',
      LOOPGATE_EMPTY: '',
      LOOPGATE_HALF: '"open',
    });
  });

  it('refuses a line that is not KEY=VALUE, naming the file and line but not the text', () => {
    for (const line of ['LOOPGATE_OKTA_TOKEN 00abc-secret', '=00abc-secret', 'BAD-NAME=00abc-secret']) {
      const parse = () => parseEnvFile(`# ok\n${line}\n`, 'dev.env');
      expect(parse).toThrow(EnvFileError);
      expect(parse).toThrow(
        'dev.env:2: not KEY=VALUE (a name of letters, digits and _, then =, then the value)',
      );
      expect(parse).not.toThrow(/secret/);
    }
  });
});
