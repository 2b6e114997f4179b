/* The payment page's inline validation. The page works without it: the server checks every
   field again and answers with the same messages. Card data never leaves the form except in
   the form post itself; on a live page (data-omise-key) not even there: Omise.js turns the
   card into Omise's token in the browser, and only the token is posted. */
(function () {
  "use strict";

  var form = document.getElementById("pay-form");
  if (!form) {
    return;
  }
  var messages = form.dataset;
  var payButton = document.getElementById("pay-button");
  var promptpayButton = document.getElementById("promptpay-button");
  var payLabel = payButton.textContent;
  var cardFields = ["name", "number", "expiry", "security_code"];

  function digits(value) {
    return value.replace(/[\s-]/g, "");
  }

  function luhnValid(number) {
    var total = 0;
    for (var i = 0; i < number.length; i++) {
      var value = Number(number.charAt(number.length - 1 - i));
      if (i % 2 === 1) {
        value *= 2;
        if (value > 9) {
          value -= 9;
        }
      }
      total += value;
    }
    return total % 10 === 0;
  }

  // [month, year] of an expiry as the customer may type it (MM/YY, M/YYYY, MMYY), or null.
  function expiryParts(text) {
    var match = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(text) || /^(\d{2})(\d{2})$/.exec(text);
    if (!match) {
      return null;
    }
    var year = Number(match[2]);
    return [Number(match[1]), year < 100 ? year + 2000 : year];
  }

  function expiryProblem(value) {
    var text = value.trim();
    if (!text) {
      return messages.errExpiryRequired;
    }
    var parts = expiryParts(text);
    if (!parts) {
      return messages.errExpiryInvalid;
    }
    var month = parts[0];
    var year = parts[1];
    if (month < 1 || month > 12) {
      return messages.errExpiryInvalid;
    }
    // A card is valid through the last day of its month; the server has the final word.
    var now = new Date();
    if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) {
      return messages.errExpiryPast;
    }
    return "";
  }

  var checks = {
    name: function (value) {
      return value.trim() ? "" : messages.errNameRequired;
    },
    number: function (value) {
      var number = digits(value);
      if (!number) {
        return messages.errNumberRequired;
      }
      if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
        return messages.errNumberInvalid;
      }
      return "";
    },
    expiry: expiryProblem,
    security_code: function (value) {
      return /^\d{3,4}$/.test(value.trim()) ? "" : messages.errSecurityCode;
    }
  };

  // A customer-decides amount: checked here as the server will check it, and shown on the
  // button and in the summary as it is typed (only what the eye reads: the server decides).
  var amountInput = form.elements.namedItem("amount");
  var summaryValue = document.querySelector(".summary-value");
  var money = null;
  if (amountInput) {
    var exponent = Number(messages.amountExponent);
    var amountPattern = new RegExp("^\\d+" + (exponent ? "(\\.\\d{1," + exponent + "})?" : "") + "$");
    if (window.Intl) {
      money = new Intl.NumberFormat(messages.locale, {
        style: "currency",
        currency: messages.currency,
        currencyDisplay: "narrowSymbol",
        minimumFractionDigits: exponent,
        maximumFractionDigits: exponent
      });
    }
    checks = Object.assign({
      amount: function (value) {
        var text = value.trim().replace(/,/g, "");
        if (!amountPattern.test(text)) {
          return messages.errAmountInvalid;
        }
        var amount = Number(text);
        if (amount < Number(messages.amountMin) || amount > Number(messages.amountMax)) {
          return messages.errAmountRange;
        }
        return "";
      }
    }, checks);
  }

  // The pay button's words: with the amount as typed, once it is a valid one.
  function restoreLabel() {
    if (!amountInput || !money || checks.amount(amountInput.value)) {
      payButton.textContent = payLabel;
      return;
    }
    var shown = money.format(Number(amountInput.value.trim().replace(/,/g, "")));
    payButton.textContent = messages.payLabel.replace("__AMOUNT__", shown);
    if (summaryValue) {
      summaryValue.textContent = shown;
    }
  }

  if (amountInput) {
    amountInput.addEventListener("input", restoreLabel);
    restoreLabel();
  }

  function show(input, problem) {
    var error = document.getElementById(input.id + "-error");
    var field = input.closest(".field");
    error.textContent = problem;
    if (problem) {
      input.setAttribute("aria-invalid", "true");
      field.classList.add("invalid");
    } else {
      input.removeAttribute("aria-invalid");
      field.classList.remove("invalid");
    }
  }

  function check(name) {
    var input = form.elements.namedItem(name);
    var problem = checks[name](input.value);
    show(input, problem);
    return problem ? input : null;
  }

  function showSummary(text) {
    var alert = document.getElementById("form-alert");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "form-alert";
      alert.className = "alert";
      alert.setAttribute("role", "alert");
      form.parentNode.insertBefore(alert, form);
    }
    alert.textContent = text;
  }

  // Messages come on submit, not on blur: a message appearing as a field loses focus would
  // move what is under the pointer (errors take room only when they say something), and the
  // click that took the focus away would land elsewhere.
  Object.keys(checks).forEach(function (name) {
    var input = form.elements.namedItem(name);
    input.addEventListener("input", function () {
      // Clear a message as soon as the field is fixed; new messages wait for blur or submit.
      if (input.getAttribute("aria-invalid") === "true") {
        check(name);
      }
    });
  });

  // Typing on a phone's number pad: the expiry's "/" comes by itself (iOS's pad has none) and
  // the card's digits fall into groups of four. Only when typing at the end, so that an edit
  // in the middle keeps its caret; deleting is left alone (the "/" can be taken back).
  function formatWhileTyping(input, format) {
    input.addEventListener("input", function (event) {
      var atEnd = input.selectionStart === input.value.length;
      if (!atEnd || (event.inputType && event.inputType.indexOf("delete") === 0)) {
        return;
      }
      input.value = format(input.value);
    });
  }

  formatWhileTyping(form.elements.namedItem("expiry"), function (value) {
    var typed = value.replace(/\D/g, "").slice(0, 6);
    if (typed.length === 1 && typed > "1") {
      typed = "0" + typed; // "4" can only be April
    }
    return typed.length > 2 ? typed.slice(0, 2) + "/" + typed.slice(2) : typed;
  });

  formatWhileTyping(form.elements.namedItem("number"), function (value) {
    return value.replace(/\D/g, "").slice(0, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
  });

  // The brand, named beside the label and marked among the accepted ones, as the number is
  // typed: from the server's own prefixes (data-brands: "Visa:4-4;MasterCard:51-55,...").
  var marks = document.querySelector(".card-marks");
  var brandLabel = document.getElementById("number-brand");
  var prefixes = marks ? marks.dataset.brands.split(";").map(function (entry) {
    var parts = entry.split(":");
    return [parts[0], parts[1].split(",").map(function (range) { return range.split("-"); })];
  }) : [];

  function brandOf(number) {
    for (var i = 0; i < prefixes.length; i++) {
      var ranges = prefixes[i][1];
      for (var j = 0; j < ranges.length; j++) {
        var start = number.slice(0, ranges[j][0].length);
        if (start.length === ranges[j][0].length && start >= ranges[j][0] && start <= ranges[j][1]) {
          return prefixes[i][0];
        }
      }
    }
    return "";
  }

  form.elements.namedItem("number").addEventListener("input", function (event) {
    var brand = brandOf(digits(event.target.value));
    if (brandLabel) {
      brandLabel.textContent = brand;
    }
    if (marks) {
      marks.querySelectorAll("li").forEach(function (item) {
        item.classList.toggle("detected", item.dataset.brand === brand);
      });
    }
  });

  form.elements.namedItem("number").addEventListener("blur", function (event) {
    var number = digits(event.target.value);
    if (/^\d{12,19}$/.test(number)) {
      event.target.value = number.replace(/(\d{4})(?=\d)/g, "$1 ");
    }
  });

  form.noValidate = true; // this script shows the messages instead of the browser
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter === promptpayButton) {
      // PromptPay needs no card: keep whatever was typed out of the post.
      cardFields.forEach(function (name) {
        form.elements.namedItem(name).disabled = true;
      });
      if (amountInput && check("amount")) {
        event.preventDefault();
        cardFields.forEach(function (name) {
          form.elements.namedItem(name).disabled = false;
        });
      }
      return;
    }
    var invalid = Object.keys(checks).map(check).filter(Boolean);
    if (invalid.length) {
      event.preventDefault();
      showSummary(messages.errorsSummary);
      invalid[0].focus();
      return;
    }
    payButton.disabled = true;
    payButton.textContent = messages.processing;
    if (messages.omiseKey) {
      event.preventDefault();
      tokenize(messages.omiseKey);
    }
  });

  function value(name) {
    return form.elements.namedItem(name).value;
  }

  function tokenFailed() {
    showSummary(messages.errCardToken);
    payButton.disabled = false;
    restoreLabel();
  }

  // Live: the card goes to Omise's vault from here; the form posts Omise's token only.
  function tokenize(key) {
    if (!window.Omise) {
      tokenFailed();
      return;
    }
    var expiry = expiryParts(value("expiry").trim());
    window.Omise.setPublicKey(key);
    window.Omise.createToken("card", {
      name: value("name").trim(),
      number: digits(value("number")),
      expiration_month: expiry[0],
      expiration_year: expiry[1],
      security_code: value("security_code").trim()
    }, function (status, answer) {
      if (status === 200 && answer && answer.object === "token") {
        form.elements.namedItem("omise_token").value = answer.id;
        form.submit();
      } else {
        tokenFailed();
      }
    });
  }

  // A page the server answered with errors or a decline: start there, so that a screen reader
  // reads the alert and the keyboard goes on from it (the alert links to each field).
  var served = document.getElementById("form-alert");
  if (served) {
    served.focus();
  }

  // Coming back from the next page (back button) must leave a usable form.
  window.addEventListener("pageshow", function () {
    payButton.disabled = false;
    restoreLabel();
    cardFields.forEach(function (name) {
      form.elements.namedItem(name).disabled = false;
    });
  });
})();
