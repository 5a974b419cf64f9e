// A Node HTTP server that speaks releasegate's process protocol (docs/local-target.md,
// "The process protocol"): the tested example for servers in any language.
//
//   fd 3                     the shared listening socket (LISTEN_FDS=1); accept only after `admit`
//   RELEASEGATE_PROBE_FD     a private listening socket: serve it at once (the health check)
//   RELEASEGATE_CONTROL_FD   a pipe of commands, one per line: admit, quiesce,
//                            maintenance on SECONDS, maintenance off; its end = shut down
//   SIGTERM                  finish the requests in flight, then exit
'use strict';
const http = require('http');
const net = require('net');

const version = process.env.APP_VERSION || '0.0.0';
const probeFd = process.env.RELEASEGATE_PROBE_FD;
const controlFd = process.env.RELEASEGATE_CONTROL_FD;
let admitted = false;
let quiesced = false;
let maintenance = false;
let retryAfter = 120;

function handle(req, res) {
  const headers = { 'content-type': 'application/json', 'x-app-version': version };
  // once quiesced, every response closes its connection: clients move to the new version
  if (quiesced) headers.connection = 'close';
  if (maintenance && req.socket.server !== probe) {
    res.writeHead(503, { ...headers, 'retry-after': String(retryAfter) });
    res.end('{"error": "down for maintenance"}');
  } else if (req.url === '/monitoring/health') {
    res.writeHead(200, headers);
    res.end('{"status": "ok"}');
  } else if (req.url === '/monitoring/version') {
    res.writeHead(200, headers);
    res.end(JSON.stringify({ version }));
  } else {
    res.writeHead(404, headers);
    res.end('{"error": "not found"}');
  }
}

const shared = http.createServer(handle);
let ended = false; // stopped listening and every connection has ended
let terminating = false;
shared.on('close', () => {
  ended = true;
  if (terminating) process.exit(0);
});
const probe = probeFd ? http.createServer(handle) : null;

function admit() {
  if (admitted || quiesced) return;
  admitted = true;
  shared.listen({ fd: 3 });
}

function quiesce() {
  quiesced = true;
  // stop accepting only: http's own close() would also drop idle keep-alive connections,
  // and a client that sends on one in that instant gets a reset
  if (admitted) net.Server.prototype.close.call(shared);
}

function shutdown() {
  quiesce();
  if (probe) net.Server.prototype.close.call(probe);
  // exit once every connection has ended by itself: used once more (answered with
  // Connection: close) or idle past keepAliveTimeout; closing idle ones now would race
  // a client sending on them (the supervisor SIGKILLs after drain_timeout)
  terminating = true;
  if (!admitted || ended) process.exit(0);
}

function command(line) {
  const words = line.trim().split(/\s+/);
  if (words[0] === 'admit') admit();
  else if (words[0] === 'quiesce') quiesce();
  else if (words[0] === 'maintenance') {
    maintenance = words[1] === 'on';
    if (words[2]) retryAfter = Number(words[2]);
  }
}

process.on('SIGTERM', shutdown);
if (probe) probe.listen({ fd: Number(probeFd) });
if (controlFd) {
  const control = new net.Socket({ fd: Number(controlFd), readable: true, writable: false });
  let buffer = '';
  control.setEncoding('utf8');
  control.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      command(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  control.on('end', shutdown); // the supervisor is gone
} else {
  admit(); // run by hand: serve fd 3 at once
}
