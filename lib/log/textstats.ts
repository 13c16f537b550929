// The USR1 text report (spec/logging-tools.md §6), used when no -w file is set: one message
// per block, in Pen's order and wording, sent through the debug channel (stderr in the
// foreground, syslog as a daemon). The client blocks print what Pen meant to print (its
// format arguments were garbled, quirk 49): address, age, last server, connects, bytes
// sent to and received from the client. An "Access log" block follows when a request log
// is configured or lost anything.
import { descriptorsLine, showsAccessLog, workersLine, type StatsView } from './webstats.js';

export function renderTextStats(v: StatsView): string[] {
  const out = [`Time ${v.time}, ${v.servers.length} servers, ${v.current} current`];
  for (const s of v.servers) {
    out.push(`Server ${s.index} status:\naddress ${s.address}\n${s.status}\nport ${s.port}\n` +
      `${s.conn} connections (${s.maxc} soft, ${s.hard} hard)\n${s.sx} sent, ${s.rx} received`);
  }
  out.push(`Max number of clients: ${v.clientsMax}`, 'Active clients:');
  for (const c of v.clients) {
    out.push(`Client ${c.index} status:\naddress ${c.address}\nage ${c.ageS} seconds\nlast server ${c.server}\n` +
      `connects ${c.connects}\nsent ${c.sx}\nreceived ${c.rx}`);
  }
  out.push(`Max number of connections: ${v.connMax}`, 'Active connections:');
  for (const c of v.connections) {
    out.push(`Connection ${c.id} status:\ndownfd = ${c.downfd}, upfd = ${c.upfd}\n` +
      `pending data ${c.pendingDown} down, ${c.pendingUp} up\nclient ${c.client}, server ${c.server}`);
  }
  if (v.acceptedByWorker.length > 1) out.push(`Workers: ${workersLine(v)}`);
  if (showsAccessLog(v.accessLog)) {
    const a = v.accessLog;
    out.push(`Access log ${a.destination ?? 'none'}: ${a.written} written, ${a.dropped} dropped, ${a.failed} failed`);
  }
  out.push(descriptorsLine(v));
  return out;
}
