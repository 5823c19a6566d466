// The stage configuration from a file (`--context loopgateFile=stages/prod.json`),
// one per stage: pretty-printed JSON works, the file replaces cdk.json's
// `loopgate` object, and a missing, malformed or invalid file stops the synth
// naming the file and the problem. The `loopgate` context still works as before.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/functions';
import { buildApp } from '../../lib/loopgate-app';
import { StageConfigError } from '../../lib/stage-config';
import { cdkContext, exampleStage } from './support';

const dir = mkdtempSync(join(tmpdir(), 'loopgate-stage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` as a stage file and returns its absolute path. */
function stageFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** cdk.json's context (its example `loopgate` object included) with the file named. */
const withFile = (file: string) => ({ ...cdkContext(), loopgateFile: file });

/** The error building the app with `context` throws. */
function failure(context: Record<string, unknown>): StageConfigError {
  try {
    buildApp({ context });
  } catch (error) {
    if (error instanceof StageConfigError) return error;
    throw error;
  }
  throw new Error('expected a StageConfigError');
}

const prod = (): Record<string, unknown> => ({
  ...exampleStage(),
  stage: 'prod',
  jira: { ...(exampleStage().jira as object), projects: ['SEC', 'ACCESS'] },
});

describe('a stage file named by loopgateFile', () => {
  it('is read pretty-printed, over several lines, and replaces the loopgate object of cdk.json', () => {
    const file = stageFile('prod.json', `${JSON.stringify(prod(), null, 2)}\n`);
    expect(file).toBeTruthy();

    const { config, appStack, stateful } = buildApp({ context: withFile(file) });

    expect(config.stage).toBe('prod');
    expect(config.jira.projects).toEqual(['SEC', 'ACCESS']);
    expect([appStack.stackName, stateful.stackName]).toEqual(['loopgate-prod-app', 'loopgate-prod-stateful']);
  });

  it('is found relative to the project root', () => {
    const file = stageFile('relative.json', JSON.stringify(prod(), null, 4));
    const { config } = buildApp({ context: withFile(relative(PROJECT_ROOT, file)) });
    expect(config.stage).toBe('prod');
  });

  it('that does not exist stops the synth naming the file', () => {
    const file = join(dir, 'missing.json');
    const error = failure(withFile(file));
    expect(error.message).toBe(
      [
        `the stage configuration (${file}, from CDK context "loopgateFile") is invalid:`,
        `  ${file}: cannot be read (ENOENT: no such file or directory, open '${file}')`,
      ].join('\n'),
    );
  });

  it('that is not JSON stops the synth naming the file and where the JSON breaks', () => {
    const file = stageFile('broken.json', '{\n  "stage": "prod",\n  "catalog": "config/catalog.yaml",\n}\n');
    const error = failure(withFile(file));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${file}: not JSON at line 4 column 1 \\(`));
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"prod"'],
  ])('that holds %s stops the synth saying it must be an object', (_what, text) => {
    const file = stageFile('not-object.json', text);
    expect(failure(withFile(file)).problems).toEqual([
      `${file}: not a JSON object; it holds what the "loopgate" object of cdk.json would`,
    ]);
  });

  it('with bad values stops the synth naming the file and each key', () => {
    const { okta: _missing, ...stage } = prod();
    const file = stageFile(
      'invalid.json',
      JSON.stringify(
        { ...stage, jira: { ...(stage.jira as object), baseUrl: 'http://example.atlassian.net' }, extra: 1 },
        null,
        2,
      ),
    );
    expect(failure(withFile(file)).message).toBe(
      [
        `the stage configuration (${file}, from CDK context "loopgateFile") is invalid:`,
        '  jira.baseUrl: must be an https URL',
        '  okta: required',
        '  extra: unknown key',
      ].join('\n'),
    );
  });

  it('that is not a path stops the synth', () => {
    expect(failure({ ...cdkContext(), loopgateFile: '' }).problems).toEqual([
      'loopgateFile: must be the path of a JSON file, such as stages/prod.json',
    ]);
  });
});

describe('the loopgate context', () => {
  it('still takes the JSON on one line', () => {
    const { config } = buildApp({ context: cdkContext(JSON.stringify(prod()) as never) });
    expect(config.stage).toBe('prod');
  });

  it('given only the first line of a pretty-printed file, as the CDK CLI passes it, says to name the file', () => {
    const firstLine = JSON.stringify(prod(), null, 2).split('\n')[0];
    expect(firstLine).toBe('{');
    expect(failure(cdkContext(firstLine as never)).problems).toEqual([
      'loopgate: not a JSON object (the CDK CLI passes on only the first line of a --context value: ' +
        'name the file with --context loopgateFile=stages/<stage>.json, or pass the JSON on one line: ' +
        '--context loopgate="$(jq -c . stages/<stage>.json)")',
    ]);
  });
});
