// SPDX-License-Identifier: MIT
// groundctl drain helper: listen on the socket groundctl (or systemd) passes in, report readiness,
// and drain on SIGTERM/SIGINT so a reload loses no request. Dependency-free; see
// docs/drain-contract.md for the contract this implements.
'use strict';

const http = require('http');
const net = require('net');
const tls = require('tls');

const kCloseFrame1001 = Buffer.from([0x88, 19, 0x03, 0xe9, ...Buffer.from('server going away')]);
const drainers = [];
const hookedSignals = new Set();
let inheritedFds = null;
let draining = false;
let readySent = false;

// Read once, then scrub: a second server in this process must still find the fds, but children
// (workers, shell-outs) must not believe the sockets are theirs.
function takeInheritedFds() {
  if (inheritedFds) return inheritedFds;
  const { LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES } = process.env;
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDNAMES;
  inheritedFds = [];
  const count = Number(LISTEN_FDS);
  if (!Number.isInteger(count) || count <= 0) return inheritedFds;
  // A LISTEN_PID for another process means we inherited a parent's environment, not its sockets.
  // It may be unset because a supervisor that spawns without fork() cannot know the child's pid.
  if (LISTEN_PID && Number(LISTEN_PID) !== process.pid) {
    process.emitWarning(`ignoring LISTEN_FDS: LISTEN_PID ${LISTEN_PID} is not ${process.pid}`);
    return inheritedFds;
  }
  const names = (LISTEN_FDNAMES || '').split(':');
  for (let i = 0; i < count; i++) {
    inheritedFds.push({ fd: 3 + i, name: names[i] || '', used: false });
  }
  return inheritedFds;
}

// Tells the supervisor (groundctl or PM2 with ready = "ipc" / wait_ready) that we serve traffic.
function ready() {
  if (readySent || draining) return;
  readySent = true;
  if (typeof process.send !== 'function' || !process.connected) return;
  // Without a callback a send error is thrown as an 'error' event on process.
  process.send('ready', (err) => {
    if (err) process.emitWarning(`groundctl: ready not sent: ${err.message}`);
  });
}

function track(d) {
  const { server, sockets, upgraded } = d;
  // https servers report the TLS socket (the one req.socket is) on 'secureConnection'.
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket) => {
    sockets.set(socket, 0);
    socket.once('close', () => {
      sockets.delete(socket);
      upgraded.delete(socket);
      if (d.check) d.check();
    });
  });
  // Prepended so the header is set before the app's handler can send the response.
  server.prependListener('request', (req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    const socket = req.socket;
    if (!sockets.has(socket)) return;
    sockets.set(socket, sockets.get(socket) + 1);
    d.responses.add(res);
    let done = false;
    const onDone = () => {
      if (done) return;
      done = true;
      d.responses.delete(res);
      if (!sockets.has(socket)) return;
      const inFlight = sockets.get(socket) - 1;
      sockets.set(socket, inFlight);
      // Covers responses whose headers went out before the drain began, still saying keep-alive.
      if (draining && inFlight === 0) socket.destroySoon();
    };
    res.once('finish', onDone);
    res.once('close', onDone);
  });
  // Listening for 'upgrade' makes Node hand upgrade requests to listeners instead of rejecting
  // them, so only watch upgrades once the app itself (e.g. ws) listens for them.
  const onUpgrade = (req, socket) => upgraded.add(socket);
  if (server.listenerCount('upgrade') > 0) server.prependListener('upgrade', onUpgrade);
  else server.on('newListener', function watch(event) {
    if (event !== 'upgrade') return;
    server.removeListener('newListener', watch);
    server.prependListener('upgrade', onUpgrade);
  });
}

function drainServer(d) {
  const { server, opts, sockets, upgraded } = d;
  return new Promise((resolve) => {
    // http.Server#close() also drops idle keep-alive sockets at once (Node >= 19), which races a
    // request already on the wire; net's close only stops accepting. Other instances keep
    // accepting on the shared socket, which stays open in the supervisor.
    if (server.listening) net.Server.prototype.close.call(server);
    for (const res of d.responses) if (!res.headersSent) res.setHeader('Connection', 'close');
    if (opts.wss) for (const ws of opts.wss.clients) ws.close(1001, 'server going away');
    else for (const socket of upgraded) socket.end(kCloseFrame1001);
    // Idle keep-alive sockets get a short grace so a request already sent is still answered.
    const grace = setTimeout(() => {
      for (const [socket, inFlight] of sockets) {
        if (inFlight === 0 && !upgraded.has(socket)) socket.destroy();
      }
    }, opts.idleGraceMs ?? 500);
    const force = setTimeout(() => {
      for (const socket of sockets.keys()) socket.destroy();
    }, opts.timeoutMs ?? 25000);
    d.check = () => {
      if (sockets.size > 0) return;
      clearTimeout(grace);
      clearTimeout(force);
      resolve();
    };
    d.check();
  });
}

// Stops accepting, lets in-flight work finish, closes everything, runs onDrain, exits.
function drain() {
  if (draining) return;
  draining = true;
  Promise.all(drainers.map(drainServer))
    .then(() => Promise.all(drainers.map((d) => d.opts.onDrain && d.opts.onDrain())))
    .then(() => 0, (err) => {
      console.error('groundctl: onDrain failed:', err);
      return 1;
    })
    .then((code) => {
      // exit() would close the IPC channel too; closing it first keeps the stop from depending on
      // it should exit ever be deferred (an open channel with listeners keeps Node alive).
      if (process.connected) process.disconnect();
      process.exit(code);
    });
}

// Listens on the inherited socket (LISTEN_FDS) or opts.port/opts.host, sends 'ready' once every
// registered server listens (unless opts.ready === false), and drains on opts.signals.
// `server` may be an http(s).Server or a request handler such as an Express app.
function listen(server, opts = {}) {
  if (typeof server === 'function') server = http.createServer(server);
  const fds = takeInheritedFds();
  const fd = opts.name === undefined ? fds.find((f) => !f.used)
    : fds.find((f) => !f.used && f.name === opts.name);
  if (opts.name !== undefined && fds.length > 0 && !fd) {
    throw new Error(`groundctl: no inherited socket named "${opts.name}" in LISTEN_FDNAMES`);
  }
  // sockets: socket -> requests in flight on it; responses: those not finished yet.
  const d = { server, opts, sockets: new Map(), upgraded: new Set(), responses: new Set() };
  drainers.push(d);
  track(d);
  for (const signal of opts.signals ?? ['SIGTERM', 'SIGINT']) {
    if (!hookedSignals.has(signal)) process.on(signal, drain);
    hookedSignals.add(signal);
  }
  server.once('listening', () => {
    if (drainers.every((x) => x.opts.ready !== false && x.server.listening)) ready();
  });
  if (fd) {
    fd.used = true;
    server.listen({ fd: fd.fd });
  } else {
    const port = opts.port === undefined ? undefined : Number(opts.port);
    server.listen({ port, host: opts.host });
  }
  return server;
}

module.exports = { listen, ready, drain, isDraining: () => draining };
