// The MapDepot API as the pages use it: the public routes only, the token from session storage (issue #11).
"use strict";

const MapDepot = {
  token() { return sessionStorage.getItem("mapdepot.token") || ""; },
  setToken(token) { sessionStorage.setItem("mapdepot.token", token); },
  signOut() { sessionStorage.removeItem("mapdepot.token"); sessionStorage.removeItem("mapdepot.scopes"); },
  setScopes(scopes) { sessionStorage.setItem("mapdepot.scopes", JSON.stringify(scopes)); },
  /// What the signed-in token may do (`GET /tokens/self` at sign-in).
  may(scope) { return JSON.parse(sessionStorage.getItem("mapdepot.scopes") || "[]").includes(scope); },

  /// A URL with the token as query parameter: for what the browser fetches by itself (tiles, EventSource, links).
  withToken(path) { return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(this.token()); },

  /// Calls the API; a 4xx/5xx becomes an Error whose message is the server's `message`, 401 and 403 said plainly.
  async call(method, path, body) {
    const init = { method, headers: { "x-api-key": this.token() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
    if (!response.ok) {
      let message = (json && json.message) || text || response.statusText;
      if (response.status === 401) message = "The token is missing, unknown or expired: sign in again. (" + message + ")";
      if (response.status === 403) message = "This token may not do that: " + message;
      const error = new Error(message);
      error.status = response.status;
      error.body = json;
      throw error;
    }
    return json;
  },

  /// Bytes of a file behind the token (replica zips).
  async bytes(url) {
    const response = await fetch(url, { headers: { "x-api-key": this.token() } });
    if (!response.ok) throw new Error("download of " + url + " failed: HTTP " + response.status);
    return new Uint8Array(await response.arrayBuffer());
  },

  formatBytes(bytes) {
    if (bytes < 1024) return bytes + " B";
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let value = bytes / 1024, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(value < 10 ? 1 : 0) + " " + units[unit];
  },

  formatSeconds(seconds) {
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  },

  /// What the signed-in pages share: `$` by id, `status` (the page's status line), and the sign-out button wired.
  page() {
    const $ = (id) => document.getElementById(id);
    $("signout").addEventListener("click", () => { this.signOut(); window.location.assign("index.html"); });
    return { $, status: (text) => { $("page-status").textContent = text; } };
  },

  /// Sends a page without a token to the sign-in page.
  requireToken() {
    if (!this.token()) window.location.replace("index.html?next=" + encodeURIComponent(window.location.pathname.split("/").pop()));
  },

  element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child));
    return node;
  },
};
