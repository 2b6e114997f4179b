/*
 * paylinks' offline Omise.js: the calls a payment page makes to Omise.js, answered by the
 * paylinks server this file was loaded from instead of Omise's vault, so that a page written
 * against Omise.js runs in tests and on a laptop with no internet. Test keys only: paylinks
 * refuses live cards and live keys here, as its vault does.
 *
 *   <script src="http://127.0.0.1:8000/omise.js"></script>
 *   Omise.setPublicKey("pkey_test_…");
 *   Omise.createToken("card", {name, number, expiration_month, expiration_year, security_code},
 *                     function (statusCode, response) { … response.id is tokn_test_… });
 *   Omise.createSource("promptpay", {amount, currency}, function (statusCode, response) { … });
 *
 * As Omise.js does, the callback gets the HTTP status and the parsed answer: the token or
 * source, or an Omise error object ({object: "error", code, message}).
 */
(function (window) {
  "use strict";
  var script = document.currentScript;
  var vault = script ? new URL(script.src).origin : window.location.origin;
  var publicKey = null;

  function post(path, body, callback) {
    if (!publicKey) {
      callback(0, { object: "error", code: "missing_key", message: "call Omise.setPublicKey first" });
      return;
    }
    fetch(vault + path, {
      method: "POST",
      headers: {
        "Authorization": "Basic " + window.btoa(publicKey + ":"),
        "Content-Type": "application/json"
      },
      body: JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().then(function (parsed) { callback(answer.status, parsed); });
    }).catch(function (problem) {
      callback(0, { object: "error", code: "network_error", message: String(problem) });
    });
  }

  window.Omise = {
    setPublicKey: function (key) { publicKey = key; },
    createToken: function (kind, details, callback) {
      if (kind !== "card") {
        callback(0, { object: "error", code: "invalid_type", message: "only 'card' tokens" });
        return;
      }
      post("/tokens", { card: details }, callback);
    },
    createSource: function (type, details, callback) {
      var body = { type: type };
      for (var name in details) { body[name] = details[name]; }
      post("/sources", body, callback);
    }
  };
})(window);
