// Builds the loopgate CDK app. The catalog is validated here, so a bad catalog fails the synth.

import { App, type AppProps, Tags } from 'aws-cdk-lib';
import type { Catalog } from '../lambdas/core/catalog';
import { loadCatalogFile } from '../lambdas/platform/catalog-file';
import { StatefulStack } from './stateful-stack';

export const DEFAULT_CATALOG_FILE = 'config/catalog.yaml';

export interface LoopgateApp {
  app: App;
  catalog: Catalog;
  stateful: StatefulStack;
}

export function buildApp(props?: AppProps): LoopgateApp {
  const app = new App(props);
  const catalogFile = String(app.node.tryGetContext('catalog') ?? DEFAULT_CATALOG_FILE);
  const catalog = loadCatalogFile(catalogFile);
  const stateful = new StatefulStack(app, 'LoopgateStateful', {
    description: 'loopgate: access requests and their audit trail',
  });
  Tags.of(app).add('app', 'loopgate');
  return { app, catalog, stateful };
}
