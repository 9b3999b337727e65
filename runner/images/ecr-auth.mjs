// Registry credentials from ECR's GetAuthorizationToken: base64("AWS:<password>"). The password is returned to
// the caller only; it is never logged and never placed on a command line.
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ImageAuthError } from './failures.mjs';

/**
 * @param {Pick<import('@aws-sdk/client-ecr').ECRClient, 'send'>} ecr ECR client (runner/aws/clients.mjs createAwsClients().ecr)
 * @returns {Promise<{ username: string, password: string, proxyEndpoint: string|null, expiresAt: Date|null }>}
 */
export async function ecrCredentials(ecr) {
  let out;
  try {
    out = await ecr.send(new GetAuthorizationTokenCommand({}));
  } catch (e) {
    const err = /** @type {Error} */ (e);
    throw new ImageAuthError(`ECR GetAuthorizationToken failed: ${err?.name ?? 'Error'}: ${err?.message ?? err}`);
  }
  const data = out?.authorizationData?.[0];
  if (!data?.authorizationToken) throw new ImageAuthError('ECR GetAuthorizationToken returned no authorization token');
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 1 || i === decoded.length - 1) throw new ImageAuthError('ECR authorization token is not base64 "user:password"');
  return {
    username: decoded.slice(0, i),
    password: decoded.slice(i + 1),
    proxyEndpoint: data.proxyEndpoint ?? null,
    expiresAt: data.expiresAt ? new Date(data.expiresAt) : null,
  };
}
