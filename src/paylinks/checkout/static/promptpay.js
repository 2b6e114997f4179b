/* The PromptPay QR page: asks this server every few seconds whether the customer's bank has
   paid, and once the charge is no longer pending reloads the page's own address, which then
   shows the result (the receipt, or the form again). Without JavaScript the "Check payment
   status" link does the same by hand. It sends nothing but the question. */
(function () {
  "use strict";

  var waiting = document.querySelector("[data-status-url]");
  if (!waiting || !window.fetch) {
    return;
  }
  var url = waiting.getAttribute("data-status-url");
  var every = 1000 * Number(waiting.getAttribute("data-status-every") || 3);

  function ask() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer && answer.status && answer.status !== "pending") {
          window.location.reload();
        } else {
          window.setTimeout(ask, every);
        }
      })
      .catch(function () {
        window.setTimeout(ask, every * 2); // offline for a moment: ask again, less often
      });
  }

  window.setTimeout(ask, every);
})();
