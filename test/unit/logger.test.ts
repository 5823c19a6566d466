import { describe, expect, it } from 'vitest';
import { Logger, type LoggerOptions, REDACTED } from '../../lambdas/platform/logger';

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    service: 'jira-webhook',
    now: () => new Date('2026-11-21T09:00:00.000Z'),
    write: (line) => lines.push(JSON.parse(line)),
    ...options,
  });
  return { logger, lines };
}

describe('Logger', () => {
  it('writes one JSON line with level, time, service, message and attributes', () => {
    const { logger, lines } = capture();
    logger.info('request stored', { requestId: 'req-1', state: 'RECEIVED' });
    expect(lines).toEqual([
      {
        level: 'info',
        timestamp: '2026-11-21T09:00:00.000Z',
        service: 'jira-webhook',
        message: 'request stored',
        requestId: 'req-1',
        state: 'RECEIVED',
      },
    ]);
  });

  it('drops lines below its level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('noise');
    logger.info('noise');
    logger.warn('kept');
    logger.error('kept');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
  });

  it('keeps appended keys until reset, so one event’s ids never reach the next', () => {
    const { logger, lines } = capture();
    logger.appendKeys({ jiraDeliveryId: 'd-1' });
    logger.info('first');
    logger.resetKeys();
    logger.info('second');
    expect(lines[0]?.jiraDeliveryId).toBe('d-1');
    expect(lines[1]).not.toHaveProperty('jiraDeliveryId');
  });

  it('gives each event a child logger whose keys never reach another event', () => {
    const { logger, lines } = capture();
    const first = logger.child({ jiraDeliveryId: 'd-1' });
    const second = logger.child({ jiraDeliveryId: 'd-2' });
    second.info('second');
    first.info('first');
    logger.info('parent');
    expect(lines.map((l) => [l.message, l.jiraDeliveryId])).toEqual([
      ['second', 'd-2'],
      ['first', 'd-1'],
      ['parent', undefined],
    ]);
  });

  it('redacts secret-named fields at any depth', () => {
    const { logger, lines } = capture();
    logger.info('calling', {
      headers: { Authorization: 'Bearer abc.def', 'x-hub-signature': 'sha256=00ff', accept: 'json' },
      config: {
        okta: { apiToken: 'SSWS 00abc', orgUrl: 'https://example.okta.com' },
        webhookSecrets: ['s1', 's2'],
      },
    });
    expect(lines[0]).toMatchObject({
      headers: { Authorization: REDACTED, 'x-hub-signature': REDACTED, accept: 'json' },
      config: { okta: { apiToken: REDACTED, orgUrl: 'https://example.okta.com' }, webhookSecrets: REDACTED },
    });
  });

  it('redacts credentials that appear inside ordinary text, errors included', () => {
    const { logger, lines } = capture();
    const error = new Error('401 from https://x/api?token=hunter2 with Token token=u+abc and xoxb-123-456');
    logger.error('Okta call failed with SSWS 00aBcD and Bearer eyJhbGciOi.x.y', {
      error,
      note: 'key sk-proj-abcdefghijk',
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of ['00aBcD', 'eyJhbGciOi', 'hunter2', 'u+abc', 'xoxb-123', 'sk-proj-abcdefghijk']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]?.message).toBe('Okta call failed with SSWS [REDACTED] and Bearer [REDACTED]');
    expect(lines[0]?.error).toMatchObject({
      name: 'Error',
      message: expect.stringContaining('token=[REDACTED]'),
    });
  });

  it('logs errors with name, code, stack and cause, and survives cycles', () => {
    const { logger, lines } = capture();
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const looped: Record<string, unknown> = { name: 'loop' };
    looped.self = looped;
    logger.error('failed', { error: new Error('Okta unreachable', { cause }), looped });
    expect(lines[0]?.error).toMatchObject({
      name: 'Error',
      message: 'Okta unreachable',
      stack: expect.stringContaining('Okta unreachable'),
      cause: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
    });
    expect(lines[0]?.looped).toEqual({ name: 'loop', self: '[Circular]' });
  });
});
