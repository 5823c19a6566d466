// Builds the loopgate CDK app: the stage configuration and the catalog are
// validated first, so a bad value fails the synth with its name and place.

import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Catalog } from '../lambdas/core/catalog';
import { loadCatalogFile } from '../lambdas/platform/catalog-file';
import { AppStack } from './app-stack';
import { DEFAULT_CATALOG_FILE, readStageConfig, type StageConfig } from './stage-config';
import { StatefulStack } from './stateful-stack';

export { DEFAULT_CATALOG_FILE };

export interface LoopgateApp {
  app: App;
  config: StageConfig;
  catalog: Catalog;
  stateful: StatefulStack;
  appStack: AppStack;
}

export function buildApp(props?: AppProps): LoopgateApp {
  const app = new App(props);
  const config = readStageConfig(app.node);
  const catalog = loadCatalogFile(config.catalog);
  const env =
    config.account !== undefined || config.region !== undefined
      ? { account: config.account, region: config.region }
      : undefined;
  const stateful = new StatefulStack(app, 'LoopgateStateful', {
    stackName: `loopgate-${config.stage}-stateful`,
    description: 'loopgate: access requests, their audit trail, and the integration secrets',
    stage: config.stage,
    secrets: config.secrets,
    ...(env ? { env } : {}),
  });
  const appStack = new AppStack(app, 'LoopgateApp', {
    stackName: `loopgate-${config.stage}-app`,
    description: 'loopgate: the functions, queues, expiry schedules and alarms',
    config,
    catalog,
    stateful,
    ...(env ? { env } : {}),
  });
  Tags.of(app).add('app', 'loopgate');
  Tags.of(app).add('loopgate-stage', config.stage);
  // cdk-nag 3 is a validation plugin: the synth fails on any finding not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, catalog, stateful, appStack };
}
