'use strict';
// The seed document's Node examples, run with the official omise-node SDK (1.1.0, unmodified) and
// its DEFAULT hosts against a live paylinks server. Run by tests/compat/test_node_sdk.py:
//
//   OMISE_SCHEME=http PAYLINKS_PORT=… PAYLINKS_SECRET_KEY=skey_test_… PAYLINKS_PUBLIC_KEY=pkey_test_… \
//     node -r ../../../contrib/node/omise-local.js links.js
//
// Prints one JSON document of what the SDK returned; the Python test checks it against the server.
// Expects a fresh account: list totals and orders are exact.

const http = require('http');

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const MISSING_ID = 'payl_test_' + '0'.repeat(19);

const omise = require('omise')({
  secretKey: requireEnv('PAYLINKS_SECRET_KEY'),
  publicKey: requireEnv('PAYLINKS_PUBLIC_KEY'),
  omiseVersion: '2019-05-29',
});

// A rejected call, as the caller sees it: omise-node rejects with the parsed error object
// (not an Error instance) when the server answers `"object": "error"`.
function settle(promise) {
  return promise.then(
    (value) => ({ fulfilled: true, value }),
    (reason) => ({
      fulfilled: false,
      is_error_instance: reason instanceof Error,
      type: typeof reason,
      reason: reason instanceof Error ? { name: reason.name, message: reason.message } : reason,
    }),
  );
}

async function main() {
  const out = {};

  // "Basic Creation", callback style exactly as in the seed.
  out.basic = await new Promise((resolve, reject) => {
    omise.links.create({
      amount: 100000,
      currency: 'thb',
      title: 'Product Purchase',
      description: 'Premium widget purchase',
      multiple: true,
    }, function(error, link) {
      if (error) {
        reject(error);
      } else {
        resolve(link);
      }
    });
  });

  // "Single-Use Payment Link" with metadata, promise style.
  out.invoice = await omise.links.create({
    amount: 250000,
    currency: 'thb',
    title: 'Invoice #INV-001',
    description: 'Payment for consulting services',
    multiple: false,
    metadata: {
      invoice_id: 'INV-001',
      customer_id: 'CUST-123',
      customer_email: 'customer@example.com',
    },
  });

  // "Multi-Currency Links": Thai text (Content-Length in bytes), and an amount given as a string
  // the way the SDK's own test suite sends amounts.
  out.thai = await omise.links.create({
    amount: '150000',
    currency: 'thb',
    title: 'Thailand Product',
    description: 'สำหรับลูกค้าในประเทศไทย',
    multiple: true,
  });

  // "List All Links": GET with the parameters in the query string.
  out.list_reverse = await omise.links.list({ limit: 2, offset: 0, order: 'reverse_chronological' });
  out.list_offset = await omise.links.list({ limit: 2, offset: 2, order: 'chronological' });
  out.list_default = await omise.links.list();

  // "Get Specific Link", and retrieve() without an id, which lists.
  out.retrieved = await omise.links.retrieve(out.invoice.id);
  out.retrieve_without_id = await omise.links.retrieve();

  out.missing = await settle(omise.links.retrieve(MISSING_ID));
  out.missing_callback = await new Promise((resolve) => {
    omise.links.retrieve(MISSING_ID, (error, link) => resolve({ error, link }));
  });

  const stranger = require('omise')({ secretKey: 'skey_test_' + 'x'.repeat(32), omiseVersion: '2019-05-29' });
  out.bad_key = await settle(stranger.links.list());

  // The seed's omise.links.update(...) does not exist in the SDK (omise-compat §10.1).
  out.update_type = typeof omise.links.update;

  out.requested = http.globalAgent.requested || null;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  console.error('links.js failed:', error instanceof Error ? error.stack : JSON.stringify(error));
  process.exitCode = 1;
});
