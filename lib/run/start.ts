// pen's start-up, in Pen's order where it matters (spec/cli.md "Start-up order"):
// argv -> -O commands -> checks -> (daemon) -> data plane + snapshot -> listener -> control
// port -> request log + pidfile -> chroot/user -> -w check -> signals -> serve. Every failure
// ends with one line naming the problem and a non-zero status; nothing is retried silently.
import fs from 'node:fs';

import { parseArgv } from '../config/argv.js';
import type { Settings } from '../config/settings.js';
import { workersOf } from '../config/workers.js';
import { usageText } from '../config/usage.js';
import { dispatchReply } from '../control/dispatch.js';
import { describeErrors, loadConfigFile } from '../control/reload.js';
import { checkControlPrivileges, controlExposureWarning, startControlServer } from '../control/socket.js';
import { commandTable } from '../control/table.js';
import { Engine } from '../engine/engine.js';
import { formatError, isPenError, PenError } from '../errors.js';
import { NOTICE, stderrLogger, type Logger } from '../log/debug.js';
import { LogOutputs } from '../log/outputs.js';
import { syslogLogger } from '../log/syslog.js';
import { isDaemonChild, reportToParent, spawnDaemon } from './daemon.js';
import { explainResolve } from './explain.js';
import { checkWebStatsFile, listeningLine } from './announce.js';
import { dropPrivileges, lookupUser } from './privileges.js';
import { Runtime } from './runtime.js';
import { installSignals } from './signals.js';
import { VERSION } from './version.js';

/** Runs `pen` with argv (without node and script); resolves with the exit status when pen
    ends by itself (errors, help); a running balancer exits from its signal handlers. */
export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseArgv(argv);
    if (parsed.action === 'help') {
      process.stdout.write(usageText());
      return 0;
    }
    if (parsed.action === 'version') {
      process.stdout.write(`pen ${VERSION}\n`);
      return 0;
    }
    for (const w of parsed.warnings) process.stderr.write(`pen: ${w}\n`);
    // Refused loudly before anything starts (Pen only logged it; quirk 44).
    if (parsed.settings.control !== null) checkControlPrivileges(process.getuid?.() ?? -1, parsed.settings.user);
    commandTable(); // a duplicate command name fails here, not at the first command
    if (!parsed.settings.foreground && !isDaemonChild()) return await spawnDaemon();
    await serve(parsed.settings, parsed.commands);
    return -1; // running: the process ends through its signal handlers
  } catch (err) {
    const text = isPenError(err) ? formatError(err) : `pen: ${(err as Error).message}`;
    const code = isPenError(err) ? err.exitCode : 1;
    if (isDaemonChild()) reportToParent({ error: text, exitCode: code });
    else process.stderr.write(text + '\n');
    return code;
  }
}

/** Foreground: stderr. Daemon: syslog (ident pen), or stderr (/dev/null) with a warning. */
function diagnostics(level: number, warnings: string[]): Logger {
  if (!isDaemonChild()) return stderrLogger(level);
  try {
    return syslogLogger('pen', level);
  } catch (err) {
    warnings.push(`pen: cannot reach syslog (${(err as Error).message}): diagnostics are discarded`);
    return stderrLogger(level);
  }
}

/**
 * What cannot go with Direct Server Return (pen never sees a connection there, only frames
 * one way), or tarpit_acl without it; null when the settings are consistent.
 */
function dsrConflict(s: Settings): string | null {
  if (s.dsrIf === null) return s.tarpitAcl >= 0 ? 'tarpit_acl needs dsr_if (the tarpit answers on the DSR interface)' : null;
  if (s.sslCert !== null) return 'dsr_if and -E cannot go together: with Direct Server Return pen never sees a connection to terminate TLS on';
  if (s.http) return 'dsr_if and -H (http) cannot go together: with Direct Server Return pen never sees the requests';
  if (s.dummy) return 'dsr_if and dummy cannot go together: with Direct Server Return pen never answers a client itself';
  if (s.idlers > 0) return 'dsr_if and idlers cannot go together: with Direct Server Return pen makes no backend connection for clients';
  if (workersOf(s) > 1) return `dsr_if forwards frames on one thread: workers must be 1 with it (workers ${s.workers} was given)`;
  if (s.transparent) return "dsr_if and transparent cannot go together: with Direct Server Return the servers see the clients' addresses already";
  return null;
}

