'use strict';
// Send the official omise-node SDK to a local paylinks server, without changing the code that uses it.
//
//   OMISE_SCHEME=http PAYLINKS_PORT=8000 node -r /path/to/paylinks/contrib/node/omise-local.js app.js
//
// omise-node 1.1.0 cannot use a custom port: it passes its `host` to http.request and never a
// `port` (omise-compat §1.2). It does pass `agent: undefined` when no `http_proxy` is set, so
// Node uses http.globalAgent. This preload replaces that agent with one whose connections all go
// to 127.0.0.1:$PAYLINKS_PORT (or $PAYLINKS_HOST), whatever host and port were asked for. The
// requests still carry `Host: api.omise.co` (or vault.omise.co), and the default hosts keep
// working. Only plain http is redirected, hence OMISE_SCHEME=http (or `scheme: 'http'`).
//
// Every plain-http request of the process goes to the local server, not only the SDK's: use it
// for development and tests, never in production.

const http = require('http');
const net = require('net');

const target = {
  host: process.env.PAYLINKS_HOST || '127.0.0.1',
  port: Number(process.env.PAYLINKS_PORT || 8000),
};
if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
  throw new Error(`omise-local.js: PAYLINKS_PORT must be a TCP port, got ${process.env.PAYLINKS_PORT}`);
}

// With http_proxy set the SDK would build its own proxy agent and bypass this one.
delete process.env.http_proxy;

class LocalAgent extends http.Agent {
  constructor(options) {
    super(options);
    // Where the SDK meant to connect ("api.omise.co:80"), in order: handy for checking the shim.
    this.requested = [];
  }

  createConnection(options) {
    this.requested.push(`${options.host}:${options.port}`);
    // Returning the socket (and not calling back as well) is the documented way to hand it over.
    return net.createConnection({ host: target.host, port: target.port });
  }
}

http.globalAgent = new LocalAgent({ keepAlive: true });
module.exports = { target, agent: http.globalAgent };
