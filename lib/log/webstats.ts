// The statistics a running pen reports: gathered once from the settings and the data plane
// (gatherStats), then rendered as Pen's HTML status page (-w FILE on USR1, the `status`
// command; spec/logging-tools.md §6) here, or as the USR1 text report (textstats.ts).
//
// The page is Pen's, line for line. Differences: a connection whose client has no slot in
// the client table shows the client's address in the "client" column; "status" is the time
// a server failed while it is blacklisted (Pen kept the last failure for ever); text is
// HTML-escaped; and an "Access log" section is added when a request log is configured, with
// its counts of lines written, records dropped and lines lost (never silent); a "Dummy
// server" line while `dummy` is on (or answered), an "Idlers" line while idlers are wanted
// or held, and a "Direct Server Return" table of frames and bytes per server with dsr_if.
import type { Settings } from '../config/settings.js';
import type { NativeClient, NativeConnection, NativeEngine, NativeStats } from '../engine/native.js';
import type { AccessLogStats } from './access.js';
import { stamp } from './debug.js';

/** What gatherStats() reads: a ControlContext has all of it. */
export interface StatsSource {
  settings(): Readonly<Settings>;
  readonly engine: Pick<NativeEngine, 'stats' | 'connections' | 'clients'>;
  accessLogStats?(): AccessLogStats | null;
}

export interface ServerRow {
  index: number;
  address: string;
  /** Epoch seconds the server failed, while blacklisted; 0 otherwise. */
  status: number;
  /** Seconds of blacklisting left (rounded up); 0 when not blacklisted. */
  blacklistLeftS: number;
  port: number;
  conn: bigint;
  maxc: number;
  hard: number;
  sx: bigint;
  rx: bigint;
  weight: number;
  prio: number;
  /** DSR: frames and bytes forwarded to the server; null when DSR is off. */
  dsr: { frames: bigint; bytes: bigint } | null;
}

export interface ClientRow {
  index: number;
  address: string;
  ageS: number;
  server: number;
  connects: number;
  sx: bigint;
  rx: bigint;
}

export interface ConnectionRow {
  id: number;
  downfd: number;
  upfd: number;
  pendingDown: number;
  pendingUp: number;
  /** The client's slot in the client table (the `client` column above), or its address when it has none. */
  client: number | string;
  server: number;
}

export interface StatsView {
  /** Local time of the report, Pen's "YYYY-MM-DD HH:MM:SS". */
  time: string;
  current: number;
  servers: ServerRow[];
  clientsMax: number;
  clients: ClientRow[];
  connMax: number;
  used: number;
  /** The highest connection number in use (Pen's "last"), 0 when none. */
  last: number;
  connections: ConnectionRow[];
  accessLog: AccessLogStats | null;
  /** Clients each worker took on (`workers N`); shown when there are several. */
  acceptedByWorker: number[];
  /** Descriptors: the limit, the data plane's budget of it, and what it holds now. */
  fds: { limit: number; budget: number; inUse: number };
  /** `transparent`: whether it is on, and how many backend sockets could not take the client's address. */
  transparent: { on: boolean; failures: number };
  /** `dummy`: on, and the answers given so far. */
  dummy: { on: boolean; answers: bigint };
  /** `idlers`: open or connecting now, and wanted. */
  idlers: { current: number; wanted: number };
  /** TCP: how many of the workers batch their socket reads and writes, and why the others do not. */
  socketIo: { batched: number; workers: number; plainWhy: string };
}