async function serve(initial: Settings, commands: string[]): Promise<void> {
  const warnings: string[] = [];
  const logger = diagnostics(initial.debug, warnings);
  const engine = new Engine(logger, initial.eventBackend, initial.udp);
  const logs = new LogOutputs(logger);
  engine.access = logs.access;
  let pidfile: string | null = null;
  let controlPath: string | null = null;
  const shutdown = (): void => {
    engine.close(); // hands over the last access records first
    logs.access.close();
    for (const f of [pidfile, engine.listening?.path, controlPath]) {
      try {
        if (f) fs.rmSync(f, { force: true });
      } catch {
        // a pid file in a directory only root may write stays after -u, as with Pen
      }
    }
    process.exit(0);
  };
  const rt = new Runtime(initial, engine, shutdown, logs);
  try {
    for (const line of commands) {
      const reply = await dispatchReply(rt, line, 'option');
      if (reply.error) throw new PenError('PEN_ERR_CONFIG', { detail: `-O "${line}": ${reply.text.trim().replace(/^pen: /, '')}` });
      if (reply.text) rt.out(reply.text);
    }
    // The settings before the -F file: HUP re-reads the file on top of these, so a reload is
    // a diff against a fresh read, never a second application of the same lines.
    const base = structuredClone(rt.settings());
    const file = base.configFile;
    if (file !== null) {
      const r = await loadConfigFile(rt, file, base, { startup: true });
      if (r.errors.length) throw new PenError('PEN_ERR_CONFIG', { detail: describeErrors(r.errors) });
    }
    const s = rt.settings();
    logger.level = s.debug;
    if (s.listen === null) throw new PenError('PEN_ERR_CONFIG', { detail: 'no listen address given (LISTEN or -O "listen ADDR")' });
    if (s.servers.length === 0) throw new PenError('PEN_ERR_CONFIG', { detail: 'no backend servers given' });
    const dsrProblem = dsrConflict(s);
    if (dsrProblem) throw new PenError('PEN_ERR_CONFIG', { detail: dsrProblem });
    logs.access.expect(s.log); // records before the log is open (below) are kept for it
    try {
      await engine.apply(s);
    } catch (err) {
      const why = explainResolve(err, s);
      throw why ? new PenError('PEN_ERR_START', { detail: why }) : err;
    }
    await engine.listen(s.listen, s);
    rt.running = true;
    if (s.control !== null) {
      await startControlServer({ ctx: rt, address: s.control });
      if (s.control.includes('/')) controlPath = s.control;
      const exposed = controlExposureWarning(s);
      if (exposed) warnings.push(exposed);
    }
    // Files named on the command line (-l, -p) are opened with the rights pen was started
    // with, before -j and -u, as Pen's users run it (-u nobody -p /var/run/pen.pid). A HUP
    // reopens -l with the user's rights; when that fails pen keeps the file it has open.
    try {
      await logs.apply(rt.settings()); // a `log` command may have come in over the control socket
    } catch (err) {
      throw new PenError('PEN_ERR_START', { detail: explainResolve(err, rt.settings()) ?? (err as Error).message });
    }
    if (s.pidfile) {
      try {
        fs.writeFileSync(s.pidfile, String(process.pid));
      } catch (err) {
        throw new PenError('PEN_ERR_START', { detail: `cannot write pidfile: ${(err as Error).message}` });
      }
      pidfile = s.pidfile;
    }
    const account = s.user ? lookupUser(s.user) : null;
    try {
      const { lost } = dropPrivileges(s.chroot, account, { engine: engine.native, settings: rt.settings() });
      if (lost !== null) rt.transparentLost = { user: account!.name, capability: lost };
    } catch (err) {
      throw new PenError('PEN_ERR_START', { detail: (err as Error).message });
    }
    checkWebStatsFile(rt.settings().webStats, s.user);
    installSignals(rt, engine, logger, shutdown, file === null ? null : () => loadConfigFile(rt, file, base, { startup: false }));
    for (const w of warnings) logger.log(0, w.replace(/^pen: /, ''));
    logger.log(NOTICE, listeningLine(rt.settings(), engine.listening?.port ?? 0));
    reportToParent({ ready: true, warnings });
  } catch (err) {
    engine.close();
    throw err;
  }
}

export type { Logger };
