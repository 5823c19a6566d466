// The model provider in the stack: only with Bedrock may a function invoke a model,
// and then only triage and only the configured model (no key is stored for it).
// Templates without bundling: IAM and environment only.

import type { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../../lib/functions';
import { buildApp } from '../../lib/loopgate-app';
import { cdkContext, exampleStage } from './support';

type Json = Record<string, unknown>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** An intrinsic as text, the partition and region filled in. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if ('Ref' in v)
    return ({ 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1' } as Json)[v.Ref as string] as string;
  return JSON.stringify(value);
}

function synth(model?: Json) {
  const stack = buildApp({
    context: cdkContext(model ? { ...exampleStage(), model } : exampleStage()),
  }).appStack;
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Type: string; Properties: Json }
  >;
  const id = (construct: IConstruct) =>
    (stack as Stack).getLogicalId(construct.node.defaultChild as CfnResource);
  const bedrock = (name: FunctionName) =>
    Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          list(r.Properties.Roles as unknown[]).some(
            (ref) => (ref as Json).Ref === id(stack.functions[name].role),
          ),
      )
      .flatMap((r) => list((r.Properties.PolicyDocument as Json).Statement as Statement[]))
      .filter((s) => list(s.Action).some((a) => a.startsWith('bedrock:')));
  const environment = (name: FunctionName) =>
    (resources[id(stack.functions[name].function)]?.Properties.Environment as { Variables: Json }).Variables;
  return { bedrock, environment };
}

// A synth takes seconds, more on a busy machine.
describe('the model provider', { timeout: 180_000 }, () => {
  it('lets no function invoke a Bedrock model unless the stage chooses Bedrock', () => {
    const { bedrock } = synth();
    for (const name of FUNCTION_NAMES) expect(bedrock(name)).toEqual([]);
  });

  it('with provider bedrock, lets triage, and only triage, invoke the one configured model', () => {
    const { bedrock, environment } = synth({
      name: 'openai.gpt-oss-120b-1:0',
      provider: 'bedrock',
      region: 'us-west-2',
    });
    expect(bedrock('triage').map((s) => [list(s.Action), list(s.Resource).map(render)])).toEqual([
      [['bedrock:InvokeModel'], ['arn:aws:bedrock:us-west-2::foundation-model/openai.gpt-oss-120b-1:0']],
    ]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'triage')) expect(bedrock(name)).toEqual([]);
    expect(environment('triage')).toMatchObject({
      LOOPGATE_MODEL_PROVIDER: 'bedrock',
      LOOPGATE_MODEL: 'openai.gpt-oss-120b-1:0',
      LOOPGATE_MODEL_REGION: 'us-west-2',
    });
  });

  it("defaults the model's region to the stack's", () => {
    const { bedrock, environment } = synth({ name: 'openai.gpt-oss-20b-1:0', provider: 'bedrock' });
    expect(bedrock('triage').flatMap((s) => list(s.Resource).map(render))).toEqual([
      'arn:aws:bedrock:eu-west-1::foundation-model/openai.gpt-oss-20b-1:0',
    ]);
    expect(environment('triage')).not.toHaveProperty('LOOPGATE_MODEL_REGION');
  });

  it('refuses a region for another provider', () => {
    expect(() => synth({ name: 'gpt-4o-mini', provider: 'openai', region: 'us-west-2' })).toThrow(
      /region is for provider bedrock only/,
    );
  });
});
