/** Where `hotpath pgo` finds its server and keys, and which flag or variable said so. */
export interface PgoEndpoint {
  server: string;
  serverFrom: string;
  appKey?: string;
  apiKey?: string;
}

/**
 * Resolves the server and keys as a datadog-pgo CI step has them: --server, else HOTPATH_URL,
 * else https://app.$DD_SITE (the address datadog-pgo calls), else http://localhost:8126; the
 * application key from --app-key, HOTPATH_APP_KEY, DD_APP_KEY or DD_APPLICATION_KEY; the API key
 * (sent as DD-API-KEY, as datadog-pgo does) from HOTPATH_API_KEY or DD_API_KEY.
 */
export function pgoEndpoint(flags: { server?: string; appKey?: string }, env: NodeJS.ProcessEnv = process.env): PgoEndpoint {
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const [server, serverFrom] =
    flags.server !== undefined
      ? [flags.server, '--server']
      : nonEmpty(env.HOTPATH_URL) !== undefined
        ? [env.HOTPATH_URL as string, 'HOTPATH_URL']
        : nonEmpty(env.DD_SITE) !== undefined
          ? [`https://app.${env.DD_SITE}`, 'DD_SITE']
          : ['http://localhost:8126', 'the default'];
  return {
    server,
    serverFrom,
    appKey: flags.appKey ?? nonEmpty(env.HOTPATH_APP_KEY) ?? nonEmpty(env.DD_APP_KEY) ?? nonEmpty(env.DD_APPLICATION_KEY),
    apiKey: nonEmpty(env.HOTPATH_API_KEY) ?? nonEmpty(env.DD_API_KEY),
  };
}
