/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (see
 * BUNDLE_ALIASES in lib/bundling.ts): inside Lambda the credentials of the
 * function's role are always in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, so the environment provider is the whole chain.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