/** Reads everything a report shows, at one moment. */
export function gatherStats(src: StatsSource, now = new Date()): StatsView {
  const s = src.settings();
  const st: NativeStats = src.engine.stats();
  const nowMs = now.getTime();
  const servers = s.servers.map((v, i): ServerRow => {
    const until = st.blacklistedUntil[i] ?? 0;
    return {
      index: i, address: v.host, port: v.port,
      status: until > 0 ? Math.max(0, Math.floor(until / 1000) - s.blacklist) : 0,
      blacklistLeftS: until > 0 ? Math.max(0, Math.ceil((until - nowMs) / 1000)) : 0,
      conn: st.conn[i] ?? 0n, maxc: v.maxc, hard: v.hard, sx: st.sx[i] ?? 0n, rx: st.rx[i] ?? 0n,
      weight: v.weight, prio: v.prio,
      dsr: i < st.dsrFrames.length ? { frames: st.dsrFrames[i]!, bytes: st.dsrBytes[i] ?? 0n } : null,
    };
  });
  // Every client (since: 68 years): the list is the table in slot order, so a client's
  // position is its slot, the number connections give as clientIndex.
  const clientList: NativeClient[] = src.engine.clients(2 ** 31 - 1);
  const clients = clientList.map((c, i): ClientRow => ({
    index: i, address: c.address, ageS: Math.max(0, Math.floor((nowMs - c.lastSeenMs) / 1000)),
    server: c.server, connects: c.connects, sx: c.sx, rx: c.rx,
  }));
  const conns: NativeConnection[] = src.engine.connections();
  const connections = conns.map((c): ConnectionRow => ({
    id: c.id, downfd: c.downfd, upfd: c.upfd, pendingDown: c.pendingDown, pendingUp: c.pendingUp,
    client: c.clientIndex >= 0 ? c.clientIndex : c.client, server: c.server,
  }));
  return {
    time: stamp(now), current: st.current, servers, clientsMax: s.clientsMax, clients,
    connMax: s.connMax, used: st.active, last: conns.reduce((m, c) => Math.max(m, c.id), 0), connections,
    accessLog: src.accessLogStats?.() ?? null, acceptedByWorker: st.acceptedByWorker,
    fds: { limit: st.fdLimit, budget: st.fdBudget, inUse: st.fdsInUse },
    transparent: { on: s.transparent, failures: st.transparentFailures },
    dummy: { on: s.dummy, answers: st.dummyAnswers }, idlers: { current: st.idlers, wanted: s.idlers },
    socketIo: { batched: st.ioBatched, workers: st.acceptedByWorker.length, plainWhy: st.ioPlainWhy },
  };
}

/** Whether the access-log counters are worth a line (a log is set, or something was lost). */
export function showsAccessLog(a: AccessLogStats | null): a is AccessLogStats {
  return a !== null && (a.destination !== null || a.written + a.dropped + a.failed > 0);
}

/** "Descriptors: 12 in use of 19872 for connections (limit 20000, 128 kept for the control plane)". */
export function descriptorsLine(v: StatsView): string {
  return `Descriptors: ${v.fds.inUse} in use of ${v.fds.budget} for connections ` +
    `(limit ${v.fds.limit}, ${v.fds.limit - v.fds.budget} kept for the control plane)`;
}

/** Whether the transparent line is worth showing (it is on, or it failed while it was). */
export function showsTransparent(v: StatsView): boolean {
  return v.transparent.on || v.transparent.failures > 0;
}

/** "Transparent: on, 3 failed binds to a client's address (those connections went out from pen's own)". */
export function transparentLine(v: StatsView): string {
  return `Transparent: ${v.transparent.on ? 'on' : 'off'}, ${v.transparent.failures} failed binds to a client's address ` +
    "(those connections went out from pen's own)";
}

/** "2 workers, clients accepted: 510, 498" (workers N: how the kernel spread the clients). */
export function workersLine(v: StatsView): string {
  return `${v.acceptedByWorker.length} workers, clients accepted: ${v.acceptedByWorker.join(', ')}`;
}

/** Whether the socket I/O line applies (TCP workers; UDP has its own batching). */
export function showsSocketIo(v: StatsView): boolean {
  return v.socketIo.batched > 0 || v.socketIo.plainWhy !== '';
}

/**
 * "Socket I/O: batched with io_uring, 2 of 2 workers" or "Socket I/O: one system call per
 * read and per write (event backend epoll chosen)".
 */
export function socketIoLine(v: StatsView): string {
  const { batched, workers, plainWhy } = v.socketIo;
  if (batched === workers) return `Socket I/O: batched with io_uring, ${batched} of ${workers} workers`;
  return `Socket I/O: one system call per read and per write on ${workers - batched} of ${workers} workers (${plainWhy})`;
}

