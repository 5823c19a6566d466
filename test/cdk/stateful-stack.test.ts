import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createTableInput } from '../../lambdas/connectors/dynamodb/create-table';
import { INDEXES, TABLE } from '../../lambdas/connectors/dynamodb/schema';
import { CatalogError } from '../../lambdas/core/catalog';
import { INTEGRATION_SECRETS, SECRET_IDS, SECRET_PLACEHOLDER } from '../../lib/integration-secrets';
import { buildApp } from '../../lib/loopgate-app';
import { StageConfigError } from '../../lib/stage-config';
import { cdkContext, exampleStage } from './support';

describe('the stateful stack', () => {
  const { stateful } = buildApp({ context: cdkContext() });
  const template = Template.fromStack(stateful);

  it('has one table: on demand, recoverable, protected from deletion, encrypted, with the TTL attribute', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  it('has exactly the indexes the store queries, with the same keys the test tables use', () => {
    const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const deployed = (table?.Properties.GlobalSecondaryIndexes ?? []).map(
      (i: { IndexName: string; KeySchema: unknown }) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema }),
    );
    const local = (createTableInput('t').GlobalSecondaryIndexes ?? []).map((i) => ({
      IndexName: i.IndexName,
      KeySchema: i.KeySchema,
    }));
    expect(deployed).toEqual(local);
    expect(deployed.map((i: { IndexName: string }) => i.IndexName)).toEqual(
      Object.values(INDEXES).map((i) => i.name),
    );
  });

  it('has one secret per integration, named by stage, retained, created with the constant placeholder', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets.map((s) => s.Properties.Name).sort()).toEqual(
      Object.values(INTEGRATION_SECRETS)
        .map((s) => `loopgate/dev/${s.name}`)
        .sort(),
    );
    for (const secret of secrets) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.UpdateReplacePolicy).toBe('Retain');
      // Never a generated value or anything else: CloudFormation would overwrite what the operator stored.
      expect(secret.Properties.SecretString).toBe(SECRET_PLACEHOLDER);
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
    }
  });

  it("describes each secret's JSON keys and outputs its name", () => {
    for (const spec of Object.values(INTEGRATION_SECRETS)) {
      const [secret] = Object.values(
        template.findResources('AWS::SecretsManager::Secret', {
          Properties: { Name: `loopgate/dev/${spec.name}` },
        }),
      );
      for (const key of [...Object.keys(spec.keys), ...Object.keys(spec.optionalKeys ?? {})]) {
        expect(secret?.Properties.Description).toContain(key);
      }
    }
    const outputs = Object.values(template.findOutputs('*')).map((o) => o.Value);
    expect(outputs).toEqual(
      expect.arrayContaining(Object.values(INTEGRATION_SECRETS).map((s) => `loopgate/dev/${s.name}`)),
    );
  });
});

describe('the stateful stack with secrets: "adopt" (a stage deployed again after cdk destroy)', () => {
  const { stateful } = buildApp({ context: cdkContext({ ...exampleStage(), secrets: 'adopt' }) });
  const template = Template.fromStack(stateful);

  it('creates no secret, so the retained loopgate/<stage>/* secrets do not collide, and still outputs their names', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const outputs = Object.values(template.findOutputs('*')).map((o) => o.Value);
    expect(outputs).toEqual(
      expect.arrayContaining(Object.values(INTEGRATION_SECRETS).map((s) => `loopgate/dev/${s.name}`)),
    );
  });

  it('knows each secret by its name: a partial ARN to read it, the six-character suffix matched in policies', () => {
    // Both are Fn::Join of arn:<partition>:secretsmanager:<region>:<account>:secret:<name>…
    const ending = (value: string) => JSON.stringify(stateful.resolve(value)).replace(/^.*:secret:/, '');
    for (const id of SECRET_IDS) {
      const name = `loopgate/dev/${INTEGRATION_SECRETS[id].name}`;
      expect(ending(stateful.secrets[id].secretArn)).toBe(`${name}"]]}`);
      expect(ending(stateful.secretPolicyArns[id])).toBe(`${name}-??????"]]}`);
    }
  });

  it('keeps the table as always: only the table is retained', () => {
    expect(Object.values(template.toJSON().Resources).map((r) => (r as { Type: string }).Type)).toEqual([
      'AWS::DynamoDB::GlobalTable',
    ]);
  });
});

describe('the secrets setting', () => {
  it('is create by default, and only create or adopt', () => {
    expect(buildApp({ context: cdkContext() }).config.secrets).toBe('create');
    expect(() => buildApp({ context: cdkContext({ ...exampleStage(), secrets: 'import' }) })).toThrow(
      /loopgate\.secrets: /,
    );
  });
});

describe('synth', () => {
  it('fails on a bad catalog, naming the file and the problem', () => {
    const file = 'test/fixtures/catalogs/duplicate-ids.yaml';
    const context = cdkContext({ ...exampleStage(), catalog: file });
    expect(() => buildApp({ context })).toThrow(CatalogError);
    expect(() => buildApp({ context })).toThrow(
      `${file}:10:5 entitlements[1].id: duplicate id "okta-prod-readonly": entitlements[0] has it too`,
    );
  });

  it('fails on a bad stage configuration, naming every bad key', () => {
    const { okta: _missing, ...stage } = exampleStage();
    const context = cdkContext({
      ...stage,
      companyEmailDomain: 'not a domain',
      jira: { ...(stage.jira as object), baseUrl: 'http://example.atlassian.net', project: 'ACCESS' },
      permissionsBoundaryArn: 'arn:aws:iam::111122223333:role/not-a-policy',
    });
    expect(() => buildApp({ context })).toThrow(StageConfigError);
    expect(() => buildApp({ context })).toThrow(
      [
        'the stage configuration (CDK context "loopgate") is invalid:',
        '  loopgate.companyEmailDomain: must be a domain such as example.com',
        '  loopgate.jira.baseUrl: must be an https URL',
        '  loopgate.jira.project: unknown key',
        '  loopgate.okta: required',
        '  loopgate.permissionsBoundaryArn: must be an IAM managed policy ARN',
      ].join('\n'),
    );
  });

  it('fails without a stage configuration, saying where it goes', () => {
    const { loopgate: _absent, ...context } = cdkContext();
    expect(() => buildApp({ context })).toThrow(
      'loopgate: missing; add a "loopgate" object to the context in cdk.json (see docs/setup.md)',
    );
  });

  it('reads the stage configuration as JSON text too (cdk synth --context loopgate=…)', () => {
    const { config } = buildApp({ context: cdkContext(JSON.stringify(exampleStage()) as never) });
    expect(config.jira.projects).toEqual(['ACCESS']);
  });
});
