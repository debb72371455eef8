import type { Command } from 'commander';

/**
 * Adds `--ca-file` to a command that talks to a server. Apart from server-fetch.ts, which reads
 * the file, so that registering a command does not load Node's TLS and HTTPS modules.
 */
export function addCaFileOption(command: Command): Command {
  return command.option(
    '--ca-file <FILE>',
    "PEM file of CA certificates to trust for https:// servers, besides Node's bundled roots (or SSL_CERT_FILE)",
  );
}
