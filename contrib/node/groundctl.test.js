// SPDX-License-Identifier: MIT
// Tests for groundctl.js against real child processes, real sockets on 127.0.0.1 and real signals.
// Run with: node --test contrib/node/
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { test } = require('node:test');

const kHelper = path.join(__dirname, 'groundctl.js');
const kWsPath = path.join(__dirname, '../../tests/fixtures/app/node_modules/ws');
const kDeadlineMs = 10000;

let WebSocket = null;
try {
  WebSocket = require(kWsPath);
} catch {
  // The WebSocket tests are skipped; `npm install` in tests/fixtures/app runs them.
}

// The app under test. TEST_CFG picks the options; it reports on stdout, one event per line.
const kChild = `
const groundctl = require(${JSON.stringify(kHelper)});
const cfg = JSON.parse(process.env.TEST_CFG || '{}');
const whenDraining = (fn) => {
  const timer = setInterval(() => {
    if (groundctl.isDraining()) { clearInterval(timer); fn(); }
  }, 5);
};
const handler = (req, res) => {
  if (req.url === '/hold') {  // answers only once the drain has begun
    process.stdout.write('held\\n');
    whenDraining(() => res.end('held-done'));
  } else if (req.url === '/stream') {  // headers (keep-alive) go out before the drain begins
    res.write('part1,');
    process.stdout.write('streaming\\n');
    whenDraining(() => res.end('part2'));
  } else if (req.url === '/hang') {  // never answers
    process.stdout.write('hanging\\n');
  } else {
    res.end('hello');
  }
};
const server = cfg.passHandler ? null : require('http').createServer(handler);
let wss;
if (cfg.ws) {
  const { WebSocketServer } = require(${JSON.stringify(kWsPath)});
  wss = new WebSocketServer({ server, path: '/ws' });
}
const listening = groundctl.listen(server || handler, {
  port: 0, host: '127.0.0.1', name: cfg.name, wss: cfg.passWss ? wss : undefined,
  idleGraceMs: cfg.idleGraceMs, timeoutMs: cfg.timeoutMs ?? 60000,
  onDrain: () => process.stdout.write('onDrain\\n'),
});
// Node's own idle timeout (5 s) would otherwise hide a drain that leaves idle sockets open.
listening.keepAliveTimeout = 60000;
// Registered after the helper's handlers, so it runs once the drain has started.
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.stdout.write('draining\\n'));
listening.on('listening', () => {
  const env = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'].filter((k) => k in process.env);
  const port = listening.address().port;
  process.stdout.write('listening ' + JSON.stringify({ port, env }) + '\\n');
});
`;

