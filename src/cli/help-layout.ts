import type { Command } from 'commander';

/** Help is wrapped at the terminal's width, but never wider: lines longer than this are hard to read. */
export const MAX_HELP_WIDTH = 100;

/** Help width when the output is not a terminal (a pipe, a file, a test): the classic 80 columns. */
export const DEFAULT_HELP_WIDTH = 80;

/**
 * Returns the width help text is wrapped at for an output stream: the terminal's columns up to
 * MAX_HELP_WIDTH, or DEFAULT_HELP_WIDTH when the stream is not a terminal. Our descriptions are
 * written as unbroken sentences, so commander wraps them at word boundaries for any width.
 */
export function helpWidthFor(stream: { isTTY?: boolean; columns?: number }): number {
  if (stream.isTTY !== true || !stream.columns) return DEFAULT_HELP_WIDTH;
  return Math.min(stream.columns, MAX_HELP_WIDTH);
}

/**
 * The term a command is listed under in its parent's help: its name and its usage line, so the
 * list shows what the command's own help shows (`pgo [options] QUERY... DEST`). Commander's default
 * builds the term from the declared arguments only, which cannot express a DEST after QUERY...
 */
export function subcommandTerm(cmd: Command): string {
  return `${cmd.name()} ${cmd.usage()}`;
}
