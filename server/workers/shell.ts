/** POSIX sh single-quoting: the string reaches the remote program as exactly one argument. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const shellJoin = (argv: readonly string[]): string => argv.map(shellQuote).join(" ");

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface WrapOptions {
  useSudo: boolean;
  /** Remote `timeout` duration in seconds; 0 runs without a deadline but still in its own group. */
  timeoutSec: number;
  /** Seconds between the timeout's SIGTERM and its SIGKILL. */
  killAfterSec: number;
  /** Appears in the remote process list (as sh's $0) so an abort can find the process group. */
  marker: string;
  env?: Readonly<Record<string, string>>;
}

/**
 * The remote command line for `command`:
 *   exec [sudo -n] timeout -k K T [env K=V...] sh -c '<command>' <marker>
 * `exec` makes timeout the process sshd started; GNU timeout puts itself and the command in a
 * new process group and, on expiry or on receiving SIGTERM, signals that whole group, so
 * children of the command die too. sudo comes first so that timeout (and its group kill) runs
 * as root: a group kill from the unprivileged user could not reach root-owned children.
 */
export function wrapCommand(command: string, o: WrapOptions): string {
  const env = Object.entries(o.env ?? {});
  for (const [k] of env) if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
  const parts = ["exec"];
  if (o.useSudo) parts.push("sudo", "-n");
  parts.push("timeout", "-k", String(o.killAfterSec), formatSeconds(o.timeoutSec));
  if (env.length) parts.push("env", ...env.map(([k, v]) => shellQuote(`${k}=${v}`)));
  parts.push("sh", "-c", shellQuote(command), shellQuote(o.marker));
  return parts.join(" ");
}

/** `command` as is, or under `sudo -n sh -c` (for probes that must not depend on `timeout`). */
export function wrapRaw(command: string, useSudo: boolean): string {
  return useSudo ? `sudo -n sh -c ${shellQuote(command)}` : command;
}

function formatSeconds(sec: number): string {
  if (!(sec >= 0) || !Number.isFinite(sec)) throw new Error(`invalid timeout ${sec}`);
  // timeout(1) accepts a decimal fraction; keep millisecond precision, no exponent notation.
  return sec === 0 ? "0" : sec.toFixed(3).replace(/\.?0+$/, "");
}
