"use strict";

// Checks a token (`GET /tokens/self`) before keeping it, and goes to the page it may use.
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("signin-status");
  MapDepot.setToken(document.getElementById("token").value.trim());
  try {
    const self = await MapDepot.call("GET", "/tokens/self");
    MapDepot.setScopes(self.scopes);
    const exports = self.scopes.includes("export");
    if (!exports && !self.scopes.includes("replication:read")) {
      MapDepot.signOut();
      status.textContent = `The token of ${self.subject} may neither export nor read replicas.`;
      return;
    }
    const next = new URLSearchParams(window.location.search).get("next");
    const wanted = next && /^[a-z]+\.html$/.test(next) ? next : "export.html";
    window.location.assign(exports ? wanted : "replication.html");
  } catch (error) {
    MapDepot.signOut();
    status.textContent = error.message;
  }
});
