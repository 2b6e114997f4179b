'use strict';
// Money after the payment with the official omise-node SDK (1.1.0, unmodified, default hosts)
// against a live paylinks server: a card charge refunded in part, its refunds listed and one
// retrieved, a refund beyond what is left refused; an authorization captured, a second capture
// refused; an authorization reversed. Run by tests/compat/test_node_sdk.py like links.js; prints
// one JSON document of what the SDK returned.

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const omise = require('omise')({
  secretKey: requireEnv('PAYLINKS_SECRET_KEY'),
  publicKey: requireEnv('PAYLINKS_PUBLIC_KEY'),
  omiseVersion: '2019-05-29',
});

function settle(promise) {
  return promise.then(
    (value) => ({ fulfilled: true, value }),
    (reason) => ({ fulfilled: false, reason }),
  );
}

async function cardCharge(amount, capture) {
  const token = await omise.tokens.create({
    card: {
      name: 'Somchai Jaidee',
      number: '4242424242424242',
      expiration_month: 12,
      expiration_year: 2035,
      security_code: '123',
    },
  });
  return omise.charges.create({ amount, currency: 'thb', card: token.id, capture });
}

async function main() {
  const out = {};

  const paid = await cardCharge(100000, true);
  out.paid = paid;
  out.refund = await omise.charges.createRefund(paid.id, { amount: 40000 });
  out.refunds = await omise.charges.listRefunds(paid.id);
  out.retrieved_refund = await omise.charges.retrieveRefund(paid.id, out.refund.id);
  out.too_much = await settle(omise.charges.createRefund(paid.id, { amount: 60001 }));
  out.after_refund = await omise.charges.retrieve(paid.id);

  const held = await cardCharge(50000, false);
  out.held = held;
  out.captured = await omise.charges.capture(held.id);
  out.captured_again = await settle(omise.charges.capture(held.id));

  const released = await cardCharge(50000, false);
  out.reversed = await omise.charges.reverse(released.id);

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  console.error('money.js failed:', error instanceof Error ? error.stack : JSON.stringify(error));
  process.exitCode = 1;
});
