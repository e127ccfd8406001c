// Passkeys (WebAuthn) for Facturo: buttons carry data-passkey="register|login|second" and the
// URLs to use; the server sends standard JSON options and checks the answer.
(function () {
  "use strict";

  function toBytes(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: json };
  }

  function requestOptions(json) {
    json.challenge = toBytes(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: json };
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    if (credential.authenticatorAttachment) {
      out.authenticatorAttachment = credential.authenticatorAttachment;
    }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var detail = data && data.errors && data.errors[0] ? data.errors[0].detail : response.status;
          throw new Error(detail);
        }
        return data;
      });
    });
  }

  function run(button) {
    var mode = button.dataset.passkey;
    var csrf = button.dataset.csrf;
    var status = document.getElementById(button.dataset.status || "passkey-status");
    var nameField = button.dataset.nameField ? document.getElementById(button.dataset.nameField) : null;
    function say(text) { if (status) { status.textContent = text; } }
    if (!window.PublicKeyCredential) { say(button.dataset.unsupported || "Passkeys are not supported here."); return; }
    button.disabled = true;
    post(button.dataset.options, csrf).then(function (options) {
      if (mode === "register") { return navigator.credentials.create(creationOptions(options)); }
      return navigator.credentials.get(requestOptions(options));
    }).then(function (credential) {
      var body = { credential: credentialJSON(credential), next: button.dataset.next || "" };
      if (nameField) { body.name = nameField.value; }
      return post(button.dataset.verify, csrf, body);
    }).then(function (data) {
      window.location.assign(data.next || button.dataset.done || window.location.pathname);
    }).catch(function (error) {
      button.disabled = false;
      say(error && error.message ? error.message : String(error));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey]");
    if (button) { event.preventDefault(); run(button); }
  });
})();