/** "Dummy server on, 12 answers" (`dummy`). */
export function dummyLine(v: StatsView): string {
  return `Dummy server ${v.dummy.on ? 'on' : 'off'}, ${v.dummy.answers} answers`;
}

/** "Idlers: 2 open or connecting, 2 wanted" (`idlers N`). */
export function idlersLine(v: StatsView): string {
  return `Idlers: ${v.idlers.current} open or connecting, ${v.idlers.wanted} wanted`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const HEAD = (cells: string[]): string =>
  `<tr>\n${cells.map((c) => `<td bgcolor="#80f080">${c}</td>\n`).join('')}</tr>\n`;
const ROW = (cells: (string | number | bigint)[]): string =>
  `<tr>\n${cells.map((c) => `<td>${typeof c === 'string' ? escapeHtml(c) : String(c)}</td>\n`).join('')}</tr>\n`;
const TABLE = '<table bgcolor="#c0c0c0">\n';

/** Pen's HTML status page. */
export function renderWebStats(v: StatsView): string {
  let out = '<html>\n<head>\n<title>Pen status page</title>\n</head>\n' +
    '<body bgcolor="#ffffff"><h1>Pen status page</h1>\n' +
    `Time ${v.time}, ${v.servers.length} servers, ${v.current} current<p>\n`;
  out += TABLE + HEAD(['server', 'address', 'status', 'port', 'connections', 'max soft', 'max hard',
    'sent', 'received', 'weight', 'prio']);
  for (const s of v.servers) {
    out += ROW([s.index, s.address, s.status, s.port, s.conn, s.maxc, s.hard, s.sx, s.rx, s.weight, s.prio]);
  }
  out += '</table>\n';
  out += `<h2>Active clients</h2>Max number of clients: ${v.clientsMax}<p>` + TABLE +
    HEAD(['client', 'address', 'age(secs)', 'last server', 'connects', 'sent', 'received']);
  for (const c of v.clients) out += ROW([c.index, c.address, c.ageS, c.server, c.connects, c.sx, c.rx]);
  out += '</table>\n';
  out += `<h2>Active connections</h2>Number of connections: ${v.connMax} max, ${v.used} used, ${v.last} last<p>` +
    TABLE + HEAD(['connection', 'downfd', 'upfd', 'pending data down', 'pending data up', 'client', 'server']);
  for (const c of v.connections) out += ROW([c.id, c.downfd, c.upfd, c.pendingDown, c.pendingUp, c.client, c.server]);
  out += '</table>\n';
  if (v.servers.some((s) => s.dsr !== null)) {
    out += '<h2>Direct Server Return</h2>' + TABLE + HEAD(['server', 'address', 'frames', 'bytes']);
    for (const s of v.servers) if (s.dsr) out += ROW([s.index, s.address, s.dsr.frames, s.dsr.bytes]);
    out += '</table>\n';
  }
  if (v.dummy.on || v.dummy.answers > 0n) out += `<h2>Dummy server</h2>${dummyLine(v)}<p>\n`;
  if (v.idlers.wanted > 0 || v.idlers.current > 0) out += `<h2>Idlers</h2>${idlersLine(v)}<p>\n`;
  if (v.acceptedByWorker.length > 1) out += `<h2>Workers</h2>${workersLine(v)}<p>\n`;
  if (showsAccessLog(v.accessLog)) {
    const a = v.accessLog;
    out += `<h2>Access log</h2>${escapeHtml(a.destination ?? 'none')}: ${a.written} written, ` +
      `${a.dropped} dropped, ${a.failed} failed<p>\n`;
  }
  // pen's own lines, after Pen's page: what the descriptor budget allows and holds; transparent.
  out += `${descriptorsLine(v)}<p>\n`;
  if (showsSocketIo(v)) out += `${escapeHtml(socketIoLine(v))}<p>\n`;
  if (showsTransparent(v)) out += `${escapeHtml(transparentLine(v))}<p>\n`;
  return out + '</body>\n</html>\n';
}
