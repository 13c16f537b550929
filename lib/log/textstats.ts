// The USR1 text report (spec/logging-tools.md §6), used when no -w file is set: one message
// per block, in Pen's order and wording, sent through the debug channel (stderr in the
// foreground, syslog as a daemon). The client blocks print what Pen meant to print (its
// format arguments were garbled, quirk 49): address, age, last server, connects, bytes
// sent to and received from the client. Unlike Pen, a server's state is said in words
// (blacklisted with the seconds left, not a bare epoch) and every server number is followed
// by its address. An "Access log" block follows when a request log is configured or lost anything;
// the dummy server, idlers and DSR counters appear as on the HTML page (webstats.ts).
import { formatEndpoint } from '../config/server-spec.js';
import {
  descriptorsLine, dummyLine, idlersLine, showsAccessLog, showsSocketIo, showsTransparent, socketIoLine, transparentLine,
  workersLine, type StatsView,
} from './webstats.js';

export function renderTextStats(v: StatsView): string[] {
  const out = [`Time ${v.time}, ${v.servers.length} servers, ${v.current} current`];
  for (const s of v.servers) {
    const state = s.status === 0 ? 'not blacklisted'
      : `blacklisted, ${s.blacklistLeftS} s left (failed at ${s.status})`;
    out.push(`Server ${s.index} status:\naddress ${s.address}\n${state}\nport ${s.port}\n` +
      `${s.conn} connections (${s.maxc} soft, ${s.hard} hard)\n${s.sx} sent, ${s.rx} received` +
      (s.dsr ? `\nDSR: ${s.dsr.frames} frames, ${s.dsr.bytes} bytes forwarded` : ''));
  }
  out.push(`Max number of clients: ${v.clientsMax}`, 'Active clients:');
  for (const c of v.clients) {
    out.push(`Client ${c.index} status:\naddress ${c.address}\nage ${c.ageS} seconds\nlast server ${named(v, c.server)}\n` +
      `connects ${c.connects}\nsent ${c.sx}\nreceived ${c.rx}`);
  }
  out.push(`Max number of connections: ${v.connMax}`, 'Active connections:');
  for (const c of v.connections) {
    out.push(`Connection ${c.id} status:\ndownfd = ${c.downfd}, upfd = ${c.upfd}\n` +
      `pending data ${c.pendingDown} down, ${c.pendingUp} up\nclient ${c.client}, server ${named(v, c.server)}`);
  }
  if (v.dummy.on || v.dummy.answers > 0n) out.push(dummyLine(v));
  if (v.idlers.wanted > 0 || v.idlers.current > 0) out.push(idlersLine(v));
  if (v.acceptedByWorker.length > 1) out.push(`Workers: ${workersLine(v)}`);
  if (showsAccessLog(v.accessLog)) {
    const a = v.accessLog;
    out.push(`Access log ${a.destination ?? 'none'}: ${a.written} written, ${a.dropped} dropped, ${a.failed} failed`);
  }
  out.push(descriptorsLine(v));
  if (showsSocketIo(v)) out.push(socketIoLine(v));
  if (showsTransparent(v)) out.push(transparentLine(v));
  return out;
}

/** A server index with its address: "1 (127.0.0.1:8001)"; the emergency (-1) and abuse (-2) servers by role. */
function named(v: StatsView, index: number): string {
  const s = v.servers[index];
  if (s) return `${index} (${formatEndpoint(s.address, s.port)})`;
  if (index === -1) return '-1 (emergency server)';
  if (index === -2) return '-2 (abuse server)';
  return String(index);
}
