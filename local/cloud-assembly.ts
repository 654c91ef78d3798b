/**
 * A cloud assembly (`cdk.out`): the stack's template and, for each Lambda
 * function, the bundle staged for deployment (`asset.<hash>/index.mjs`), which
 * `cdk deploy` would zip and upload. The local stack's bundles mode runs those
 * files. It can synthesize the assembly first (bundling included, in-process, as
 * `cdk synth` does) or take one already there, e.g. what a pipeline deployed.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { STACK_NAME } from '../lambda/core/contract';
import type { CfnTemplate } from './stack-shape';
import { synthesizeStackTemplate } from './synth';

export interface FunctionBundle {
  /** The module file Lambda loads (`index.mjs` for handler `index.handler`). */
  readonly file: string;
  readonly exportName: string;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly template: CfnTemplate;
  /** The staged bundle of the function with this logical id. */
  bundleOf(logicalId: string): FunctionBundle;
}

export class CloudAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudAssemblyError';
  }
}

interface Manifest {
  readonly artifacts?: Record<string, { readonly type?: string; readonly properties?: { readonly templateFile?: string } }>;
}

interface FunctionResource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: { readonly Handler?: string; readonly Code?: { readonly S3Key?: unknown } };
}

export function readCloudAssembly(dir: string, stackName: string = STACK_NAME): CloudAssembly {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new CloudAssemblyError(`${dir} is not a cloud assembly (no manifest.json): run npm run synth, or point at the cdk.out a deploy used`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const templateFile = manifest.artifacts?.[stackName]?.properties?.templateFile;
  if (templateFile === undefined) throw new CloudAssemblyError(`${dir} has no stack ${stackName}`);
  const template = JSON.parse(readFileSync(path.join(dir, templateFile), 'utf8')) as CfnTemplate;

  return {
    dir,
    template,
    bundleOf(logicalId) {
      const resource = template.Resources?.[logicalId] as FunctionResource | undefined;
      if (resource?.Type !== 'AWS::Lambda::Function') throw new CloudAssemblyError(`${logicalId} is not a Lambda function of ${stackName}`);
      // `cdk synth` records the staged path; an assembly synthesized by an App in code names it only through the S3 key (`<hash>.zip`).
      const staged = resource.Metadata?.['aws:asset:path'];
      const s3Key = resource.Properties?.Code?.S3Key;
      const assetDir = typeof staged === 'string' ? staged : typeof s3Key === 'string' ? `asset.${s3Key.replace(/\.zip$/, '')}` : undefined;
      const handler = resource.Properties?.Handler ?? '';
      const dot = handler.lastIndexOf('.');
      if (assetDir === undefined || dot <= 0) throw new CloudAssemblyError(`${logicalId} has no staged asset or handler in ${dir}`);
      const file = path.join(dir, assetDir, `${handler.slice(0, dot)}.mjs`);
      if (!existsSync(file)) throw new CloudAssemblyError(`the bundle of ${logicalId} is not at ${file} (was the assembly synthesized without bundling?)`);
      return { file, exportName: handler.slice(dot + 1) };
    },
  };
}

/** Synthesizes the stack, bundles included, into `dir` (as `cdk synth` writes `cdk.out`), then reads it. */
export async function synthesizeCloudAssembly(dir: string): Promise<CloudAssembly> {
  await synthesizeStackTemplate({ outdir: dir });
  return readCloudAssembly(dir);
}
