// Disable a form's buttons once it is sent, so an import that takes a while is not sent
// twice, and say that it is running. A file, not an inline script: the site's
// Content-Security-Policy admits scripts from this origin only.
(function () {
  "use strict";

  var BUTTONS = "input[type=submit], button[type=submit], button:not([type])";

  function disable(form, submitter) {
    form.querySelectorAll(BUTTONS).forEach(function (button) {
      button.disabled = true;
    });
    if (submitter && submitter.tagName === "INPUT" && form.dataset.busyLabel) {
      submitter.dataset.idleLabel = submitter.value;
      submitter.value = form.dataset.busyLabel;
    }
    var note = form.querySelector(".submit-once-note");
    if (note) {
      note.hidden = false;
    }
  }

  function enable(form) {
    delete form.dataset.sent;
    form.querySelectorAll(BUTTONS).forEach(function (button) {
      button.disabled = false;
      if (button.dataset.idleLabel) {
        button.value = button.dataset.idleLabel;
      }
    });
    var note = form.querySelector(".submit-once-note");
    if (note) {
      note.hidden = true;
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-submit-once]")) {
      return;
    }
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "yes";
    // Disabled only once the browser has read the form: a disabled button would be left
    // out of what is sent.
    window.setTimeout(disable, 0, form, event.submitter);
  });

  // Back on this page from the browser's page cache: the form works again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-submit-once]").forEach(enable);
    }
  });
})();