// Starts the child app; kills it when the test ends if it is still running.
// `inherit` lists net.Servers whose listening sockets become the child's fds 3, 4, ...
function startChild(t, { cfg = {}, env = {}, inherit = [] } = {}) {
  const child = spawn(process.execPath, ['-e', kChild], {
    // spawn() accepts a bare fd, not a net.Server; _handle.fd is the listening socket's fd.
    stdio: ['ignore', 'pipe', 'pipe', ...inherit.map((s) => s._handle.fd), 'ipc'],
    env: { ...process.env, ...env, TEST_CFG: JSON.stringify(cfg) },
  });
  const lines = [];
  const messages = [];
  let waiters = [];
  const notify = () => { waiters = waiters.filter((w) => !w()); };
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    lines.push(...parts);
    notify();
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  child.on('message', (m) => { messages.push(m); notify(); });
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  // Resolves with the first stdout line or IPC message that matches; fails at the deadline.
  const waitFor = (list, match, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`));
    }, kDeadlineMs);
    const check = () => {
      const found = list.find(match);
      if (found === undefined) return false;
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    if (!check()) waiters.push(check);
  });
  return {
    child,
    waitLine: (prefix) => waitFor(lines, (l) => l.startsWith(prefix), `line "${prefix}"`),
    waitMessage: (m) => waitFor(messages, (x) => x === m, `message ${m}`),
    listening: async () => {
      const line = await waitFor(lines, (l) => l.startsWith('listening '), 'listening');
      return JSON.parse(line.slice('listening '.length));
    },
    exit: () => withDeadline(exited, 'child exit'),
    lines,
  };
}

function withDeadline(promise, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), kDeadlineMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function listeningSocket() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function get(port, urlPath, agent) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

// A raw keep-alive connection, so the test sees exactly when the server closes it.
async function rawConnection(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffered = '';
  let waiter = null;
  socket.setEncoding('utf8').on('data', (c) => { buffered += c; if (waiter) waiter(); });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  return {
    closed: () => withDeadline(closed, 'connection close'),
    // Sends one request and resolves with the raw response (the child answers 'hello').
    request: (urlPath) => withDeadline(new Promise((resolve) => {
      buffered = '';
      waiter = () => {
        if (!buffered.endsWith('\r\n\r\nhello')) return;
        waiter = null;
        resolve(buffered);
      };
      socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    }), 'response'),
  };
}

test('listens on inherited fd 3, reports ready over IPC and scrubs LISTEN_*', async (t) => {
  const inherited = await listeningSocket();
  const inheritedPort = inherited.address().port;
  const app = startChild(t, {
    env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' },
    inherit: [inherited],
  });
  inherited.close();  // the child holds its own copy, as it would of groundctl's socket
  const info = await app.listening();
  assert.equal(info.port, inheritedPort);
  assert.deepEqual(info.env, []);
  await app.waitMessage('ready');
  assert.equal((await get(info.port, '/', false)).body, 'hello');
  app.child.kill('SIGTERM');
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
});

test('serves the port of the inherited socket, picking it by LISTEN_FDNAMES', async (t) => {
  const first = await listeningSocket();
  const second = await listeningSocket();
  const ports = [first.address().port, second.address().port];
  const app = startChild(t, {
    cfg: { name: 'api' },
    env: { LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:api' },
    inherit: [first, second],
  });
  first.close();
  second.close();
  assert.equal((await app.listening()).port, ports[1]);
  assert.equal((await get(ports[1], '/', false)).body, 'hello');
  app.child.kill('SIGTERM');
  assert.equal((await app.exit()).code, 0);
});

test('ignores LISTEN_FDS meant for another pid and listens on the port instead', async (t) => {
  const inherited = await listeningSocket();
  const inheritedPort = inherited.address().port;
  const app = startChild(t, {
    env: { LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
    inherit: [inherited],
  });
  inherited.close();
  const info = await app.listening();
  assert.notEqual(info.port, inheritedPort);
  assert.deepEqual(info.env, []);
  app.child.kill('SIGTERM');
  assert.equal((await app.exit()).code, 0);
});

test('an in-flight keep-alive request gets its full response with Connection: close', async (t) => {
  const app = startChild(t);
  const { port } = await app.listening();
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const pending = get(port, '/hold', agent);
  await app.waitLine('held');
  app.child.kill('SIGTERM');
  const res = await withDeadline(pending, 'held response');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'held-done');
  assert.equal(res.headers.connection, 'close');
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
  assert.ok(app.lines.includes('onDrain'));
});

test('a keep-alive response streaming when the drain begins closes its socket', async (t) => {
  // Neither the idle grace nor the timeout can close the socket before the test deadline.
  const app = startChild(t, { cfg: { idleGraceMs: 60000, timeoutMs: 60000 } });
  const { port } = await app.listening();
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const pending = get(port, '/stream', agent);
  await app.waitLine('streaming');
  app.child.kill('SIGTERM');
  const res = await withDeadline(pending, 'streamed response');
  assert.equal(res.body, 'part1,part2');
  assert.equal(res.headers.connection, 'keep-alive');
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
});

test('idle keep-alive sockets are answered during the grace period, then closed', async (t) => {
  // timeoutMs is far beyond the test deadline: only the idle handling can let the child exit.
  const app = startChild(t, { cfg: { idleGraceMs: 2000, timeoutMs: 60000 } });
  const { port } = await app.listening();
  const late = await rawConnection(port);
  const idle = await rawConnection(port);
  assert.match(await late.request('/'), /connection: keep-alive/i);
  assert.match(await idle.request('/'), /connection: keep-alive/i);
  app.child.kill('SIGTERM');
  await app.waitLine('draining');
  // A request that arrives on an idle socket after the drain began is still served.
  assert.match(await late.request('/'), /connection: close/i);
  await late.closed();
  await idle.closed();
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
});

test('the timeout force-closes requests that never finish', async (t) => {
  const app = startChild(t, { cfg: { timeoutMs: 300 } });
  const { port } = await app.listening();
  const pending = get(port, '/hang', false).then(() => 'answered', (err) => err.code);
  await app.waitLine('hanging');
  app.child.kill('SIGTERM');
  assert.equal(await withDeadline(pending, 'hung request'), 'ECONNRESET');
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
  assert.ok(app.lines.includes('onDrain'));
});

test('SIGINT drains too, and a bare request handler is accepted', async (t) => {
  const app = startChild(t, { cfg: { passHandler: true } });
  const { port } = await app.listening();
  assert.equal((await get(port, '/', false)).body, 'hello');
  app.child.kill('SIGINT');
  assert.deepEqual(await app.exit(), { code: 0, signal: null });
  assert.ok(app.lines.includes('onDrain'));
});

for (const passWss of [true, false]) {
  const how = passWss ? 'through the given ws.Server' : 'on tracked upgraded sockets';
  const skip = !WebSocket && 'ws not installed';
  test(`WebSockets are closed with 1001 ${how}`, { skip }, async (t) => {
    const app = startChild(t, { cfg: { ws: true, passWss } });
    const { port } = await app.listening();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    t.after(() => ws.terminate());
    const opened = new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await withDeadline(opened, 'open');
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    app.child.kill('SIGTERM');
    assert.equal(await withDeadline(closed, 'ws close'), 1001);
    assert.deepEqual(await app.exit(), { code: 0, signal: null });
  });
}
